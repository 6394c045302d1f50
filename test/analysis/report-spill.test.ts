import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { existsSync } from 'node:fs';
import { FragmentStore } from '../../src/analysis/fragment-store.js';
import { writeReport } from '../../src/analysis/report.js';
import { MarkdownReport } from '../../src/analysis/report-md.js';
import { importedFixture } from '../support/analysis-fixtures.js';

async function render(file: string, budget?: number): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(Buffer.from(c)));
  await writeReport(file, new MarkdownReport(), out, budget === undefined ? {} : { memoryBudgetChars: budget });
  out.end();
  return Buffer.concat(chunks).toString('utf8').replace(/Generated at: \S+/, 'Generated at: -');
}

test('a report whose log exceeds the memory budget spills to a temp file and comes out the same', async () => {
  const file = importedFixture('claude-trace--test-traffic.jsonl');
  const inMemory = await render(file);
  const spilled = await render(file, 20_000);
  assert.ok(inMemory.length > 100_000);
  assert.equal(spilled, inMemory);
});

test('the fragment store keeps order across memory and disk and removes its spill file', async () => {
  const store = new FragmentStore(10);
  await store.add('a', 'short');
  await store.add('b', 'this one goes to disk');
  await store.add('c', 'ünïcödé on disk too');
  await store.seal();
  const dir = store.spillDir!;
  assert.ok(existsSync(dir));
  const got = await store.get(['c', 'a', 'missing', 'b']);
  assert.deepEqual(got.map((x) => x.toString()), ['ünïcödé on disk too', 'short', '', 'this one goes to disk']);
  await store.close();
  assert.equal(existsSync(dir), false);
});
