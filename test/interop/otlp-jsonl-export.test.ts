import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { agenttap, agenttapAsync, jsonLines, tempDir } from '../support/analysis-cli.js';
import { builtCapture, importedFixture, SESSION_A } from '../support/analysis-fixtures.js';

type Attr = { key: string; value: Record<string, unknown> };
type Span = { traceId: string; spanId: string; name: string; kind: number; startTimeUnixNano: string; endTimeUnixNano: string; attributes: Attr[]; status: { code: number } };
type Body = { resourceSpans: { resource: { attributes: Attr[] }; scopeSpans: { spans: Span[] }[] }[] };

function attrs(span: Span): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of span.attributes) {
    const v = a.value;
    out[a.key] = 'intValue' in v ? Number(v.intValue) : 'arrayValue' in v ? (v.arrayValue as { values: { stringValue: string }[] }).values.map((x) => x.stringValue) : Object.values(v)[0];
  }
  return out;
}

test('OTLP export posts GenAI spans to an OTLP/HTTP endpoint, one trace per session', async () => {
  const bodies: Body[] = [];
  const paths: string[] = [];
  const server = createServer((req, res) => {
    let data = '';
    req.setEncoding('utf8').on('data', (d: string) => (data += d));
    req.on('end', () => {
      paths.push(`${req.method} ${req.url} ${req.headers['content-type']} ${req.headers['x-tenant'] ?? ''}`);
      bodies.push(JSON.parse(data) as Body);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  try {
    const r = await agenttapAsync(['export', builtCapture(), '--format', 'otlp', '--endpoint', `http://127.0.0.1:${port}`, '--header', 'x-tenant=acme']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /exported 20 exchange\(s\) as otlp/);
  } finally {
    server.close();
  }
  assert.deepEqual(paths, ['POST /v1/traces application/json acme']);
  const resource = bodies[0]!.resourceSpans[0]!;
  assert.deepEqual(resource.resource.attributes[0], { key: 'service.name', value: { stringValue: 'agenttap' } });
  const spans = resource.scopeSpans[0]!.spans;
  assert.equal(spans.length, 20);
  for (const s of spans) {
    assert.match(s.traceId, /^[0-9a-f]{32}$/);
    assert.match(s.spanId, /^[0-9a-f]{16}$/);
    assert.equal(s.kind, 3);
    assert.ok(BigInt(s.endTimeUnixNano) >= BigInt(s.startTimeUnixNano));
  }
  const first = spans.map(attrs).find((a) => a['gen_ai.request.model'] === 'claude-sonnet-4-20250514' && a['session.id'] === SESSION_A)!;
  assert.equal(first['gen_ai.operation.name'], 'chat');
  assert.equal(first['gen_ai.provider.name'], 'anthropic');
  assert.equal(first['gen_ai.usage.input_tokens'], 12);
  assert.equal(first['gen_ai.usage.output_tokens'], 80);
  assert.equal(first['gen_ai.usage.cache_creation.input_tokens'], 9000);
  assert.deepEqual(first['gen_ai.response.finish_reasons'], ['tool_use']);
  assert.deepEqual(first['gen_ai.response.tool_calls'], ['Read']);
  assert.equal(first['http.response.status_code'], 200);
  const sessionA = spans.filter((s) => attrs(s)['session.id'] === SESSION_A);
  assert.equal(new Set(sessionA.map((s) => s.traceId)).size, 1);
  const failed = spans.find((s) => attrs(s)['http.response.status_code'] === 429)!;
  assert.equal(failed.status.code, 2);
  assert.equal(attrs(failed)['error.type'], '429');
});

test('OTLP export to a file, and a clear error when the endpoint is down', async () => {
  const out = join(tempDir(), 'spans.jsonl');
  const r = agenttap(['export', importedFixture('claude-trace--test-traffic.jsonl'), '--format', 'otlp', '-o', out]);
  assert.equal(r.code, 0, r.stderr);
  const spans = jsonLines<Body>(readFileSync(out, 'utf8')).flatMap((b) => b.resourceSpans[0]!.scopeSpans[0]!.spans);
  assert.equal(spans.length, 64);
  const input = spans.map(attrs).reduce((n, a) => n + ((a['gen_ai.usage.input_tokens'] as number) ?? 0), 0);
  assert.equal(input, 5853);
  const down = await agenttapAsync(['export', importedFixture('claude-trace--test-chinese.jsonl'), '--format', 'otlp', '--endpoint', 'http://127.0.0.1:9/']);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /cannot reach the OTLP endpoint http:\/\/127\.0\.0\.1:9\/v1\/traces/);
});

test('JSONL export: one request/response pair per line with parsed JSON bodies and LLM facts', () => {
  const r = agenttap(['export', importedFixture('claude-trace--test-chinese.jsonl'), '--format', 'jsonl']);
  assert.equal(r.code, 0, r.stderr);
  const [line] = jsonLines<Record<string, any>>(r.stdout);
  assert.equal(line!.provider, 'anthropic');
  assert.equal(line!.model, 'claude-3-5-sonnet-20241022');
  assert.equal(line!.request.method, 'POST');
  assert.equal(line!.request.body.messages[0].content, '你好，这是一个记录 Chinese characters test 测试');
  assert.match(line!.response.body.content[0].text, /测试、记录、字符/);
  assert.deepEqual(line!.usage, { input: 20, output: 50 });
  assert.equal(line!.latency_ms, 500);
  assert.equal(agenttap(['export', builtCapture(), '--format', 'pcap']).code, 2);
});
