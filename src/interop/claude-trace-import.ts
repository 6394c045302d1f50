// claude-trace logs (badlogic/lemmy apps/claude-trace): one `{request, response, logged_at}` pair
// per line; request/response timestamps in seconds; SSE responses in `response.body_raw`,
// JSON responses parsed in `response.body` (already gunzipped, though the header still says gzip).
import type { CaptureRecord } from '../capture/record.js';
import { headerValue } from '../capture/record.js';
import { bodyFromValue, headersFromObject, importedRecord, toEpochMs } from './import-record.js';
import { isObject, num, str, type ImportContext } from './import-types.js';

export function claudeTraceEntryToRecord(entry: Record<string, unknown>, ctx: ImportContext): CaptureRecord | undefined {
  const req = entry.request;
  if (!isObject(req)) {
    ctx.warn('entry has no request object; skipped');
    return undefined;
  }
  const res = isObject(entry.response) ? entry.response : undefined;
  const url = str(req.url);
  if (!url) ctx.warn('request has no url; imported with an empty url');
  const startedAtMs = toEpochMs(req.timestamp) ?? toEpochMs(entry.logged_at) ?? (ctx.warn('no timestamp; using 0'), 0);
  const requestHeaders = headersFromObject(req.headers);
  const responseHeaders = res ? headersFromObject(res.headers) : [];
  const endMs = res ? toEpochMs(res.timestamp) : undefined;
  const latency = num(entry.latency);
  const totalMs = endMs !== undefined ? Math.max(0, endMs - startedAtMs) : latency;
  const responseValue = res ? (typeof res.body_raw === 'string' && res.body_raw !== '' ? res.body_raw : res.body) : undefined;
  return importedRecord({
    startedAtMs,
    method: str(req.method) ?? 'POST',
    url: url ?? '',
    requestHeaders,
    requestBody: bodyFromValue(req.body, headerValue(requestHeaders, 'content-encoding')),
    status: res ? num(res.status_code) ?? num(res.status) : undefined,
    responseHeaders,
    responseBody: bodyFromValue(responseValue, headerValue(responseHeaders, 'content-encoding')),
    timing: totalMs !== undefined ? { totalMs } : undefined,
    source: 'claude-trace',
    keepSecrets: ctx.keepSecrets,
  });
}
