import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readAllRecords } from '../../src/capture/reader.js';
import type { CaptureRecord } from '../../src/capture/record.js';
import { agenttap, fixtures, tempDir } from '../support/analysis-cli.js';

type Json = Record<string, unknown>;

/** The HAR 1.2 spec's required fields, checked the way a strict HAR reader would. */
function assertHar12(doc: Json): Json[] {
  const log = doc.log as Json;
  assert.equal(log.version, '1.2');
  assert.equal(typeof (log.creator as Json).name, 'string');
  assert.equal(typeof (log.creator as Json).version, 'string');
  assert.ok(Array.isArray(log.entries));
  for (const e of log.entries as Json[]) {
    assert.ok(!Number.isNaN(Date.parse(e.startedDateTime as string)), 'startedDateTime');
    assert.equal(typeof e.time, 'number');
    assert.equal(typeof e.cache, 'object');
    const req = e.request as Json;
    const res = e.response as Json;
    for (const k of ['method', 'url', 'httpVersion']) assert.equal(typeof req[k], 'string', `request.${k}`);
    for (const k of ['cookies', 'headers', 'queryString']) assert.ok(Array.isArray(req[k]), `request.${k}`);
    for (const k of ['headersSize', 'bodySize']) assert.equal(typeof req[k], 'number', `request.${k}`);
    for (const h of req.headers as Json[]) assert.deepEqual(Object.keys(h).sort(), ['name', 'value']);
    if (req.postData) assert.equal(typeof (req.postData as Json).mimeType, 'string');
    for (const k of ['status', 'headersSize', 'bodySize']) assert.equal(typeof res[k], 'number', `response.${k}`);
    for (const k of ['statusText', 'httpVersion', 'redirectURL']) assert.equal(typeof res[k], 'string', `response.${k}`);
    for (const k of ['cookies', 'headers']) assert.ok(Array.isArray(res[k]), `response.${k}`);
    const content = res.content as Json;
    assert.equal(typeof content.size, 'number');
    assert.equal(typeof content.mimeType, 'string');
    const timings = e.timings as Json;
    for (const k of ['send', 'wait', 'receive']) assert.ok(typeof timings[k] === 'number' && (timings[k] as number) >= 0, `timings.${k}`);
  }
  return log.entries as Json[];
}

function comparable(r: CaptureRecord): unknown {
  const { labels: _labels, ...rest } = r;
  return JSON.parse(JSON.stringify(rest));
}

test('HAR fixtures → import → export HAR 1.2 → import again gives the same records', async () => {
  for (const name of ['chrome', 'firefox', 'postdata', 'with-bom', 'charles', 'insomnia']) {
    const dir = tempDir();
    const first = join(dir, 'a.jsonl');
    const exported = join(dir, 'a.har');
    const second = join(dir, 'b.jsonl');
    assert.equal(agenttap(['import', join(fixtures, 'har', `mitmproxy--${name}.har`), '-o', first]).code, 0);
    const ex = agenttap(['export', first, '--format', 'har', '-o', exported]);
    assert.equal(ex.code, 0, ex.stderr);
    const entries = assertHar12(JSON.parse(readFileSync(exported, 'utf8')) as Json);
    const a = await readAllRecords(first);
    assert.equal(entries.length, a.length);
    assert.equal(agenttap(['import', exported, '-o', second]).code, 0);
    const b = await readAllRecords(second);
    assert.deepEqual(b.map(comparable), a.map(comparable), name);
    assert.deepEqual(b.map((r) => r.labels?.harCreator), a.map((r) => r.labels?.harCreator));
  }
});

test('HAR export of an agent capture keeps SSE bodies, redacted headers and HTTP versions', async () => {
  const dir = tempDir();
  const capture = join(dir, 'c.jsonl');
  assert.equal(agenttap(['import', join(fixtures, 'agent-captures', 'claude-trace--test-traffic.jsonl'), '-o', capture]).code, 0);
  const r = agenttap(['export', capture, '--format', 'har']);
  assert.equal(r.code, 0, r.stderr);
  const entries = assertHar12(JSON.parse(r.stdout) as Json);
  assert.equal(entries.length, 64);
  const second = entries[1]!;
  const content = (second.response as Json).content as Json;
  assert.match(content.text as string, /^event: message_start/);
  assert.match(content.mimeType as string, /text\/event-stream/);
  const auth = ((second.request as Json).headers as Json[]).find((h) => h.name === 'authorization')!;
  assert.match(auth.value as string, /^\[REDACTED/);
  assert.equal((second.request as Json).httpVersion, 'HTTP/1.1');
  assert.equal(((second.request as Json).postData as Json).mimeType, 'application/json');
  // LLM facts ride along in _llm.
  const llm = second._llm as Json;
  assert.equal(llm.provider, 'anthropic');
  assert.equal(llm.api, 'anthropic.messages');
  assert.equal(llm.model, 'claude-3-5-haiku-20241022');
  assert.equal(llm.stream, true);
  assert.equal(typeof (llm.usage as Json).output, 'number');
  const withTools = entries.map((e) => e._llm as Json).filter((l) => (l.toolCalls as string[]).length > 0);
  assert.deepEqual(withTools.flatMap((l) => l.toolCalls as string[]).slice(0, 3), ['TodoWrite', 'LS', 'Bash']);
});
