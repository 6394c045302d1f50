// The SSE parser follows the WHATWG event-stream rules and survives a stream cut anywhere.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseSse, SseParser, type SseEvent } from '../../src/protocols/sse.js';
import { fixturesDir } from '../support/llm-records.js';

function feedAll(chunks: string[]): { events: SseEvent[]; incomplete: boolean } {
  const p = new SseParser();
  const events: SseEvent[] = [];
  for (const c of chunks) events.push(...p.feed(c));
  const end = p.end();
  return { events, incomplete: end.incomplete };
}

test('LF, CRLF and bare CR all end lines', () => {
  for (const nl of ['\n', '\r\n', '\r']) {
    const text = `event: a${nl}data: one${nl}${nl}data: two${nl}${nl}`;
    const r = parseSse(text);
    assert.deepEqual(r.events, [{ event: 'a', data: 'one' }, { event: 'message', data: 'two' }], JSON.stringify(nl));
    assert.equal(r.incomplete, false);
  }
});

test('multi-line data joins with newlines; comments, unknown fields and one leading space rule', () => {
  const text = ': keep-alive\ndata: first\ndata:second\ndata:  third\nfoo: bar\n\n';
  assert.deepEqual(parseSse(text).events, [{ event: 'message', data: 'first\nsecond\n third' }]);
});

test('id persists across events, id with NUL is ignored, retry needs digits', () => {
  const text = 'id: 7\nretry: 1500\ndata: a\n\ndata: b\n\nid: x\0y\nretry: soon\ndata: c\n\nid\ndata: d\n\n';
  assert.deepEqual(parseSse(text).events, [
    { event: 'message', data: 'a', id: '7', retry: 1500 },
    { event: 'message', data: 'b', id: '7' },
    { event: 'message', data: 'c', id: '7' },
    { event: 'message', data: 'd', id: '' },
  ]);
});

test('a field name without colon, an empty data line, and events without data', () => {
  const text = 'data\n\nevent: ping\n\ndata:\ndata:\n\n';
  assert.deepEqual(parseSse(text).events, [
    { event: 'message', data: '' },
    { event: 'message', data: '\n' },
  ]);
});

test('a leading BOM is dropped once, a second one is data', () => {
  const text = '\ufeffdata: x\n\ndata: \ufeffy\n\n';
  assert.deepEqual(parseSse(text).events.map((e) => e.data), ['x', '\ufeffy']);
  // A BOM arriving as its own first chunk is dropped too.
  assert.deepEqual(feedAll(['\ufeff', 'data: z\n\n']).events.map((e) => e.data), ['z']);
});

test('CR at the end of one chunk and LF at the start of the next are one line end', () => {
  const r = feedAll(['data: a\r', '\ndata: b\r', '\n\r', '\n']);
  assert.deepEqual(r.events, [{ event: 'message', data: 'a\nb' }]);
});

test('every split of every fixture stream gives the same events as the whole text', () => {
  const dirs = ['openai', 'anthropic'];
  let checked = 0;
  for (const d of dirs) {
    for (const f of readdirSync(path.join(fixturesDir, d))) {
      if (!f.endsWith('.sse') && !f.endsWith('.txt')) continue;
      const text = readFileSync(path.join(fixturesDir, d, f), 'utf8');
      const whole = parseSse(text).events;
      assert.ok(whole.length > 3, `${f} has events`);
      // Splits at many offsets (every byte for small files), in 2 and 3 pieces, also with CRLF.
      for (const variant of [text, text.replace(/\n/g, '\r\n')]) {
        const expected = variant === text ? whole : parseSse(variant).events;
        assert.deepEqual(expected, whole);
        const step = Math.max(1, Math.floor(variant.length / 300));
        for (let i = 0; i <= variant.length; i += step) {
          const j = Math.min(variant.length, i + 37);
          assert.deepEqual(feedAll([variant.slice(0, i), variant.slice(i, j), variant.slice(j)]).events, whole, `${f} split at ${i}/${j}`);
        }
        // One character at a time.
        assert.deepEqual(feedAll([...variant]).events, whole);
      }
      checked++;
    }
  }
  assert.ok(checked >= 8);
});

test('a stream cut anywhere keeps the finished events and reports the unfinished one', () => {
  const text = readFileSync(path.join(fixturesDir, 'anthropic/lib__fixtures__tool_use_response.txt'), 'utf8');
  const whole = parseSse(text).events;
  for (let cut = 0; cut <= text.length; cut++) {
    const r = parseSse(text.slice(0, cut));
    assert.ok(r.events.length <= whole.length);
    assert.deepEqual(r.events, whole.slice(0, r.events.length));
    if (r.events.length < whole.length && text.slice(0, cut).trim() !== '' && !/\n\n$/.test(text.slice(0, cut))) {
      // Cut inside an event block: said so.
      assert.equal(r.incomplete, true, `cut at ${cut}`);
    }
  }
  const mid = parseSse('event: x\ndata: {"partial":');
  assert.deepEqual(mid.events, []);
  assert.deepEqual(mid.pending, { event: 'x', data: '{"partial":' });
  assert.equal(mid.incomplete, true);
});
