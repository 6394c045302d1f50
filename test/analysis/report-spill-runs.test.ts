import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { join } from 'node:path';
import { FragmentStore } from '../../src/analysis/fragment-store.js';
import { writeReport, type ReportRenderer } from '../../src/analysis/report.js';
import { MarkdownReport } from '../../src/analysis/report-md.js';
import { HtmlReport } from '../../src/analysis/report-html.js';
import { tempDir } from '../support/analysis-cli.js';
import { claudeCodeSession, openaiChatRecord, writeCapture } from '../support/analysis-records.js';
import type { CaptureRecord } from '../../src/capture/record.js';

async function render(file: string, renderer: ReportRenderer, budget?: number): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(Buffer.from(c)));
  await writeReport(file, renderer, out, budget === undefined ? {} : { memoryBudgetChars: budget });
  out.end();
  return Buffer.concat(chunks).toString('utf8').replace(/Generated at: \S+|generated \d{4}-\d\d-\d\dT[\d:.]+Z/g, 'generated at -');
}

/** Interleaved Claude Code sessions (log order differs from file order) with a multi-byte file body. */
function interleavedCapture(sessions: number): string {
  const t0 = Date.UTC(2026, 10, 23, 8, 0, 0);
  const all: CaptureRecord[] = [];
  for (let i = 0; i < sessions; i++) {
    all.push(...claudeCodeSession(t0 + i * 700, `7a1c0d2a-0000-4000-8000-${String(i).padStart(12, '0')}`, 5000 + (i % 5), { file: `\n# ünïcödé ${i}\n` + 'x = 1\n'.repeat(40 * (1 + (i % 4))) }));
    all.push(openaiChatRecord({ t: t0 + i * 700 + 300, messages: [{ role: 'user', content: `Summarize ticket ${i}` }], answer: 'Retry on timeouts.', usage: { prompt_tokens: 20, completion_tokens: 4 } }));
  }
  all.sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
  const file = join(tempDir(), 'interleaved.jsonl');
  writeCapture(file, all);
  return file;
}

test('a report spilled almost whole to disk is byte-identical to one kept in memory (md and html)', async () => {
  const file = interleavedCapture(60);
  for (const make of [() => new MarkdownReport(), () => new HtmlReport()]) {
    const inMemory = await render(file, make());
    const spilled = await render(file, make(), 3_000);
    assert.ok(inMemory.length > 200_000, `report is ${inMemory.length} characters`);
    assert.ok(inMemory.includes('ünïcödé 59'));
    assert.equal(spilled, inMemory);
  }
});

test('the fragment store reads back thousands of spilled fragments in any order, across far-apart runs', async () => {
  const store = new FragmentStore(0);
  const texts: string[] = [];
  for (let i = 0; i < 3000; i++) {
    // Sizes up to ~9 KB; every 500th is 300 KB so runs break on the gap and on the span limit.
    const size = i % 500 === 499 ? 300_000 : 200 + ((i * 7919) % 9000);
    const text = `#${i} é ` + String.fromCharCode(97 + (i % 26)).repeat(size);
    texts.push(text);
    await store.add(`f${i}`, text);
  }
  await store.seal();
  const order = texts.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = (i * 48271) % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  for (let at = 0; at < order.length; at += 256) {
    const batch = order.slice(at, at + 256);
    const got = await store.get([...batch.map((i) => `f${i}`), 'missing']);
    assert.equal(got.length, batch.length + 1);
    batch.forEach((i, k) => assert.equal(got[k]!.toString(), texts[i], `fragment f${i}`));
    assert.equal(got[batch.length], '');
  }
  const inOrder = await store.get(texts.map((_, i) => `f${i}`));
  assert.equal(inOrder.map((x) => x.toString()).join(''), texts.join(''));
  await store.close();
});
