// The LLM Network Tracer's `llm_traces.jsonl` (mitmproxy addon): one flow per line with
// `client_conn`/`server_conn`, the request split into scheme/host/port/path, and bodies as
// parsed `json`, a truncated `body_text` ("... (truncated)") or a raw `sse_stream`.
import { isIP } from 'node:net';
import type { CaptureRecord } from '../capture/record.js';
import { headerValue } from '../capture/record.js';
import { bodyFromValue, headersFromObject, importedRecord, toEpochMs } from './import-record.js';
import { isObject, num, str, type ImportContext } from './import-types.js';

function bodyOf(part: Record<string, unknown>, encoding: string | undefined) {
  if (part.json !== undefined && part.json !== null) return bodyFromValue(part.json, encoding);
  if (typeof part.sse_stream === 'string') {
    const body = bodyFromValue(part.sse_stream, encoding);
    const full = num(part.sse_stream_length);
    if (body && full !== undefined && full > body.size) body.size = full;
    return body;
  }
  if (typeof part.body_text === 'string') return bodyFromValue(part.body_text, encoding);
  return undefined;
}

export function llmTracerEntryToRecord(entry: Record<string, unknown>, ctx: ImportContext): CaptureRecord | undefined {
  const req = entry.request;
  if (!isObject(req)) {
    ctx.warn('flow has no request; skipped');
    return undefined;
  }
  const scheme = str(req.scheme) ?? 'https';
  const serverConn = isObject(entry.server_conn) ? entry.server_conn : {};
  const host = str(req.host) ?? str(serverConn.address) ?? '';
  if (!host) ctx.warn('flow has no host; imported with an empty host');
  const port = num(req.port) ?? num(serverConn.port);
  const defaultPort = scheme === 'http' ? 80 : 443;
  const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  const path = str(req.path) ?? '/';
  const url = `${scheme}://${hostPart}${port && port !== defaultPort ? `:${port}` : ''}${path.startsWith('/') ? path : `/${path}`}`;
  const res = isObject(entry.response) ? entry.response : undefined;
  const clientConn = isObject(entry.client_conn) ? entry.client_conn : undefined;
  const clientIp = clientConn ? str(clientConn.address) : undefined;
  const requestHeaders = headersFromObject(req.headers);
  const responseHeaders = res ? headersFromObject(res.headers) : [];
  const serverAddress = str(serverConn.address);
  const labels: Record<string, string> = {};
  const flowId = str(entry.flow_id);
  if (flowId) labels.flowId = flowId;
  return importedRecord({
    // The tracer stamps the flow when the response completed; it is the only time it logged.
    startedAtMs: toEpochMs(entry.timestamp) ?? (ctx.warn('no timestamp; using 0'), 0),
    method: str(req.method) ?? 'POST',
    url,
    requestHeaders,
    requestBody: bodyOf(req, headerValue(requestHeaders, 'content-encoding')),
    status: res ? num(res.status_code) : undefined,
    responseHeaders,
    responseBody: res ? bodyOf(res, headerValue(responseHeaders, 'content-encoding')) : undefined,
    client: clientIp ? { ip: clientIp, port: num(clientConn!.port) ?? 0 } : undefined,
    serverIp: serverAddress && isIP(serverAddress) ? serverAddress : undefined,
    source: 'llm-tracer',
    labels,
    keepSecrets: ctx.keepSecrets,
  });
}
