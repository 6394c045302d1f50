// Nothing a capture file can hold makes the LLM layer throw: damaged bodies, odd JSON values,
// missing parts, binary bodies — normalizeExchange returns an exchange (with an error) or undefined.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CaptureRecord } from '../../src/capture/record.js';
import { detect } from '../../src/llm/detect.js';
import { normalizeExchange } from '../../src/llm/normalize.js';
import { fixture, makeRecord } from '../support/llm-records.js';

// A small deterministic PRNG so a failure can be replayed.
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const streams: [string, object, string][] = [
  ['https://api.anthropic.com/v1/messages', { model: 'claude-opus-4-1', stream: true, messages: [] }, fixture('anthropic/fixtures__fable-fallback__stream-a-toolrefusal.sse')],
  ['https://api.openai.com/v1/chat/completions', { model: 'gpt-4o', stream: true, messages: [] }, fixture('openai/chat-completions--stream-emits-refusal-logprobs-events-1.sse')],
  ['https://api.openai.com/v1/responses', { model: 'o3', stream: true, input: 'x' }, fixture('openai/responses--stream-reasoning-works-1.sse')],
  ['https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', { contents: [] }, 'data: {"candidates":[{"content":{"parts":[{"text":"hi"}]}}]}\n\ndata: {"candidates":[{"content":{"parts":[{"text":" there"}]},"finishReason":"STOP"}]}\n\n'],
];

test('damaged stream bodies never throw', () => {
  const rand = rng(42);
  let exchanges = 0;
  for (const [url, body, text] of streams) {
    for (let i = 0; i < 300; i++) {
      const chars = [...text];
      const edits = 1 + Math.floor(rand() * 8);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(rand() * chars.length);
        const op = rand();
        if (op < 0.3) chars.splice(at, 1 + Math.floor(rand() * 20));
        else if (op < 0.6) chars.splice(at, 0, ['{', '}', '"', '\\', '\n', '\r', ':', 'data: ', '[DONE]', 'null', '\u0000', '\ud800'][Math.floor(rand() * 12)]!);
        else chars[at] = String.fromCharCode(Math.floor(rand() * 128));
      }
      const x = normalizeExchange(makeRecord({ url, requestBody: body, responseBody: chars.join('') }));
      if (x) {
        exchanges++;
        assert.ok(Array.isArray(x.response.turns));
        JSON.stringify(x); // serializable
      }
    }
  }
  assert.ok(exchanges > 1000);
});

test('odd JSON values in requests and responses never throw', () => {
  const values: unknown[] = [null, 0, -1, 'str', [], [null], {}, { messages: 'nope' }, { messages: [null, 1, 'x', { role: 7, content: { a: 1 } }] }, { input: { weird: true } }, { contents: 'text' }, { contents: [{ parts: 'x' }] }, { tools: [null, { function: 3 }, { functionDeclarations: 'x' }] }, { system: [1, { text: 2 }] }, { choices: [{ delta: null, message: 5 }] }, { content: [{ type: 'tool_use', input: 'x' }] }, { output: [null, { type: 'function_call', arguments: 5 }] }, { candidates: [{ content: { parts: [null, { functionCall: 1 }] } }] }];
  const urls = ['https://api.anthropic.com/v1/messages', 'https://api.openai.com/v1/chat/completions', 'https://api.openai.com/v1/responses', 'https://api.openai.com/v1/embeddings', 'https://generativelanguage.googleapis.com/v1beta/models/g:generateContent', 'https://api.anthropic.com/v1/messages/count_tokens', 'https://bedrock-runtime.us-east-1.amazonaws.com/model/x/converse', 'http://localhost:11434/api/chat', 'https://api.openai.com/v1/completions'];
  for (const url of urls) for (const req of values) for (const res of values) {
    const x = normalizeExchange(makeRecord({ url, requestBody: req === undefined ? undefined : JSON.stringify(req), responseBody: JSON.stringify(res) }));
    assert.ok(x, url);
    JSON.stringify(x);
  }
});

test('records with missing parts, binary bodies and errors still normalize or are skipped', () => {
  const base = makeRecord({ url: 'https://api.anthropic.com/v1/messages', requestBody: { model: 'claude-opus-4-1', messages: [] } });
  const noResponse: CaptureRecord = { ...base, response: undefined, error: { phase: 'upstream-connect', code: 'ECONNREFUSED', message: 'connect ECONNREFUSED' } };
  assert.match(normalizeExchange(noResponse)!.response.error ?? '', /ECONNREFUSED/);
  const binary = makeRecord({ url: 'https://api.openai.com/v1/chat/completions', requestBody: { model: 'gpt-4o', messages: [] }, responseBody: Buffer.from([0xff, 0xfe, 0x00, 0x81, 0x7b]) });
  assert.ok(normalizeExchange(binary)!.response.error);
  const noRequestBody: CaptureRecord = { ...base, request: { ...base.request!, body: undefined } };
  assert.ok(normalizeExchange(noRequestBody));
  const truncatedCap = makeRecord({ url: 'https://api.openai.com/v1/chat/completions', requestBody: { model: 'gpt-4o', messages: [] }, responseBody: fixture('openai/chat-completions--stream-works-1.sse') });
  truncatedCap.response!.body!.truncated = true;
  assert.match(normalizeExchange(truncatedCap)!.response.error ?? '', /cap/);
  const noUrl = { ...base, request: { ...base.request!, url: '' } } as CaptureRecord;
  assert.doesNotThrow(() => detect(noUrl));
  const weirdServer = { ...base, server: undefined } as unknown as CaptureRecord;
  assert.doesNotThrow(() => normalizeExchange(weirdServer));
});
