// Formats that log one `{request, response}` pair per line (claude-trace, the agent probe):
// the pair → record v1 mapping is the same; each format says where its timestamp, response
// body and duration live.
import type { CaptureRecord } from '../capture/record.js';
import { headerValue } from '../capture/record.js';
import { bodyFromValue, headersFromObject, importedRecord } from './import-record.js';
import { isObject, num, str, type ImportContext } from './import-types.js';

export interface PairFormat {
  source: string;
  /** Start of the exchange, ms since the epoch. */
  startedAtMs(entry: Record<string, unknown>, request: Record<string, unknown>): number | undefined;
  /** The response body as the format stored it (parsed JSON or raw text). */
  responseBody(response: Record<string, unknown>): unknown;
  totalMs(entry: Record<string, unknown>, startedAtMs: number, response: Record<string, unknown> | undefined): number | undefined;
}

export function pairEntryToRecord(entry: Record<string, unknown>, ctx: ImportContext, format: PairFormat): CaptureRecord | undefined {
  const req = entry.request;
  if (!isObject(req)) {
    ctx.warn('entry has no request object; skipped');
    return undefined;
  }
  const res = isObject(entry.response) ? entry.response : undefined;
  const url = str(req.url);
  if (!url) ctx.warn('request has no url; imported with an empty url');
  const startedAtMs = format.startedAtMs(entry, req) ?? (ctx.warn('no timestamp; using 0'), 0);
  const requestHeaders = headersFromObject(req.headers);
  const responseHeaders = res ? headersFromObject(res.headers) : [];
  const totalMs = format.totalMs(entry, startedAtMs, res);
  return importedRecord({
    startedAtMs,
    method: str(req.method) ?? 'POST',
    url: url ?? '',
    requestHeaders,
    requestBody: bodyFromValue(req.body, headerValue(requestHeaders, 'content-encoding')),
    status: res ? num(res.status_code) ?? num(res.status) : undefined,
    responseHeaders,
    responseBody: res ? bodyFromValue(format.responseBody(res), headerValue(responseHeaders, 'content-encoding')) : undefined,
    timing: totalMs !== undefined ? { totalMs } : undefined,
    source: format.source,
    keepSecrets: ctx.keepSecrets,
  });
}
