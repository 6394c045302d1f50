// Cost: dated price table, model names with dates/aliases/provider prefixes, each API's usage
// meaning, user overrides — and "unknown", never 0, for a model we have no price for.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { costOf, formatCost, PricingError, resolveModel, usePricingFile } from '../../src/llm/pricing.js';
import { repoRoot } from '../support/llm-records.js';

test('the price table names its date and source and covers the three big providers and open-weight hosts', () => {
  const t = JSON.parse(readFileSync(path.join(repoRoot, 'data/pricing.json'), 'utf8')) as { compiled: string; source: string; models: Record<string, { provider: string; input: number; output: number; cacheRead?: number; cacheWrite?: number }> };
  assert.match(t.compiled, /^\d{4}-\d{2}-\d{2}$/);
  assert.match(t.source, /openai\.com.*anthropic\.com.*ai\.google\.dev/s);
  const providers = new Set(Object.values(t.models).map((m) => m.provider));
  for (const p of ['openai', 'anthropic', 'google', 'groq', 'together', 'deepseek', 'mistral', 'xai']) assert.ok(providers.has(p), p);
  for (const [name, m] of Object.entries(t.models)) {
    assert.ok(m.input >= 0 && m.output >= 0, name);
    if (m.provider === 'anthropic') assert.ok(m.cacheRead! > 0 && m.cacheWrite! > 0, `${name} has cache prices`);
  }
});

test('model names resolve through dates, aliases, provider prefixes and cloud ids', () => {
  const cases: [string, string][] = [
    ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5'],
    ['claude-3-5-sonnet-20241022', 'claude-3-5-sonnet'],
    ['claude-3-5-sonnet-latest', 'claude-3-5-sonnet'],
    ['anthropic.claude-3-5-haiku-20241022-v1:0', 'claude-3-5-haiku'],
    ['us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'claude-sonnet-4-5'],
    ['claude-sonnet-4-5@20250929', 'claude-sonnet-4-5'],
    ['anthropic/claude-sonnet-4.5', 'claude-sonnet-4-5'],
    ['gpt-4o-2024-08-06', 'gpt-4o'],
    ['gpt-4o-mini-2024-07-18', 'gpt-4o-mini'],
    ['openai/gpt-5-mini', 'gpt-5-mini'],
    ['o3-2025-04-16', 'o3'],
    ['models/gemini-2.5-flash', 'gemini-2.5-flash'],
    ['gemini-2.5-flash-preview-05-20', 'gemini-2.5-flash'],
    ['gemini-2.5-flash-lite', 'gemini-2.5-flash-lite'],
    ['gemini-3-pro-preview', 'gemini-3-pro'],
    ['deepseek-chat', 'deepseek-chat'],
    ['meta-llama/Llama-3.3-70B-Instruct-Turbo', 'meta-llama/llama-3.3-70b-instruct-turbo'],
  ];
  for (const [name, key] of cases) assert.equal(resolveModel(name), key, name);
  // A made-up version is not silently priced as a neighbour.
  for (const name of ['claude-opus-4-8', 'gpt-7', 'my-finetune', 'gemini-9-ultra', 'claude-fable-5']) assert.equal(resolveModel(name), undefined, name);
});

test('usage is read with each API\'s meaning: Anthropic excludes cache, OpenAI includes it, Gemini bills thoughts', () => {
  // Anthropic claude-sonnet-4-5: 3 in / 15 out / 0.30 read / 3.75 write.
  assert.equal(costOf('claude-sonnet-4-5-20250929', { input: 1000, output: 100, cacheRead: 10000, cacheWrite: 2000 }, 'anthropic'), (1000 * 3 + 100 * 15 + 10000 * 0.3 + 2000 * 3.75) / 1e6);
  // OpenAI gpt-4o: 2.5 / 10 / 1.25 cached; input 1000 includes 800 cached.
  assert.equal(costOf('gpt-4o', { input: 1000, output: 10, cacheRead: 800 }, { api: 'openai.chat' }), (200 * 2.5 + 800 * 1.25 + 10 * 10) / 1e6);
  // Claude through an OpenAI-compatible gateway: the OpenAI meaning applies.
  assert.equal(costOf('anthropic/claude-sonnet-4.5', { input: 1000, output: 0, cacheRead: 400 }, { api: 'openai.chat' }), (600 * 3 + 400 * 0.3) / 1e6);
  // Gemini 2.5 flash: 0.30 / 2.50, thoughts billed as output.
  assert.equal(costOf('gemini-2.5-flash', { input: 100, output: 10, reasoning: 90 }, 'google'), (100 * 0.3 + 100 * 2.5) / 1e6);
  // Long prompts use the higher tier.
  assert.equal(costOf('gemini-2.5-pro', { input: 300000, output: 0 }, 'google'), (300000 * 2.5) / 1e6);
  // No usage or no model: no cost.
  assert.equal(costOf('gpt-4o', undefined), undefined);
  assert.equal(costOf(undefined, { input: 1 }), undefined);
});

test('an unknown model costs "unknown", never 0', () => {
  const c = costOf('claude-opus-4-8', { input: 1000, output: 1000 }, 'anthropic');
  assert.equal(c, undefined);
  assert.equal(formatCost(c), 'unknown');
  assert.equal(formatCost(0.000123), '$0.000123');
  assert.equal(formatCost(1.5), '$1.50');
  assert.equal(formatCost(0.0105300001), '$0.01053');
  assert.equal(formatCost(1.2e-7), '$0.00000012');
});

test('--pricing FILE adds and overrides prices; a bad file says what is wrong', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'agenttap-pricing-'));
  const file = path.join(dir, 'prices.json');
  writeFileSync(file, JSON.stringify({ models: { 'acme-coder': { input: 1, output: 2 }, 'gpt-4o': { input: 100, output: 100 } } }));
  usePricingFile(file);
  assert.equal(costOf('acme-coder-20260101', { input: 1_000_000, output: 1_000_000 }), 3);
  assert.equal(costOf('gpt-4o', { input: 1_000_000, output: 0 }), 100);
  writeFileSync(file, JSON.stringify({ models: { x: { input: 'cheap' } } }));
  assert.throws(() => usePricingFile(file), (e: unknown) => e instanceof PricingError && /model x needs numeric "input" and "output"/.test(e.message));
  writeFileSync(file, 'nope');
  assert.throws(() => usePricingFile(file), /not valid JSON/);
  assert.throws(() => usePricingFile(path.join(dir, 'missing.json')), /cannot read pricing file .*ENOENT/);
});

test('an Azure deployment name is priced by the model the response names', async () => {
  const { normalizeExchange } = await import('../../src/llm/normalize.js');
  const { makeRecord } = await import('../support/llm-records.js');
  const x = normalizeExchange(
    makeRecord({
      url: 'https://contoso.openai.azure.com/openai/deployments/prod-chat/chat/completions?api-version=2024-10-21',
      requestBody: { messages: [{ role: 'user', content: 'hi' }] },
      responseBody: { object: 'chat.completion', model: 'gpt-4.1-2025-04-14', choices: [{ index: 0, message: { role: 'assistant', content: 'hello' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1000, completion_tokens: 100 } },
    }),
  );
  assert.equal(x?.model, 'prod-chat');
  assert.equal(x?.detection.provider, 'azure-openai');
  assert.equal(x?.costUsd, (1000 * 2 + 100 * 8) / 1e6);
});
