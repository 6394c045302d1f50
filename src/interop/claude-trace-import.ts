// claude-trace logs (badlogic/lemmy apps/claude-trace): one `{request, response, logged_at}` pair
// per line; request/response timestamps in seconds; SSE responses in `response.body_raw`,
// JSON responses parsed in `response.body` (already gunzipped, though the header still says gzip).
import type { CaptureRecord } from '../capture/record.js';
import { toEpochMs } from './import-record.js';
import { num, type ImportContext } from './import-types.js';
import { pairEntryToRecord } from './pair-import.js';

export function claudeTraceEntryToRecord(entry: Record<string, unknown>, ctx: ImportContext): CaptureRecord | undefined {
  return pairEntryToRecord(entry, ctx, {
    source: 'claude-trace',
    startedAtMs: (e, req) => toEpochMs(req.timestamp) ?? toEpochMs(e.logged_at),
    responseBody: (res) => (typeof res.body_raw === 'string' && res.body_raw !== '' ? res.body_raw : res.body),
    totalMs: (e, start, res) => {
      const endMs = res ? toEpochMs(res.timestamp) : undefined;
      return endMs !== undefined ? Math.max(0, endMs - start) : num(e.latency);
    },
  });
}
