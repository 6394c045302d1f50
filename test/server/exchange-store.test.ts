// The store keeps only the newest `bufferSize` full records in memory; older ones come back from
// the capture file by byte offset (file mode) or by indexing the live writer's file lazily.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExchangeStore } from '../../src/server/exchange-store.js';
import { anthropicRecord, writeCapture } from '../ui/capture-fixtures.js';

test('file mode: evicted exchanges are read back by offset, bad lines are named', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'agenttap-store-'));
  try {
    const file = join(dir, 'c.jsonl');
    await writeCapture(file, 200, ['nope']);
    const store = new ExchangeStore({ bufferSize: 10, llm: undefined, file });
    await store.loadFile();
    assert.equal(store.size, 200);
    assert.deepEqual(store.bad.map((b) => b.line), [201]);
    const rows = store.allRows();
    const first = await store.get(rows[0]!.id);
    assert.equal(first?.id, rows[0]!.id);
    assert.match(first?.request?.body?.text ?? '', /needle0"/);
    assert.equal((await store.get(rows[150]!.id))?.id, rows[150]!.id);
    assert.deepEqual(store.rowsBefore(50, 5).map((r) => r.seq), [45, 46, 47, 48, 49]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('live mode: in-flight rows update, finished ones stay done, evicted ones are found in the file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'agenttap-store-'));
  try {
    const file = join(dir, 'live.jsonl');
    await writeFile(file, '');
    const store = new ExchangeStore({ bufferSize: 5, llm: undefined, file });
    const events: string[] = [];
    store.on('new', (r) => events.push(`new ${r.seq} ${r.state}`));
    store.on('update', (r) => events.push(`update ${r.seq} ${r.state}`));
    const t = Date.parse('2026-11-23T10:00:00Z');
    const first = anthropicRecord(0, t);
    store.update({ ...first, response: undefined });
    store.add(first);
    store.update({ ...first, response: undefined }); // a late partial is ignored
    assert.deepEqual(events, ['new 0 live', 'update 0 done']);
    await appendFile(file, JSON.stringify(first) + '\n');
    for (let i = 1; i < 20; i++) {
      const r = anthropicRecord(i, t + i);
      store.add(r);
      await appendFile(file, JSON.stringify(r) + '\n');
    }
    assert.equal(store.size, 20);
    const back = await store.get(first.id);
    assert.equal(back?.id, first.id, 'read back from the writer file after eviction');
    assert.equal((await store.get('01900000-0000-7000-8000-000000000000')), undefined);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
