import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAllRecords, readRecords, type BadLine } from '../../src/capture/reader.js';
import { uuidv7, uuidv7Time } from '../../src/capture/ids.js';
import type { CaptureRecord } from '../../src/capture/record.js';

function record(id: string): CaptureRecord {
  return { v: 1, id, kind: 'http', mode: 'forward', startedAt: new Date().toISOString(), server: { host: 'example.test', port: 443, tls: true }, error: null };
}

test('reader yields good records and reports bad lines with their line numbers', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agenttap-reader-'));
  const file = join(dir, 'c.jsonl');
  const lines = [
    JSON.stringify(record('a')),
    '{"v":1,"id":"broken"',
    '',
    JSON.stringify({ ...record('b'), v: 9 }),
    JSON.stringify(record('c')),
    '{"v":1,"id":"torn","kind":"ht',
  ];
  writeFileSync(file, lines.join('\n'));
  const bad: BadLine[] = [];
  const items = [];
  for await (const item of readRecords(file, { onBadLine: (b) => bad.push(b) })) items.push(item);
  assert.deepEqual(items.map((i) => [i.record.id, i.line]), [['a', 1], ['c', 5]]);
  assert.deepEqual(bad.map((b) => b.line), [2, 4, 6]);
  assert.match(bad[0]!.reason, /malformed JSON/);
  assert.match(bad[1]!.reason, /unsupported record version 9/);
  assert.match(bad[2]!.reason, /torn last line/);
  // Offsets let a viewer re-read one line on demand.
  const again = await readAllRecords(file, { start: items[1]!.offset, startLine: 5, onBadLine: () => {} });
  assert.equal(again[0]!.id, 'c');
});

test('uuidv7 ids sort by creation time and carry it', () => {
  const t = Date.UTC(2026, 10, 23, 8, 0, 0, 123);
  const ids = Array.from({ length: 50 }, () => uuidv7(t));
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, 50);
  assert.equal(uuidv7Time(ids[0]!), t);
  assert.match(ids[0]!, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});
