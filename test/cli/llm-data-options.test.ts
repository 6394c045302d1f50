// A user's --registry and --pricing files change what every analysis command reports, not only inspect.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRecord } from '../support/llm-records.js';
import { runCli } from '../support/cli-process.js';

function acmeCapture(dir: string): string {
  const record = makeRecord({
    url: 'https://llm.acme.internal/generate',
    requestBody: { model: 'acme-coder', messages: [{ role: 'user', content: 'hi' }] },
    responseBody: {
      id: 'x', object: 'chat.completion', model: 'acme-coder',
      choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 1000000, completion_tokens: 500000, total_tokens: 1500000 },
    },
  });
  const file = join(dir, 'acme.jsonl');
  writeFileSync(file, JSON.stringify(record) + '\n');
  return file;
}

test('stats and report take --registry and --pricing: a private provider is detected and priced', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agenttap-llmdata-'));
  const capture = acmeCapture(dir);
  const rules = join(dir, 'rules.json');
  writeFileSync(rules, JSON.stringify({
    providers: [{ id: 'acme-llm', hosts: ['llm.acme.internal'] }],
    paths: [{ id: 'path.acme.generate', pattern: '^/generate$', api: 'openai.chat', providers: ['acme-llm'] }],
  }));
  const prices = join(dir, 'prices.json');
  writeFileSync(prices, JSON.stringify({ models: { 'acme-coder': { input: 2, output: 4 } } }));

  const plain = await runCli(['stats', capture, '--by', 'provider', '--json']);
  assert.equal(plain.code, 0, plain.stderr);
  assert.ok(!plain.stdout.includes('acme-llm'), 'the built-in registry does not know the host');

  const withRules = await runCli(['stats', capture, '--by', 'provider', '--json', '--registry', rules, '--pricing', prices]);
  assert.equal(withRules.code, 0, withRules.stderr);
  const group = JSON.parse(withRules.stdout.trim().split('\n')[0]!) as { key: string; costUsd: number; usage: { input: number } };
  assert.equal(group.key, 'acme-llm');
  assert.equal(group.usage.input, 1000000);
  assert.equal(group.costUsd, 4); // 1M in × $2 + 0.5M out × $4

  const report = await runCli(['report', capture, '--registry', rules, '--pricing', prices]);
  assert.equal(report.code, 0, report.stderr);
  assert.match(report.stdout, /acme-coder/);
  assert.match(report.stdout, /\$4\.00|\$4(?!\d)/);

  const bad = await runCli(['sessions', capture, '--registry', join(dir, 'missing.json')]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /missing\.json/);
});
