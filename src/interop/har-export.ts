// record v1 → HAR 1.2 entries that Chrome DevTools, Charles and HAR viewers open. LLM facts go
// in `_llm`, and what HAR has no field for (record id, client, chunk timing, labels, errors,
// body caps) in `_agenttap`, so `agenttap import` of our own HAR gives the records back.
import type { CaptureRecord, HeaderList, RecordBody } from '../capture/record.js';
import { headerValue } from '../capture/record.js';
import type { LlmExchange } from '../llm/types.js';

export const HAR_CREATOR = { name: 'agenttap', version: '0.1.0' };

interface HarNameValue {
  name: string;
  value: string;
}

function nameValues(headers: HeaderList | undefined): HarNameValue[] {
  return (headers ?? []).map(([name, value]) => ({ name, value }));
}

function harHttpVersion(v: string | undefined): string {
  if (!v) return 'HTTP/1.1';
  if (v === '2' || v === '2.0') return 'HTTP/2';
  if (v === '3' || v === '3.0') return 'HTTP/3';
  return `HTTP/${v}`;
}

function queryString(url: string): HarNameValue[] {
  try {
    return [...new URL(url).searchParams].map(([name, value]) => ({ name, value }));
  } catch {
    return [];
  }
}

function cookies(headers: HeaderList | undefined, name: 'cookie' | 'set-cookie'): HarNameValue[] {
  const out: HarNameValue[] = [];
  for (const [k, v] of headers ?? []) {
    if (k.toLowerCase() !== name) continue;
    const pairs = name === 'cookie' ? v.split(';') : [v.split(';')[0] ?? ''];
    for (const pair of pairs) {
      const eq = pair.indexOf('=');
      if (eq > 0) out.push({ name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim() });
    }
  }
  return out;
}

function mimeOf(headers: HeaderList | undefined, fallback: string): string {
  return headerValue(headers, 'content-type') ?? fallback;
}

function bodyMeta(body: RecordBody | undefined): Record<string, unknown> | undefined {
  if (!body) return undefined;
  const meta: Record<string, unknown> = {};
  if (body.wireSize !== undefined) meta.wireSize = body.wireSize;
  if (body.contentEncoding) meta.contentEncoding = body.contentEncoding;
  if (body.truncated) meta.truncated = true;
  if (body.sha256) meta.sha256 = body.sha256;
  if (body.truncated || body.text === undefined && body.base64 === undefined) meta.size = body.size;
  return Object.keys(meta).length ? meta : undefined;
}

/** The compact LLM summary carried in `_llm`. */
export function llmSummary(x: LlmExchange): Record<string, unknown> {
  const toolCalls: string[] = [];
  for (const t of x.response.turns) for (const b of t.blocks) if (b.type === 'tool_call') toolCalls.push(b.name);
  return {
    provider: x.detection.provider,
    api: x.detection.api,
    agent: x.detection.agent,
    model: x.model,
    stream: x.stream,
    usage: x.response.usage,
    costUsd: x.costUsd,
    stopReason: x.response.stopReason,
    messages: x.request.turns.length,
    toolCalls,
    error: x.response.error,
  };
}

export function harEntryOf(record: CaptureRecord, llm?: LlmExchange): Record<string, unknown> | undefined {
  const req = record.request;
  if (!req) return undefined; // tunnel rows have no HTTP exchange
  const res = record.response;
  const timing = record.timing ?? {};
  const total = timing.totalMs ?? 0;
  const ttfb = timing.ttfbMs ?? total;
  const connect = timing.connectMs ?? -1;
  const ssl = timing.tlsMs ?? -1;
  const beforeSend = Math.max(0, connect) + Math.max(0, ssl);
  const wait = Math.max(0, ttfb - beforeSend);
  const receive = Math.max(0, total - ttfb);
  const reqBody = req.body;
  const entry: Record<string, unknown> = {
    startedDateTime: record.startedAt,
    time: total,
    request: {
      method: req.method,
      url: req.url,
      httpVersion: harHttpVersion(req.httpVersion),
      cookies: cookies(req.headers, 'cookie'),
      headers: nameValues(req.headers),
      queryString: queryString(req.url),
      headersSize: -1,
      bodySize: reqBody ? reqBody.wireSize ?? reqBody.size : 0,
      ...(reqBody && (reqBody.text !== undefined || reqBody.base64 !== undefined)
        ? {
            postData: {
              mimeType: mimeOf(req.headers, 'application/octet-stream'),
              text: reqBody.text ?? reqBody.base64 ?? '',
              ...(reqBody.text === undefined ? { encoding: 'base64' } : {}),
              params: [],
            },
          }
        : {}),
    },
    response: {
      status: res?.status ?? 0,
      statusText: res?.statusText ?? '',
      httpVersion: harHttpVersion(res?.httpVersion ?? req.httpVersion),
      cookies: cookies(res?.headers, 'set-cookie'),
      headers: nameValues(res?.headers),
      content: {
        size: res?.body?.size ?? 0,
        ...(res?.body?.wireSize !== undefined ? { compression: res.body.size - res.body.wireSize } : {}),
        mimeType: mimeOf(res?.headers, 'x-unknown'),
        ...(res?.body?.text !== undefined ? { text: res.body.text } : res?.body?.base64 !== undefined ? { text: res.body.base64, encoding: 'base64' } : {}),
      },
      redirectURL: headerValue(res?.headers, 'location') ?? '',
      headersSize: -1,
      bodySize: res?.body ? res.body.wireSize ?? res.body.size : res ? 0 : -1,
    },
    cache: {},
    timings: { blocked: -1, dns: -1, connect: connect >= 0 ? connect + Math.max(0, ssl) : -1, ssl, send: 0, wait, receive },
  };
  if (record.server.ip) entry.serverIPAddress = record.server.ip;
  if (record.kind === 'websocket' && record.ws) {
    const t0 = Date.parse(record.startedAt) / 1000;
    entry._resourceType = 'websocket';
    entry._webSocketMessages = record.ws
      .filter((m) => m.type === 'text' || m.type === 'binary')
      .map((m) => ({ type: m.from === 'client' ? 'send' : 'receive', time: t0 + m.t / 1000, opcode: m.type === 'binary' ? 2 : 1, data: m.text ?? m.base64 ?? '' }));
  }
  if (llm) entry._llm = llmSummary(llm);
  const ours: Record<string, unknown> = { id: record.id, kind: record.kind, mode: record.mode, server: record.server, error: record.error, timing: record.timing };
  if (record.client) ours.client = record.client;
  if (record.labels) ours.labels = record.labels;
  if (res?.chunks) ours.responseChunks = res.chunks;
  if (res?.trailers?.length) ours.trailers = res.trailers;
  const rq = bodyMeta(reqBody);
  if (rq) ours.requestBody = rq;
  const rs = bodyMeta(res?.body);
  if (rs) ours.responseBody = rs;
  if (record.kind === 'websocket' && record.ws) ours.ws = record.ws;
  if (record.wsClose) ours.wsClose = record.wsClose;
  if (record.replayOf) ours.replayOf = record.replayOf;
  entry._agenttap = ours;
  return entry;
}

/** The text before the first entry and after the last one: entries are written in between, one by one. */
export function harHead(): string {
  return `{"log":{"version":"1.2","creator":${JSON.stringify(HAR_CREATOR)},"pages":[],"entries":[`;
}

export function harTail(): string {
  return ']}}\n';
}
