// The whole path: an official SDK talks to the built-in fake upstream through agenttap's capture
// proxy (reverse listener); the recorder's record is normalized and must equal what the SDK itself
// accumulated from the same stream — text, tool calls, stop reason, usage.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { startCaptureProxy, type CaptureProxy } from '../../src/capture/capture-proxy.js';
import type { CaptureRecord } from '../../src/capture/record.js';
import { startFakeLlm, type FakeLlm } from '../../src/fake-llm/server.js';
import { normalizeExchange } from '../../src/llm/normalize.js';
import type { Block, LlmExchange } from '../../src/llm/types.js';
import { tempDir, type TempDir } from '../support/temp-home.js';

let fake: FakeLlm;
let cap: CaptureProxy;
let home: TempDir;
let base: string;
const records: CaptureRecord[] = [];

before(async () => {
  fake = await startFakeLlm();
  home = tempDir('agenttap-llm-live-');
  cap = await startCaptureProxy({ out: false, port: false, home: home.dir, reverse: [{ port: 0, target: fake.url }] });
  cap.recorder.on('record', (r) => records.push(r));
  base = cap.reverseListeners[0]!.url;
});

after(async () => {
  await cap.close();
  await fake.close();
  home.cleanup();
});

async function lastRecord(pathPart: string): Promise<CaptureRecord> {
  for (let i = 0; i < 200; i++) {
    const r = [...records].reverse().find((x) => x.request?.url.includes(pathPart));
    if (r) return r;
    await new Promise((res) => setTimeout(res, 10));
  }
  throw new Error(`no record for ${pathPart}`);
}

function blocksOf(x: LlmExchange): Block[] {
  return x.response.turns.flatMap((t) => t.blocks);
}
const textOf = (x: LlmExchange) => blocksOf(x).filter((b) => b.type === 'text').map((b) => (b as { text: string }).text).join('');
const callsOf = (x: LlmExchange) => blocksOf(x).filter((b) => b.type === 'tool_call').map((b) => ({ id: (b as { id?: string }).id, name: (b as { name: string }).name, input: (b as { input: unknown }).input }));

test('Anthropic SDK through the proxy: the recorded stream normalizes to the SDK\'s final message', async () => {
  records.length = 0;
  const client = new Anthropic({ apiKey: 'sk-ant-test', baseURL: base, maxRetries: 0 });
  const sdk = await client.messages
    .stream({ model: 'claude-sonnet-4-5', max_tokens: 200, system: 'You are a test agent.', tools: [{ name: 'bash', description: 'run a command', input_schema: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] } }], messages: [{ role: 'user', content: 'list the files' }] })
    .finalMessage();
  const x = normalizeExchange(await lastRecord('/v1/messages'));
  assert.ok(x);
  assert.equal(x.detection.api, 'anthropic.messages');
  assert.equal(x.request.system, 'You are a test agent.');
  assert.deepEqual(x.request.tools.map((t) => t.name), ['bash']);
  assert.equal(textOf(x), sdk.content.filter((b) => b.type === 'text').map((b) => (b as { text: string }).text).join(''));
  assert.deepEqual(callsOf(x), sdk.content.filter((b) => b.type === 'tool_use').map((b) => ({ id: (b as { id: string }).id, name: (b as { name: string }).name, input: (b as { input: unknown }).input })));
  assert.ok(callsOf(x).length > 0, 'the fake called the offered tool');
  assert.equal(x.response.stopReason, sdk.stop_reason);
  assert.equal(x.response.usage?.input, sdk.usage.input_tokens);
  assert.equal(x.response.usage?.output, sdk.usage.output_tokens);
  assert.equal(x.response.error, undefined);
});

test('OpenAI SDK chat stream through the proxy equals ChatCompletionStream', async () => {
  records.length = 0;
  const client = new OpenAI({ apiKey: 'sk-test', baseURL: `${base}/v1`, maxRetries: 0 });
  const sdk = await client.chat.completions
    .stream({ model: 'gpt-4o-mini', stream_options: { include_usage: true }, messages: [{ role: 'system', content: 'sys' }, { role: 'user', content: 'run a shell command' }], tools: [{ type: 'function', function: { name: 'shell', description: 'run', parameters: { type: 'object', properties: { command: { type: 'array', items: { type: 'string' } } }, required: ['command'] } } }] })
    .finalChatCompletion();
  const x = normalizeExchange(await lastRecord('/chat/completions'));
  assert.ok(x);
  const msg = sdk.choices[0]!.message;
  assert.equal(textOf(x), msg.content ?? '');
  assert.deepEqual(callsOf(x), (msg.tool_calls ?? []).map((t) => ({ id: t.id, name: (t as { function: { name: string } }).function.name, input: JSON.parse((t as { function: { arguments: string } }).function.arguments) })));
  assert.equal(x.response.stopReason, sdk.choices[0]!.finish_reason);
  assert.equal(x.response.usage?.input, sdk.usage?.prompt_tokens);
  assert.equal(x.response.usage?.output, sdk.usage?.completion_tokens);
  assert.equal(x.response.error, undefined);
});

test('OpenAI SDK Responses stream through the proxy equals ResponseStream', async () => {
  records.length = 0;
  const client = new OpenAI({ apiKey: 'sk-test', baseURL: `${base}/v1`, maxRetries: 0 });
  const sdk = await client.responses.stream({ model: 'gpt-5-codex', instructions: 'be Codex', input: 'say hello' }).finalResponse();
  const x = normalizeExchange(await lastRecord('/responses'));
  assert.ok(x);
  assert.equal(x.request.system, 'be Codex');
  assert.equal(textOf(x), sdk.output_text);
  assert.equal(x.response.stopReason, sdk.status);
  assert.equal(x.response.usage?.input, sdk.usage?.input_tokens);
  assert.equal(x.response.usage?.output, sdk.usage?.output_tokens);
  assert.equal(x.response.error, undefined);
});

test('Google GenAI SDK stream through the proxy equals its chunks', async () => {
  records.length = 0;
  const ai = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl: base } });
  const chunks = [];
  for await (const c of await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: 'hello there' })) chunks.push(c);
  const x = normalizeExchange(await lastRecord('streamGenerateContent'));
  assert.ok(x);
  assert.equal(x.model, 'gemini-2.5-flash');
  assert.equal(textOf(x), chunks.map((c) => c.text ?? '').join(''));
  assert.ok(textOf(x).length > 0);
  const last = chunks[chunks.length - 1]!;
  assert.equal(x.response.stopReason, last.candidates?.[0]?.finishReason);
  assert.equal(x.response.usage?.input, last.usageMetadata?.promptTokenCount);
  assert.equal(x.response.error, undefined);
});
