import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agenttap, jsonLines } from '../support/analysis-cli.js';
import { builtCapture, importedFixture, SESSION_A } from '../support/analysis-fixtures.js';

interface Row {
  key: string;
  requests: number;
  errors: number;
  usage: { input: number; output: number; cacheRead: number; cacheWrite: number; reasoning: number };
  costUsd: number;
  latencyMs: { p50: number | null; p95: number | null };
  ttftMs: { p50: number | null; p95: number | null };
}

test('stats by model on the real claude-trace capture: requests, exact token totals, latency percentiles', () => {
  const r = agenttap(['stats', importedFixture('claude-trace--test-traffic.jsonl'), '--by', 'model', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const rows = jsonLines<Row>(r.stdout);
  for (const row of rows) assert.deepEqual(Object.keys(row), ['key', 'requests', 'errors', 'usage', 'costUsd', 'latencyMs', 'ttftMs']);
  const sonnet = rows.find((x) => x.key === 'claude-sonnet-4-20250514')!;
  const haiku = rows.find((x) => x.key === 'claude-3-5-haiku-20241022')!;
  assert.equal(sonnet.requests, 17);
  assert.equal(haiku.requests, 47);
  assert.deepEqual(sonnet.usage, { input: 60, output: 7920, cacheRead: 279790, cacheWrite: 45598, reasoning: 0 });
  assert.deepEqual(haiku.usage, { input: 5793, output: 305, cacheRead: 0, cacheWrite: 0, reasoning: 0 });
  assert.equal(sonnet.errors, 0);
  assert.ok(sonnet.costUsd > 0, 'priced');
  assert.ok(sonnet.latencyMs.p50! > 0 && sonnet.latencyMs.p95! >= sonnet.latencyMs.p50!);
  const text = agenttap(['stats', importedFixture('claude-trace--test-traffic.jsonl')]).stdout;
  assert.match(text, /claude-sonnet-4-20250514 +17 +0 +60 +7920/);
});

test('stats by provider, agent, host and session on a built capture; errors and TTFT counted', () => {
  const file = builtCapture();
  const by = (g: string) => jsonLines<Row>(agenttap(['stats', file, '--by', g, '--json']).stdout);
  const providers = by('provider');
  const anthropic = providers.find((r) => r.key === 'anthropic')!;
  const openai = providers.find((r) => r.key === 'openai')!;
  assert.equal(anthropic.requests, 16);
  assert.equal(openai.requests, 4);
  assert.equal(openai.errors, 1, 'the 429 is an error');
  assert.deepEqual(openai.usage, { input: 50 + 80 + 12, output: 10 + 6 + 2, cacheRead: 40, cacheWrite: 0, reasoning: 0 });
  // TTFT is the first body chunk of a stream: 30% of 2500 ms etc. in the built records.
  assert.ok(anthropic.ttftMs.p50! > 0 && anthropic.ttftMs.p50! < anthropic.latencyMs.p50!);
  assert.deepEqual(by('agent').map((r) => [r.key, r.requests]).sort(), [['claude-code', 16], ['openai-sdk', 4]]);
  assert.deepEqual(by('host').map((r) => r.key).sort(), ['api.anthropic.com', 'api.openai.com']);
  const sessions = by('session');
  const a = sessions.find((r) => r.key === SESSION_A)!;
  assert.equal(a.requests, 8);
  // count_tokens is a request of the session but consumes no tokens.
  assert.equal(a.usage.input, 40 + 12 + 30 + 300 + 40 + 25 + 20);
  const bad = agenttap(['stats', file, '--by', 'colour']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--by must be one of model, provider, agent, session, host/);
});
