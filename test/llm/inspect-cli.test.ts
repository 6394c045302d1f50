// `agenttap inspect` run as a user would: readable conversations with reasons, usage and cost;
// JSON Lines of LlmExchange; --id; bad lines reported with FILE:LINE; --registry and --pricing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { CaptureRecord } from '../../src/capture/record.js';
import type { LlmExchange } from '../../src/llm/types.js';
import { fixture, makeRecord, repoRoot } from '../support/llm-records.js';

function agenttap(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'bin/agenttap.js'), ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function captureFile(records: CaptureRecord[], extraLines: string[] = []): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'agenttap-inspect-'));
  const file = path.join(dir, 'capture.jsonl');
  const lines = records.map((r) => JSON.stringify(r));
  lines.splice(1, 0, ...extraLines);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

const anthropic = makeRecord({
  url: 'https://api.anthropic.com/v1/messages?beta=true',
  requestHeaders: [['content-type', 'application/json'], ['user-agent', 'claude-cli/2.0.0 (external, cli)'], ['anthropic-version', '2023-06-01']],
  requestBody: { model: 'claude-opus-4-1-20250805', max_tokens: 100, stream: true, system: [{ type: 'text', text: 'You are a weather bot.' }], tools: [{ name: 'get_weather', description: 'weather by city' }], messages: [{ role: 'user', content: 'Weather in Paris?' }] },
  responseBody: fixture('anthropic/lib__fixtures__tool_use_response.txt'),
});
anthropic.timing = { ttfbMs: 412.3, totalMs: 2210.5 };
const models = makeRecord({ method: 'GET', url: 'https://api.openai.com/v1/models', responseBody: { data: [] } });
const unknownModel = makeRecord({
  url: 'https://api.openai.com/v1/chat/completions',
  requestBody: { model: 'acme-secret-model', messages: [{ role: 'user', content: 'hi' }] },
  responseBody: { id: 'c', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 1 } },
});

test('inspect prints each LLM exchange: detection with reasons, conversation, tool call with arguments, usage and cost', () => {
  const file = captureFile([anthropic, models, unknownModel]);
  const r = agenttap(['inspect', file]);
  assert.equal(r.code, 0, r.stderr);
  const out = r.stdout;
  assert.match(out, new RegExp(`━━ ${anthropic.id} .* POST https://api\\.anthropic\\.com/v1/messages\\?beta=true · 200`));
  assert.match(out, /llm · provider anthropic · api anthropic\.messages · agent claude-code · model claude-opus-4-1-20250805 · stream/);
  assert.match(out, /why: host api\.anthropic\.com matches api\.anthropic\.com → provider anthropic/);
  assert.match(out, /why: header user-agent: claude-cli\/2\.0\.0 \(external, cli\) → agent claude-code/);
  assert.match(out, /\[system\] You are a weather bot\./);
  assert.match(out, /tools offered \(1\): get_weather/);
  assert.match(out, /\[user\] Weather in Paris\?/);
  assert.match(out, /⇒ response \(stop: tool_use\)/);
  assert.match(out, /\[assistant\] I'll check the current weather in Paris for you\./);
  assert.match(out, /→ tool call get_weather \[toolu_01NRLabsLyVHZPKxbKvkfSMn\] \{"location":"Paris"\}/);
  assert.match(out, /usage: input 377 · output 65 · cache read 0 · cache write 0 · cost \$0\.01053\n  timing: first byte 412 ms · total 2211 ms/);
  // The unknown model's cost is "unknown", the /models listing is not shown without --all.
  assert.match(out, /model acme-secret-model[^\n]*\n(.*\n)*?.*usage: input 3 · output 1 · cost unknown/);
  assert.doesNotMatch(out, /v1\/models/);
  const all = agenttap(['inspect', file, '--all']);
  assert.match(all.stdout, /GET https:\/\/api\.openai\.com\/v1\/models · 200\n\s+app · provider openai\n\s+why: /);
});

test('inspect --json prints one LlmExchange per line; --id picks one (also by prefix, also non-LLM)', () => {
  const file = captureFile([anthropic, models, unknownModel]);
  const r = agenttap(['inspect', file, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as LlmExchange);
  assert.deepEqual(lines.map((x) => x.id), [anthropic.id, unknownModel.id]);
  const x = lines[0]!;
  assert.equal(x.model, 'claude-opus-4-1-20250805');
  assert.equal(x.stream, true);
  assert.equal(x.request.system, 'You are a weather bot.');
  assert.deepEqual(x.response.usage, { input: 377, output: 65, cacheRead: 0, cacheWrite: 0 });
  assert.equal(x.costUsd, (377 * 15 + 65 * 75) / 1e6);
  assert.equal(lines[1]!.costUsd, undefined);
  const one = agenttap(['inspect', file, '--json', '--id', unknownModel.id]);
  assert.deepEqual(one.stdout.trim().split('\n').map((l) => (JSON.parse(l) as LlmExchange).id), [unknownModel.id]);
  const nonLlm = agenttap(['inspect', file, '--json', '--id', models.id]);
  assert.deepEqual(JSON.parse(nonLlm.stdout), { id: models.id, detection: { kind: 'app', provider: 'openai', reasons: JSON.parse(nonLlm.stdout).detection.reasons } });
  const missing = agenttap(['inspect', file, '--id', 'nope']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no exchange with id nope/);
});

test('inspect reports bad lines as FILE:LINE: reason and goes on; a missing file is a one-line error', () => {
  const file = captureFile([anthropic, unknownModel], ['{"torn', '{"v":2,"id":"x"}']);
  const r = agenttap(['inspect', file, '--json']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim().split('\n').length, 2);
  assert.match(r.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:2: malformed JSON`));
  assert.match(r.stderr, /:3: unsupported record version 2/);
  const gone = agenttap(['inspect', path.join(tmpdir(), 'no-such-capture.jsonl')]);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /^agenttap: .*no-such-capture\.jsonl: no such file\n$/);
});

test('inspect --registry and --pricing take user data files', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'agenttap-inspect-data-'));
  const local = makeRecord({ url: 'https://llm.acme.internal/generate', requestBody: { model: 'acme-secret-model', messages: [{ role: 'user', content: 'hi' }] }, responseBody: { choices: [{ index: 0, message: { role: 'assistant', content: 'yo' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1000000, completion_tokens: 0 } } });
  const file = captureFile([local]);
  assert.equal(agenttap(['inspect', file, '--json']).stdout, '');
  const reg = path.join(dir, 'reg.json');
  writeFileSync(reg, JSON.stringify({ providers: [{ id: 'acme', hosts: ['llm.acme.internal'] }], paths: [{ id: 'path.acme', pattern: '^/generate$', api: 'openai.chat', providers: ['acme'] }] }));
  const prices = path.join(dir, 'prices.json');
  writeFileSync(prices, JSON.stringify({ models: { 'acme-secret-model': { input: 2, output: 4 } } }));
  const r = agenttap(['inspect', file, '--json', '--registry', reg, '--pricing', prices]);
  assert.equal(r.code, 0, r.stderr);
  const x = JSON.parse(r.stdout) as LlmExchange;
  assert.equal(x.detection.provider, 'acme');
  assert.equal(x.costUsd, 2);
  writeFileSync(reg, '[1,2]');
  const bad = agenttap(['inspect', file, '--registry', reg]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /registry file .* must hold a JSON object/);
});
