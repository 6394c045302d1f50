// A large capture's report is prepared on worker threads, range by range; what a user gets must
// be exactly the one-thread report: same bytes, same bad-line messages with the same line numbers,
// whatever the ranges cut through (records straddling a boundary, CRLF, a BOM, a torn last line),
// and Responses-API chains that cross ranges still resolve.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { uuidv7 } from '../../src/capture/ids.js';
import type { CaptureRecord } from '../../src/capture/record.js';
import { readRecords, type BadLine } from '../../src/capture/reader.js';
import { writeAnnotation } from '../../src/analysis/annotations.js';
import { decodeLine, eachChunkRecord, RangeReader } from '../../src/analysis/chunk-reader.js';
import { writeReport, type ReportRenderer } from '../../src/analysis/report.js';
import { HtmlReport } from '../../src/analysis/report-html.js';
import { MarkdownReport } from '../../src/analysis/report-md.js';
import { agenttap, tempDir } from '../support/analysis-cli.js';
import { anthropicRecord, claudeCodeSession, openaiChatRecord } from '../support/analysis-records.js';

const T = Date.UTC(2026, 10, 23, 9, 0, 0);

function responses(t: number, sessionId: string, input: unknown[], responseId: string, text: string, previous?: string): CaptureRecord {
  const body = JSON.stringify({ model: 'gpt-5-codex', instructions: 'You are Codex, a coding agent.', input, stream: true, store: false, ...(previous ? { previous_response_id: previous } : {}) });
  const events = [
    { type: 'response.created', response: { id: responseId, model: 'gpt-5-codex' } },
    { type: 'response.output_text.delta', output_index: 0, content_index: 0, delta: text },
    { type: 'response.completed', response: { id: responseId, model: 'gpt-5-codex', status: 'completed', output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text }] }], usage: { input_tokens: 100, output_tokens: 10, total_tokens: 110 } } },
  ];
  const sse = events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join('');
  return {
    v: 1,
    id: uuidv7(t),
    kind: 'http',
    mode: 'forward',
    startedAt: new Date(t).toISOString(),
    client: { ip: '127.0.0.1', port: 40000, pid: 777, process: 'codex' },
    server: { host: 'api.openai.com', port: 443, tls: true },
    request: { method: 'POST', url: 'https://api.openai.com/v1/responses', httpVersion: '1.1', headers: [['content-type', 'application/json'], ['session_id', sessionId]], body: { text: body, size: body.length } },
    response: { status: 200, httpVersion: '1.1', headers: [['content-type', 'text/event-stream']], body: { text: sse, size: sse.length } },
    timing: { ttfbMs: 100, totalMs: 800 },
    error: null,
  };
}

/** Claude Code sessions, OpenAI chat, a Codex chain spread over the file, and every kind of bad line. */
function mixedCapture(file: string): void {
  const msg = (role: string, text: string) => ({ type: 'message', role, content: [{ type: role === 'user' ? 'input_text' : 'output_text', text }] });
  const lines: string[] = [];
  let t = T;
  for (let i = 0; i < 6; i++) {
    for (const r of claudeCodeSession(t, `5e1c0d2a-0000-4000-8000-00000000000${i}`, 4000 + (i % 3), { file: '\n# pad'.repeat(40 * (i + 1)) })) lines.push(JSON.stringify(r));
    lines.push(JSON.stringify(openaiChatRecord({ t: t + 20000, messages: [{ role: 'user', content: `Summarize ticket ${i}: naïve ünïcode ✓ 中文` }], answer: 'A retry on timeouts ✓.', usage: { prompt_tokens: 120, completion_tokens: 14 } })));
    // One Codex conversation whose turns are far apart in the file: the chain crosses ranges.
    lines.push(JSON.stringify(responses(t + 30000, 'codex-1', [msg('user', `step ${i}`)], `resp_${i}`, `did step ${i}`, i > 0 ? `resp_${i - 1}` : undefined)));
    // A conversation that goes quiet and continues ranges later, four turns on: the range that
    // continues it has not seen (or hashed) the turn its earlier request ended with.
    const ask = { role: 'user' as const, content: 'Port the parser to Rust.' };
    const step = (k: number) => [{ role: 'assistant' as const, content: `Step ${k} done.` }, { role: 'user' as const, content: `Go on with step ${k + 1}.` }];
    if (i === 0) lines.push(JSON.stringify(anthropicRecord({ t: t + 50000, sessionId: 'quiet-one', pid: 6000, tools: ['Bash'], messages: [ask, { role: 'assistant', content: 'Where is it?' }], response: [{ type: 'text', text: 'Looking.' }], usage: { input_tokens: 5, output_tokens: 1 } })));
    if (i === 5) lines.push(JSON.stringify(anthropicRecord({ t: t + 50000, sessionId: 'quiet-one', pid: 6000, tools: ['Bash'], messages: [ask, { role: 'assistant', content: 'Where is it?' }, { role: 'user', content: 'src/parse.ts' }, ...step(1), ...step(2)], response: [{ type: 'text', text: 'Done.' }], usage: { input_tokens: 50, output_tokens: 2 } })));
    if (i === 1) lines.push('not json at all');
    if (i === 2) lines.push('', '   ');
    if (i === 3) lines.push('{"v":2,"id":"x"}');
    if (i === 4) lines.push('\ufeff' + lines[0]); // a BOM is only allowed on the first line
    if (i === 5) {
      // A one-shot helper call, then a real conversation with the same first message and system
      // prompt: the helper's conversation does not continue (a worker that guessed it would has
      // its view redone on the main thread).
      const first = { role: 'user' as const, content: 'Plan the release.' };
      const common = { system: 'You are a release bot.', sessionId: 'helper-then-main', pid: 5000 };
      lines.push(JSON.stringify(anthropicRecord({ ...common, t: t + 40000, messages: [first], response: [{ type: 'text', text: 'Release plan' }], usage: { input_tokens: 10, output_tokens: 2 } })));
      lines.push(JSON.stringify(anthropicRecord({ ...common, t: t + 41000, tools: ['Bash'], messages: [first, { role: 'assistant', content: 'Which version?' }, { role: 'user', content: '2.0' }], response: [{ type: 'text', text: 'Releasing 2.0' }], usage: { input_tokens: 30, output_tokens: 5 } })));
    }
    t += 60_000 + (i % 2) * 400_000;
  }
  // CRLF line endings on some lines, a BOM on the first, and a torn last line.
  const text = '\ufeff' + lines.map((l, i) => (i % 5 === 0 ? `${l}\r\n` : `${l}\n`)).join('') + '{"v":1,"id":"torn';
  writeFileSync(file, text);
  // Bytes that are not UTF-8 inside a record's string (the reader decodes them to U+FFFD), and a
  // long record with non-ASCII characters throughout.
  const odd = JSON.stringify(openaiChatRecord({ t: T + 10, messages: [{ role: 'user', content: 'caf\u00e9 XX' }], answer: 'ok', usage: { prompt_tokens: 1, completion_tokens: 1 } }));
  const at = Buffer.from(odd).indexOf('XX');
  const bytes = Buffer.from(odd);
  bytes[at] = 0xff;
  bytes[at + 1] = 0xe2;
  const long = JSON.stringify(openaiChatRecord({ t: T + 20, messages: [{ role: 'user', content: 'x'.repeat(3000) + ' naïve ✓ 中文 '.repeat(200) + 'y'.repeat(3000) }], answer: 'ok', usage: { prompt_tokens: 1, completion_tokens: 1 } }));
  const all = readFileSync(file);
  const cut = all.indexOf(10, all.length >> 1) + 1;
  writeFileSync(file, Buffer.concat([all.subarray(0, cut), bytes, Buffer.from(`\n${long}\n`), all.subarray(cut)]));
}

async function report(file: string, renderer: ReportRenderer, options: { workers: number; rangeBytes?: number }): Promise<{ text: string; bad: BadLine[] }> {
  let text = '';
  const out = new Writable({
    write(chunk, _enc, cb) {
      text += String(chunk);
      cb();
    },
  });
  const bad: BadLine[] = [];
  await writeReport(file, renderer, out, { ...options, onWarning: () => undefined, onBadLine: (b) => bad.push(b) });
  return { text: text.replace(/(Generated at: |generated )\S+/, '$1X'), bad };
}

test('the report prepared on worker threads is byte-identical to the one-thread report, whatever the ranges cut through', async () => {
  const dir = tempDir();
  const file = join(dir, 'mixed.jsonl');
  mixedCapture(file);
  // Notes on a few exchanges (the inspector's annotations file) show in both.
  const ids: string[] = [];
  for await (const r of readRecords(file, { onBadLine: () => undefined })) ids.push(r.record.id);
  for (const id of [ids[1]!, ids[20]!, ids[ids.length - 1]!]) writeAnnotation(file, id, `check ${id.slice(-4)} | *again*`);
  for (const renderer of [() => new MarkdownReport(), () => new HtmlReport()]) {
    const one = await report(file, renderer(), { workers: 0 });
    assert.match(one.text, /gpt-5-codex/);
    assert.match(one.text, new RegExp(`check ${ids[20]!.slice(-4)}`));
    const readerBad: BadLine[] = [];
    for await (const _ of readRecords(file, { onBadLine: (b) => readerBad.push(b) }));
    assert.deepEqual(one.bad, readerBad);
    assert.deepEqual(
      one.bad.map((b) => b.reason.split(' (')[0]),
      ['malformed JSON', 'unsupported record version 2', 'malformed JSON', 'torn last line'],
    );
    // Tiny ranges put boundaries inside records, at CRLFs and right after newlines.
    for (const rangeBytes of [97, 1000, 4096, 20_000, 1 << 20]) {
      const many = await report(file, renderer(), { workers: 2, rangeBytes });
      assert.equal(many.text, one.text, `rangeBytes ${rangeBytes}`);
      assert.deepEqual(many.bad, one.bad, `bad lines with rangeBytes ${rangeBytes}`);
    }
  }
});

test('range reading finds every line once, with the reader’s line numbers, offsets and reasons', async () => {
  const dir = tempDir();
  const file = join(dir, 'mixed.jsonl');
  mixedCapture(file);
  const want: string[] = [];
  for await (const r of readRecords(file, { onBadLine: (b) => want.push(`bad ${b.line} ${b.reason}`) })) want.push(`ok ${r.line} ${r.offset} ${r.length} ${r.record.id}`);
  want.sort();
  const size = statSync(file).size;
  for (const rangeBytes of [1, 13, 500, 8192, size]) {
    const fd = openSync(file, 'r');
    const reader = new RangeReader(fd);
    const got: string[] = [];
    let before = 0;
    for (let start = 0; start < size; start += rangeBytes) {
      const { bytes, begin } = reader.read(start, start + rangeBytes);
      const { lines } = eachChunkRecord(
        bytes,
        begin,
        (r) => got.push(`ok ${before + r.line} ${r.offset} ${r.length} ${r.record.id}`),
        (b) => got.push(`bad ${before + b.line} ${b.reason}`),
      );
      before += lines;
    }
    closeSync(fd);
    got.sort();
    assert.deepEqual(got, want, `rangeBytes ${rangeBytes}`);
  }
});

test('report on worker threads applies --registry and --pricing like the main thread', () => {
  const dir = tempDir();
  const lines: string[] = [];
  for (let i = 0; i < 40; i++) {
    const r = openaiChatRecord({ t: T + i * 1000, model: 'acme-coder', messages: [{ role: 'user', content: `question ${i}` }], answer: 'answer', usage: { prompt_tokens: 1000000, completion_tokens: 500000 } });
    r.request!.url = 'https://llm.acme.internal/generate';
    r.server.host = 'llm.acme.internal';
    lines.push(JSON.stringify(r));
  }
  const capture = join(dir, 'acme.jsonl');
  writeFileSync(capture, lines.join('\n') + '\n');
  const rules = join(dir, 'rules.json');
  writeFileSync(rules, JSON.stringify({ providers: [{ id: 'acme-llm', hosts: ['llm.acme.internal'] }], paths: [{ id: 'path.acme.generate', pattern: '^/generate$', api: 'openai.chat', providers: ['acme-llm'] }] }));
  const prices = join(dir, 'prices.json');
  writeFileSync(prices, JSON.stringify({ models: { 'acme-coder': { input: 2, output: 4 } } }));
  const args = ['report', capture, '--registry', rules, '--pricing', prices];
  const threads = agenttap(args, { env: { AGENTTAP_WORKERS: '2' } });
  const one = agenttap(args, { env: { AGENTTAP_WORKERS: '0' } });
  assert.equal(threads.code, 0, threads.stderr);
  assert.match(threads.stdout, /acme-llm \(openai\.chat\)/);
  assert.match(threads.stdout, /Cost: \$160\.0000/); // 40 × (1M in × $2 + 0.5M out × $4)
  const strip = (s: string) => s.replace(/Generated at: \S+/, '');
  assert.equal(strip(threads.stdout), strip(one.stdout));
});

test('line decoding gives the same text as UTF-8 decoding for any bytes (ASCII, multi-byte, invalid)', () => {
  const pieces = ['a', 'plain ascii text ', '…', 'é', '中文', '✓', '\u{1F600}', '"', '\\'];
  let seed = 7;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  for (let round = 0; round < 300; round++) {
    const parts: Buffer[] = [];
    const len = rand(4000);
    let size = 0;
    while (size < len) {
      const b = round % 2 === 0 && rand(50) === 0 ? Buffer.from([0x80 + rand(128)]) : Buffer.from(pieces[rand(pieces.length)]!.repeat(1 + rand(40)));
      parts.push(b);
      size += b.length;
    }
    const bytes = Buffer.concat(parts);
    assert.equal(decodeLine(bytes, 0, bytes.length), bytes.toString('utf8'), `round ${round}`);
    const from = rand(bytes.length + 1);
    const to = from + rand(bytes.length - from + 1);
    assert.equal(decodeLine(bytes, from, to), bytes.toString('utf8', from, to), `round ${round} slice`);
  }
});
