// agent-system-dissect's traffic probe (`traffic.jsonl`): `{timestamp, request{method,url,headers,
// body}, response{status_code,headers,body}}`; bodies are parsed JSON when they were JSON, SSE
// streams stay raw strings.
import type { CaptureRecord } from '../capture/record.js';
import { toEpochMs } from './import-record.js';
import { num, type ImportContext } from './import-types.js';
import { pairEntryToRecord } from './pair-import.js';

export function probeEntryToRecord(entry: Record<string, unknown>, ctx: ImportContext): CaptureRecord | undefined {
  return pairEntryToRecord(entry, ctx, {
    source: 'probe',
    startedAtMs: (e) => toEpochMs(e.timestamp),
    responseBody: (res) => res.body,
    totalMs: (e) => num(e.duration_ms) ?? (num(e.duration) !== undefined ? num(e.duration)! * 1000 : undefined),
  });
}
