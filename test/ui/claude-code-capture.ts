// The public Claude Code capture (claude-trace format) converted to record v1 with the interop
// importer, for the inspector's browser tests.
import { resolve } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { importFile } from '../../src/interop/import-file.js';
import type { CaptureRecord } from '../../src/capture/record.js';

export const CLAUDE_TRACE = resolve('../shared/fixtures/agent-captures/claude-trace--test-traffic.jsonl');

export async function claudeCodeCapture(out: string): Promise<CaptureRecord[]> {
  const records: CaptureRecord[] = [];
  await importFile(CLAUDE_TRACE, { from: 'claude-trace', onRecord: (r) => void records.push(r), onWarning: () => {} });
  await writeFile(out, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return records;
}
