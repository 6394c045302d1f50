// agent-system-dissect's traffic probe (`traffic.jsonl`): `{timestamp, request{method,url,headers,
// body}, response{status_code,headers,body}}`; bodies are parsed JSON when they were JSON, SSE
// streams stay raw strings.
import type { CaptureRecord } from '../capture/record.js';
import { headerValue } from '../capture/record.js';
import { bodyFromValue, headersFromObject, importedRecord, toEpochMs } from './import-record.js';
import { isObject, num, str, type ImportContext } from './import-types.js';

export function probeEntryToRecord(entry: Record<string, unknown>, ctx: ImportContext): CaptureRecord | undefined {
  const req = entry.request;
  if (!isObject(req)) {
    ctx.warn('entry has no request object; skipped');
    return undefined;
  }
  const res = isObject(entry.response) ? entry.response : undefined;
  const url = str(req.url);
  if (!url) ctx.warn('request has no url; imported with an empty url');
  const startedAtMs = toEpochMs(entry.timestamp) ?? (ctx.warn('no timestamp; using 0'), 0);
  const requestHeaders = headersFromObject(req.headers);
  const responseHeaders = res ? headersFromObject(res.headers) : [];
  const duration = num(entry.duration_ms) ?? (num(entry.duration) !== undefined ? num(entry.duration)! * 1000 : undefined);
  return importedRecord({
    startedAtMs,
    method: str(req.method) ?? 'POST',
    url: url ?? '',
    requestHeaders,
    requestBody: bodyFromValue(req.body, headerValue(requestHeaders, 'content-encoding')),
    status: res ? num(res.status_code) ?? num(res.status) : undefined,
    responseHeaders,
    responseBody: res ? bodyFromValue(res.body, headerValue(responseHeaders, 'content-encoding')) : undefined,
    timing: duration !== undefined ? { totalMs: duration } : undefined,
    source: 'probe',
    keepSecrets: ctx.keepSecrets,
  });
}
