// The official openai and @anthropic-ai/sdk clients through the capture proxy (forward with TLS
// interception, and a reverse listener) against the built-in fake LLM upstream over HTTPS:
// a tool call round trip, streaming and not; the SDKs parse what passed and the records hold it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { fetch as undiciFetch, ProxyAgent, Agent } from 'undici';
import { headerValue } from '../../src/capture/record.js';
import { startFakeLlm, type FakeLlm } from '../../src/fake-llm/server.js';
import { startTestProxy } from '../support/proxy-harness.js';
import { upstreamTestCa } from '../support/test-upstream.js';

async function fakeOverHttps(): Promise<FakeLlm> {
  const { ca } = await upstreamTestCa();
  const leaf = await ca.leafFor('127.0.0.1');
  return startFakeLlm({ tls: { cert: leaf.certPem, key: leaf.keyPem } });
}

const weatherTool = { name: 'get_weather', description: 'weather for a city', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] } };

async function anthropicRoundTrip(client: Anthropic, stream: boolean): Promise<string> {
  const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'What is the weather in Paris?' }];
  const params = { model: 'claude-opus-4-6', max_tokens: 256, tools: [weatherTool], messages };
  const first = stream ? await client.messages.stream(params).finalMessage() : await client.messages.create(params);
  assert.equal(first.stop_reason, 'tool_use');
  const call = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use')!;
  assert.equal(call.name, 'get_weather');
  assert.deepEqual(call.input, { city: 'agenttap-tool-ok' });
  messages.push({ role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: 'sunny, 21C' }] });
  const second = stream ? await client.messages.stream({ ...params, messages }).finalMessage() : await client.messages.create({ ...params, messages });
  assert.equal(second.stop_reason, 'end_turn');
  return second.content.map((b) => (b.type === 'text' ? b.text : '')).join('');
}

async function openaiRoundTrip(client: OpenAI, stream: boolean): Promise<string> {
  const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
  const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'What is the weather in Paris?' }];
  const first = stream
    ? await client.chat.completions.stream({ model: 'gpt-4.1-mini', messages, tools, stream_options: { include_usage: true } }).finalChatCompletion()
    : await client.chat.completions.create({ model: 'gpt-4.1-mini', messages, tools });
  const choice = first.choices[0]!;
  assert.equal(choice.finish_reason, 'tool_calls');
  const call = choice.message.tool_calls![0]!;
  assert.ok(call.type === 'function');
  assert.equal(call.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.function.arguments), { city: 'agenttap-tool-ok' });
  messages.push(choice.message as OpenAI.ChatCompletionMessageParam, { role: 'tool', tool_call_id: call.id, content: 'sunny, 21C' });
  const second = stream
    ? await client.chat.completions.stream({ model: 'gpt-4.1-mini', messages, tools }).finalChatCompletion()
    : await client.chat.completions.create({ model: 'gpt-4.1-mini', messages, tools });
  assert.equal(second.choices[0]!.finish_reason, 'stop');
  return second.choices[0]!.message.content ?? '';
}

test('Anthropic and OpenAI SDKs through the forward proxy: tool round trips, streaming and not, all recorded', async () => {
  const fake = await fakeOverHttps();
  const p = await startTestProxy();
  const dispatcher = new ProxyAgent({ uri: p.url, requestTls: { ca: p.caPem } });
  const fetchOptions = { dispatcher } as never;
  try {
    const anthropic = new Anthropic({ apiKey: 'sk-ant-api03-test-key-abcd', baseURL: fake.url, fetch: undiciFetch as never, fetchOptions, maxRetries: 0 });
    const openai = new OpenAI({ apiKey: 'sk-proj-test-key-efgh', baseURL: `${fake.url}/v1`, fetch: undiciFetch as never, fetchOptions, maxRetries: 0 });
    for (const stream of [false, true]) {
      assert.match(await anthropicRoundTrip(anthropic, stream), /The tool returned: sunny, 21C/);
      assert.match(await openaiRoundTrip(openai, stream), /The tool returned: sunny, 21C/);
    }
    const recs = await p.waitForRecords(8);
    assert.equal(fake.requests.length, 8);
    for (const r of recs) {
      assert.equal(r.error, null, JSON.stringify(r.error));
      assert.equal(r.response!.status, 200);
      const isAnthropic = r.request!.url.endsWith('/v1/messages');
      const body = JSON.parse(r.request!.body!.text!) as { stream?: boolean; tools: unknown[] };
      assert.equal(body.tools.length, 1);
      // The Anthropic SDK sends its key as x-api-key or a Bearer token depending on version.
      const key = headerValue(r.request!.headers, 'x-api-key') ?? headerValue(r.request!.headers, 'authorization');
      assert.match(key!, isAnthropic ? /\[REDACTED …abcd\]$/ : /^Bearer \[REDACTED …efgh\]$/);
      assert.ok(!JSON.stringify(r).includes('test-key'), 'the key leaked into the record');
      const text = r.response!.body!.text!;
      if (body.stream) {
        assert.match(headerValue(r.response!.headers, 'content-type')!, /text\/event-stream/);
        assert.ok(r.response!.chunks!.length > 3, 'streamed in many chunks');
        assert.ok(isAnthropic ? text.startsWith('event: message_start\n') && text.includes('event: message_stop') : text.endsWith('data: [DONE]\n\n'));
      } else assert.doesNotThrow(() => JSON.parse(text));
    }
  } finally {
    await dispatcher.close();
    await p.close();
    await fake.close();
  }
});

test('SDKs pointed at a reverse listener (base URL) reach the HTTPS upstream and are recorded in reverse mode', async () => {
  const fake = await fakeOverHttps();
  const p = await startTestProxy({ port: false, reverse: [{ port: 0, target: fake.url }] });
  const dispatcher = new Agent();
  try {
    const base = p.cp.reverseListeners[0]!.url;
    const anthropic = new Anthropic({ apiKey: 'sk-ant-api03-test-key-abcd', baseURL: base, fetch: undiciFetch as never, fetchOptions: { dispatcher } as never, maxRetries: 0 });
    assert.match(await anthropicRoundTrip(anthropic, true), /sunny/);
    const openai = new OpenAI({ apiKey: 'sk-proj-test-key-efgh', baseURL: `${base}/v1`, fetch: undiciFetch as never, fetchOptions: { dispatcher } as never, maxRetries: 0 });
    assert.match(await openaiRoundTrip(openai, false), /sunny/);
    const recs = await p.waitForRecords(4);
    for (const r of recs) {
      assert.equal(r.mode, 'reverse');
      assert.ok(r.request!.url.startsWith(`${fake.url}/v1/`), r.request!.url);
      assert.equal(r.server.listener, base);
    }
  } finally {
    await dispatcher.close();
    await p.close();
    await fake.close();
  }
});
