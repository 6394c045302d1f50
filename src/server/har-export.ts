// A small HAR 1.2 writer for the inspector's "export filtered list" and session exports, used
// when the interop layer's exporter is not part of this build. Plain data in, plain data out.
import type { CaptureRecord, HeaderList, RecordBody } from '../capture/record.js';

interface HarHeader {
  name: string;
  value: string;
}

function headers(list: HeaderList | undefined): HarHeader[] {
  return (list ?? []).map(([name, value]) => ({ name, value }));
}

function content(body: RecordBody | undefined, mimeType: string): Record<string, unknown> {
  const out: Record<string, unknown> = { size: body?.size ?? 0, mimeType };
  if (body?.text !== undefined) out.text = body.text;
  else if (body?.base64 !== undefined) {
    out.text = body.base64;
    out.encoding = 'base64';
  }
  return out;
}

function mime(list: HeaderList | undefined): string {
  const ct = list?.find(([k]) => k.toLowerCase() === 'content-type');
  return ct ? ct[1] : '';
}

function httpVersion(v: string | undefined): string {
  if (!v) return 'HTTP/1.1';
  return v.startsWith('HTTP') ? v : v === '2' ? 'HTTP/2' : `HTTP/${v}`;
}

function queryString(url: string): HarHeader[] {
  try {
    return [...new URL(url).searchParams].map(([name, value]) => ({ name, value }));
  } catch {
    return [];
  }
}

export function harEntry(record: CaptureRecord): Record<string, unknown> {
  const req = record.request;
  const res = record.response;
  const t = record.timing ?? {};
  const total = t.totalMs ?? 0;
  const wait = t.ttfbMs !== undefined ? Math.max(0, t.ttfbMs - (t.connectMs ?? 0) - (t.tlsMs ?? 0)) : total;
  const receive = t.ttfbMs !== undefined ? Math.max(0, total - t.ttfbMs) : 0;
  const reqBody = req?.body;
  const entry: Record<string, unknown> = {
    startedDateTime: record.startedAt,
    time: total,
    request: {
      method: req?.method ?? 'CONNECT',
      url: req?.url ?? `https://${record.server.host}:${record.server.port}/`,
      httpVersion: httpVersion(req?.httpVersion),
      cookies: [],
      headers: headers(req?.headers),
      queryString: req ? queryString(req.url) : [],
      headersSize: -1,
      bodySize: reqBody?.size ?? 0,
      ...(reqBody && (reqBody.text !== undefined || reqBody.base64 !== undefined)
        ? {
            postData: {
              mimeType: mime(req?.headers),
              text: reqBody.text ?? reqBody.base64 ?? '',
              ...(reqBody.base64 !== undefined && reqBody.text === undefined ? { encoding: 'base64' } : {}),
            },
          }
        : {}),
    },
    response: {
      status: res?.status ?? 0,
      statusText: res?.statusText ?? '',
      httpVersion: httpVersion(res?.httpVersion),
      cookies: [],
      headers: headers(res?.headers),
      content: content(res?.body, mime(res?.headers)),
      redirectURL: '',
      headersSize: -1,
      bodySize: res?.body?.wireSize ?? res?.body?.size ?? 0,
    },
    cache: {},
    timings: {
      blocked: -1,
      dns: -1,
      connect: t.connectMs ?? -1,
      ssl: t.tlsMs ?? -1,
      send: 0,
      wait,
      receive,
    },
    _agenttap: { id: record.id, kind: record.kind, ...(record.labels ? { labels: record.labels } : {}), ...(record.error ? { error: record.error } : {}) },
  };
  if (record.server.ip) entry.serverIPAddress = record.server.ip;
  return entry;
}

export function toHar(records: Iterable<CaptureRecord>, version: string): Record<string, unknown> {
  const entries: Record<string, unknown>[] = [];
  for (const r of records) entries.push(harEntry(r));
  return { log: { version: '1.2', creator: { name: 'agenttap', version }, pages: [], entries } };
}
