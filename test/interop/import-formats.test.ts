import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readAllRecords } from '../../src/capture/reader.js';
import { bodyText, headerValue } from '../../src/capture/record.js';
import { agenttap, fixtures, tempDir } from '../support/analysis-cli.js';

const har = (name: string) => join(fixtures, 'har', `mitmproxy--${name}.har`);
const captures = join(fixtures, 'agent-captures');

async function importTo(file: string, extra: string[] = []) {
  const out = join(tempDir(), 'out.jsonl');
  const r = agenttap(['import', file, '-o', out, ...extra]);
  assert.equal(r.code, 0, r.stderr);
  return { records: await readAllRecords(out), stderr: r.stderr, out };
}

test('every real HAR fixture imports: BOM, http/2.0, h3, HTTP/3, status 0', async () => {
  const counts: Record<string, number> = { charles: 1, chrome: 3, firefox: 14, 'head-content-length': 1, insomnia: 1, postdata: 1, 'with-bom': 1 };
  for (const [name, n] of Object.entries(counts)) {
    const { records, stderr } = await importTo(har(name));
    assert.equal(records.length, n, name);
    assert.match(stderr, new RegExp(`imported ${n} of ${n} har entries`));
    for (const r of records) {
      assert.equal(r.mode, 'import');
      assert.equal(r.labels?.importedFrom, 'har');
    }
  }
  const chrome = (await importTo(har('chrome'))).records;
  assert.equal(chrome[0]!.request!.httpVersion, '2');
  assert.equal(chrome[2]!.request!.httpVersion, '3');
  assert.equal(chrome[0]!.server.host, 'mitmproxy.org');
  assert.equal(chrome[0]!.server.ip, '108.138.246.80');
  // Chrome's status-0 entry never completed: no response, and the record says why.
  assert.equal(chrome[1]!.response, undefined);
  assert.match(chrome[1]!.error!.message, /status 0/);
  const firefox = (await importTo(har('firefox'))).records;
  assert.equal(firefox[0]!.request!.httpVersion, '3');
  const bom = (await importTo(har('with-bom'))).records[0]!;
  const original = JSON.parse(readFileSync(har('with-bom'), 'utf8').replace(/^\uFEFF/, '')) as { log: { entries: { request: { postData: { text: string } } }[] } };
  assert.equal(bodyText(bom.request!.body), original.log.entries[0]!.request.postData.text);
  assert.equal(bom.request!.method, 'POST');
  assert.equal(bom.response!.status, 200);
});

test('a HAR entry missing required fields is imported with a warning naming them', async () => {
  const dir = tempDir();
  const file = join(dir, 'broken.har');
  writeFileSync(file, JSON.stringify({ log: { version: '1.2', entries: [{ request: { method: 'POST', headers: [] }, response: { status: 201, headers: [], content: { text: 'ok', size: 2 } } }, { startedDateTime: '2026-01-01T00:00:00.000Z', request: { method: 'GET', url: 'https://example.test/a', headers: [] }, response: { status: 200, headers: [] } }] } }));
  const { records, stderr } = await importTo(file);
  assert.equal(records.length, 2);
  assert.match(stderr, /entry 1: missing or invalid required HAR field\(s\): startedDateTime, request\.url/);
  assert.match(stderr, /1 warning/);
  assert.equal(records[0]!.response!.status, 201);
  assert.equal(bodyText(records[0]!.response!.body), 'ok');
  assert.equal(records[1]!.request!.url, 'https://example.test/a');
});

test('claude-trace logs import with SSE bodies, timing and redacted OAuth tokens', async () => {
  const { records, stderr } = await importTo(join(captures, 'claude-trace--test-traffic.jsonl'));
  assert.match(stderr, /imported 64 of 64 claude-trace entries/);
  assert.equal(records.length, 64);
  for (const r of records) {
    assert.equal(r.server.host, 'api.anthropic.com');
    assert.equal(r.request!.url, 'https://api.anthropic.com/v1/messages?beta=true');
    assert.match(headerValue(r.request!.headers, 'authorization')!, /^\[REDACTED/);
  }
  const sse = records[1]!;
  assert.match(bodyText(sse.response!.body), /^event: message_start\ndata: /);
  assert.equal(headerValue(sse.request!.headers, 'user-agent'), 'claude-cli/1.0.6 (external, cli)');
  assert.ok(sse.timing!.totalMs! > 0);
  // JSON responses arrived gzip-encoded; the log holds them decoded, and the record says so.
  const json = records[0]!;
  assert.equal(JSON.parse(bodyText(json.response!.body)).id, 'msg_01TzJn4yVrmPMrUHDtKUsF63');
  assert.equal(json.response!.body!.contentEncoding, 'gzip');
  const chinese = (await importTo(join(captures, 'claude-trace--test-chinese.jsonl'))).records[0]!;
  assert.match(bodyText(chinese.request!.body), /你好，这是一个记录 Chinese characters test 测试/);
  assert.equal(chinese.startedAt, '2024-01-01T00:00:00.000Z');
  assert.equal(chinese.timing!.totalMs, 500);
});

test("the agent probe's codex traffic.jsonl imports with Responses SSE intact", async () => {
  const { records, stderr } = await importTo(join(captures, 'agent-system-dissect--codex-sample_traffic.jsonl'));
  assert.match(stderr, /imported 3 of 3 probe entries/);
  assert.deepEqual(records.map((r) => r.request!.url), Array(3).fill('https://api.openai.com/v1/responses'));
  assert.equal(JSON.parse(bodyText(records[1]!.request!.body)).input.length, 3);
  assert.match(bodyText(records[0]!.response!.body), /event: response\.output_text\.delta/);
  assert.equal(records[0]!.startedAt, new Date(1707123456100).toISOString());
  assert.match(headerValue(records[0]!.request!.headers, 'openai-organization')!, /^\[REDACTED/);
});

test('llm_traces.jsonl (original tracer) imports; a malformed line is reported with its number', async () => {
  const dir = tempDir();
  const file = join(dir, 'llm_traces.jsonl');
  const flow = {
    timestamp: 1732144000.123,
    flow_id: 'abc123',
    client_conn: { address: '127.0.0.1', port: 54321 },
    server_conn: { address: '104.18.7.192', port: 443 },
    request: { method: 'POST', scheme: 'https', host: 'api.openai.com', port: 443, path: '/v1/chat/completions', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-live-1234567890abcd' }, json: { model: 'gpt-4', messages: [{ role: 'user', content: 'hi' }], user: 'user-id' } },
    response: { status_code: 200, headers: { 'content-type': 'application/json' }, json: { model: 'gpt-4', choices: [{ message: { role: 'assistant', content: 'hello' } }], usage: { prompt_tokens: 100, completion_tokens: 50, total_tokens: 150 } } },
  };
  const sse = { ...flow, flow_id: 'def', timestamp: 1732144005, response: { status_code: 200, headers: { 'content-type': 'text/event-stream' }, sse_stream: 'data: {"x":1}\n\ndata: [DONE]\n\n', sse_stream_length: 32 } };
  const truncated = { ...flow, flow_id: 'ghi', request: { ...flow.request, port: 8443, json: undefined, body_text: 'abc... (truncated)' } };
  writeFileSync(file, [JSON.stringify(flow), '{not json', JSON.stringify(sse), JSON.stringify(truncated)].join('\n') + '\n');
  const { records, stderr } = await importTo(file);
  assert.match(stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: malformed JSON`));
  assert.match(stderr, /imported 3 of 4 llm-tracer entries/);
  assert.equal(records.length, 3);
  assert.equal(records[0]!.request!.url, 'https://api.openai.com/v1/chat/completions');
  assert.deepEqual(records[0]!.client, { ip: '127.0.0.1', port: 54321 });
  assert.equal(records[0]!.server.ip, '104.18.7.192');
  assert.equal(records[0]!.labels!.flowId, 'abc123');
  assert.equal(headerValue(records[0]!.request!.headers, 'authorization'), '[REDACTED …abcd]');
  assert.equal(bodyText(records[1]!.response!.body), 'data: {"x":1}\n\ndata: [DONE]\n\n');
  assert.equal(records[2]!.request!.url, 'https://api.openai.com:8443/v1/chat/completions');
  assert.equal(records[2]!.request!.body!.truncated, true);
  assert.equal(bodyText(records[2]!.request!.body), 'abc');
});

test('Oximy OISP events import: full events rebuilt in the provider shape, metadata-only events kept', async () => {
  const dir = tempDir();
  const file = join(dir, 'traces_2026-01-09.jsonl');
  const full = {
    event_id: '019ba454-e7b4-7600-9e5e-376227eb454e',
    timestamp: '2026-01-09T19:56:26.420Z',
    source: { type: 'api', id: 'openai', endpoint: null },
    trace_level: 'full',
    timing: { duration_ms: 1234, ttfb_ms: 456 },
    client: { port: 58634, pid: 89299, name: 'Comet Helper' },
    interaction: { model: 'gpt-4', provider: 'openai', request: { messages: [{ role: 'user', content: 'Hello' }], model: 'gpt-4' }, response: { content: 'Hi there!', model: 'gpt-4', usage: { input_tokens: 5, output_tokens: 3 } } },
  };
  const meta = { event_id: 'e2', timestamp: '2026-01-09T19:57:00.000Z', source: { type: 'api', id: 'anthropic', endpoint: null }, trace_level: 'identifiable', timing: { duration_ms: 150, ttfb_ms: 50 }, metadata: { request_method: 'GET', request_path: '/v1/models', response_status: 200, content_length: 4523 } };
  writeFileSync(file, `${JSON.stringify(full)}\n${JSON.stringify(meta)}\n`);
  const { records } = await importTo(file);
  assert.equal(records.length, 2);
  const [a, b] = records as [typeof records[0] & object, typeof records[0] & object];
  assert.equal(a.request!.url, 'https://api.openai.com/v1/chat/completions');
  assert.deepEqual(a.client, { ip: '127.0.0.1', port: 58634, pid: 89299, process: 'Comet Helper' });
  assert.deepEqual(a.timing, { totalMs: 1234, ttfbMs: 456 });
  const response = JSON.parse(bodyText(a.response!.body));
  assert.equal(response.choices[0].message.content, 'Hi there!');
  assert.deepEqual(response.usage, { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 });
  assert.match(a.response!.body!.note!, /rebuilt/);
  assert.equal(a.labels!.oispTraceLevel, 'full');
  assert.equal(b.request!.url, 'https://api.anthropic.com/v1/models');
  assert.equal(b.request!.method, 'GET');
  assert.equal(b.response!.status, 200);
  assert.equal(b.response!.body!.size, 4523);
});

test('import refuses unknown formats, empty files and overwriting without --force', () => {
  const dir = tempDir();
  const out = join(dir, 'o.jsonl');
  const unknown = agenttap(['import', join(captures, 'claude-trace--test-chinese.jsonl'), '--from', 'pcap', '-o', out]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown import format "pcap"; known formats: auto, har, llm-tracer, probe, oximy, claude-trace/);
  const empty = join(dir, 'empty.jsonl');
  writeFileSync(empty, '');
  const e = agenttap(['import', empty, '-o', out]);
  assert.equal(e.code, 1);
  assert.match(e.stderr, /empty\.jsonl is empty: nothing to import/);
  const odd = join(dir, 'odd.jsonl');
  writeFileSync(odd, '{"hello":"world"}\n');
  const o = agenttap(['import', odd, '-o', out]);
  assert.equal(o.code, 2);
  assert.match(o.stderr, /cannot tell the format .*pass --from with one of: har, llm-tracer, probe, oximy, claude-trace/);
  writeFileSync(out, 'x\n');
  const exists = agenttap(['import', join(captures, 'claude-trace--test-chinese.jsonl'), '-o', out]);
  assert.equal(exists.code, 1);
  assert.match(exists.stderr, /already exists: pass --append .* or --force/);
  assert.equal(readFileSync(out, 'utf8'), 'x\n');
});
