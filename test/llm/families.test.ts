// What each API family makes of the shapes the SDK fixtures do not cover: non-streamed answers,
// server tools, citations, mid-stream errors, count_tokens, Bedrock event-stream, Gemini's
// Code Assist envelope and JSON-array streams, embeddings, Responses over WebSocket.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeEventStreamMessage, decodeEventStream } from '../../src/protocols/aws-eventstream.js';
import { normalizeExchange } from '../../src/llm/normalize.js';
import type { LlmExchange } from '../../src/llm/types.js';
import { fixture, makeRecord } from '../support/llm-records.js';

function norm(...args: Parameters<typeof makeRecord>): LlmExchange {
  const x = normalizeExchange(makeRecord(...args));
  assert.ok(x, 'is an LLM exchange');
  return x;
}

const sse = (events: [string, unknown][]) => events.map(([e, d]) => `event: ${e}\ndata: ${JSON.stringify(d)}\n\n`).join('');

test('Anthropic request: system blocks joined, tool_use / tool_result turns, images, tools offered', () => {
  const x = norm({
    url: 'https://api.anthropic.com/v1/messages',
    requestBody: {
      model: 'claude-sonnet-4-5-20250929',
      max_tokens: 100,
      system: [{ type: 'text', text: 'You are Claude Code.' }, { type: 'text', text: 'Be terse.', cache_control: { type: 'ephemeral' } }],
      tools: [{ name: 'Bash', description: 'run a command', input_schema: {} }, { type: 'web_search_20250305', name: 'web_search' }],
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'list files' }, { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } }] },
        { role: 'assistant', content: [{ type: 'thinking', thinking: 'use ls', signature: 's' }, { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'ls' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'a.txt' }], is_error: false }] },
      ],
    },
    responseBody: { id: 'msg_1', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5-20250929', content: [{ type: 'text', text: 'a.txt' }], stop_reason: 'end_turn', usage: { input_tokens: 10, output_tokens: 3, cache_read_input_tokens: 1000, cache_creation_input_tokens: 50 } },
  });
  assert.equal(x.request.system, 'You are Claude Code.\nBe terse.');
  assert.deepEqual(x.request.tools, [{ name: 'Bash', description: 'run a command' }, { name: 'web_search' }]);
  assert.deepEqual(x.request.turns[0]!.blocks, [{ type: 'text', text: 'list files' }, { type: 'image', mediaType: 'image/png' }]);
  assert.deepEqual(x.request.turns[1]!.blocks, [{ type: 'thinking', text: 'use ls' }, { type: 'tool_call', id: 'toolu_1', name: 'Bash', input: { command: 'ls' } }]);
  assert.deepEqual(x.request.turns[2]!.blocks, [{ type: 'tool_result', id: 'toolu_1', output: 'a.txt' }]);
  assert.deepEqual(x.response.usage, { input: 10, output: 3, cacheRead: 1000, cacheWrite: 50 });
  assert.equal(x.stream, false);
  // Anthropic input excludes cache: 10×3 + 3×15 + 1000×0.30 + 50×3.75 per million.
  assert.equal(x.costUsd, (10 * 3 + 3 * 15 + 1000 * 0.3 + 50 * 3.75) / 1e6);
});

test('Anthropic stream: server tools, web search results, citations, refusal', () => {
  const x = norm({ url: 'https://api.anthropic.com/v1/messages', requestBody: { model: 'claude-fable-5', stream: true, max_tokens: 10, messages: [{ role: 'user', content: 'search' }] }, responseBody: fixture('anthropic/fixtures__fable-fallback__stream-a-toolrefusal.sse') });
  const blocks = x.response.turns[0]!.blocks;
  const server = blocks.find((b) => b.type === 'tool_call');
  assert.ok(server && server.type === 'tool_call' && server.server === true && server.name === 'web_search');
  assert.ok(blocks.some((b) => b.type === 'tool_result' && Array.isArray(b.output) && (b.output as { type: string }[])[0]!.type === 'web_search_result'));
  assert.equal(x.response.stopReason, 'refusal');
  assert.ok(blocks.some((b) => b.type === 'text' && b.refusal === true));

  const cited = norm({
    url: 'https://api.anthropic.com/v1/messages',
    requestBody: { model: 'claude-sonnet-4-5', stream: true, max_tokens: 10, messages: [] },
    responseBody: sse([
      ['message_start', { type: 'message_start', message: { id: 'm', model: 'claude-sonnet-4-5', content: [], usage: { input_tokens: 5, output_tokens: 1 } } }],
      ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
      ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'citations_delta', citation: { type: 'web_search_result_location', url: 'https://x', cited_text: 'c' } } }],
      ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Per x.' } }],
      ['content_block_stop', { type: 'content_block_stop', index: 0 }],
      ['message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 4 } }],
      ['message_stop', { type: 'message_stop' }],
    ]),
  });
  assert.deepEqual(cited.response.turns[0]!.blocks, [
    { type: 'text', text: 'Per x.' },
    { type: 'other', raw: { type: 'citations', citations: [{ type: 'web_search_result_location', url: 'https://x', cited_text: 'c' }] } },
  ]);
  assert.deepEqual(cited.response.usage, { input: 5, output: 4 });
});

test('Anthropic: an error event mid-stream keeps the text so far and names the error', () => {
  const x = norm({
    url: 'https://api.anthropic.com/v1/messages',
    requestBody: { model: 'claude-sonnet-4-5', stream: true, max_tokens: 10, messages: [] },
    responseBody: sse([
      ['message_start', { type: 'message_start', message: { id: 'm', model: 'claude-sonnet-4-5', content: [], usage: { input_tokens: 5, output_tokens: 1 } } }],
      ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
      ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Half an ans' } }],
      ['error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }],
    ]),
  });
  assert.equal(x.response.error, 'overloaded_error: Overloaded');
  assert.deepEqual(x.response.turns[0]!.blocks, [{ type: 'text', text: 'Half an ans' }]);
  const http = norm({ url: 'https://api.anthropic.com/v1/messages', status: 429, requestBody: { model: 'claude-sonnet-4-5', messages: [] }, responseBody: { type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } } });
  assert.equal(http.response.error, 'rate_limit_error: slow down');
});

test('Anthropic count_tokens: an exchange with input usage and no answer turns', () => {
  const x = norm({ url: 'https://api.anthropic.com/v1/messages/count_tokens', requestBody: { model: 'claude-sonnet-4-5', system: 's', messages: [{ role: 'user', content: 'hi' }] }, responseBody: { input_tokens: 14 } });
  assert.equal(x.detection.api, 'anthropic.count_tokens');
  assert.deepEqual(x.response, { turns: [], usage: { input: 14 } });
  assert.equal(x.request.turns.length, 1);
});

test('Bedrock invoke-with-response-stream: Anthropic events inside AWS event-stream chunks', () => {
  const events = fixture('anthropic/lib__fixtures__tool_use_response.txt')
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => l.slice(6));
  const body = Buffer.concat(events.map((e) => encodeEventStreamMessage({ ':event-type': 'chunk', ':content-type': 'application/json', ':message-type': 'event' }, JSON.stringify({ bytes: Buffer.from(e).toString('base64') }))));
  assert.equal(decodeEventStream(body).messages.length, events.length);
  const url = 'https://bedrock-runtime.us-east-1.amazonaws.com/model/us.anthropic.claude-sonnet-4-5-20250929-v1:0/invoke-with-response-stream';
  const reqBody = { anthropic_version: 'bedrock-2023-05-31', max_tokens: 100, messages: [{ role: 'user', content: 'weather in Paris?' }] };
  const headers: [string, string][] = [['content-type', 'application/vnd.amazon.eventstream']];
  const x = norm({ url, requestBody: reqBody, responseHeaders: headers, responseBody: body });
  assert.equal(x.detection.provider, 'aws-bedrock');
  assert.equal(x.model, 'us.anthropic.claude-sonnet-4-5-20250929-v1:0');
  assert.equal(x.stream, true);
  const call = x.response.turns[0]!.blocks.find((b) => b.type === 'tool_call');
  assert.deepEqual(call, { type: 'tool_call', id: 'toolu_01NRLabsLyVHZPKxbKvkfSMn', name: 'get_weather', input: { location: 'Paris' } });
  assert.equal(x.response.stopReason, 'tool_use');
  assert.equal(x.response.error, undefined);
  assert.ok(x.costUsd !== undefined && x.costUsd > 0, 'Bedrock model id resolves to a price');
  // Cut in the middle of a binary message: what arrived, plus an error.
  const cut = norm({ url, requestBody: reqBody, responseHeaders: headers, responseBody: body.subarray(0, Math.floor(body.length * 0.6)) });
  assert.ok(cut.response.turns.length > 0);
  assert.match(cut.response.error ?? '', /truncated|message_stop/);
  // A corrupted CRC is reported, not thrown.
  const bad = Buffer.from(body);
  bad[20] = bad[20]! ^ 0xff;
  assert.match(decodeEventStream(bad).error ?? '', /CRC/);
  // An exception message names itself.
  const exc = Buffer.concat([body.subarray(0, 0), encodeEventStreamMessage({ ':message-type': 'exception', ':exception-type': 'throttlingException' }, JSON.stringify({ message: 'Too many requests' }))]);
  assert.match(norm({ url, requestBody: reqBody, responseHeaders: headers, responseBody: exc }).response.error ?? '', /throttlingException: Too many requests/);
});

test('OpenAI chat: non-streamed answer with tool calls, refusal, leading system vs later system turns, tool results', () => {
  const x = norm({
    url: 'https://api.openai.com/v1/chat/completions',
    requestBody: {
      model: 'gpt-4.1',
      messages: [
        { role: 'system', content: 'sys A' },
        { role: 'developer', content: [{ type: 'text', text: 'sys B' }] },
        { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,AAAA' } }] },
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'read', arguments: '{"path":"a"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'file A' },
        { role: 'system', content: 'mid-conversation note' },
      ],
      tools: [{ type: 'function', function: { name: 'read', description: 'read a file' } }],
    },
    responseBody: { id: 'c1', object: 'chat.completion', model: 'gpt-4.1-2025-04-14', choices: [{ index: 0, message: { role: 'assistant', content: null, refusal: 'I cannot help with that.' }, finish_reason: 'stop' }], usage: { prompt_tokens: 100, completion_tokens: 7, prompt_tokens_details: { cached_tokens: 60 } } },
  });
  assert.equal(x.request.system, 'sys A\nsys B');
  assert.deepEqual(x.request.turns.map((t) => t.role), ['user', 'assistant', 'tool', 'system']);
  assert.deepEqual(x.request.turns[0]!.blocks[1], { type: 'image', mediaType: 'image/jpeg' });
  assert.deepEqual(x.request.turns[1]!.blocks, [{ type: 'tool_call', id: 'call_1', name: 'read', input: { path: 'a' } }]);
  assert.deepEqual(x.request.turns[2]!.blocks, [{ type: 'tool_result', id: 'call_1', output: 'file A' }]);
  assert.deepEqual(x.response.turns[0]!.blocks, [{ type: 'text', text: 'I cannot help with that.', refusal: true }]);
  assert.deepEqual(x.response.usage, { input: 100, output: 7, cacheRead: 60 });
  // OpenAI input includes cached: (100-60)×2 + 60×0.5 + 7×8 per million.
  assert.equal(x.costUsd, (40 * 2 + 60 * 0.5 + 7 * 8) / 1e6);
});

test('OpenAI-compatible streams: tool calls by index, reasoning_content, no [DONE] after a cut', () => {
  const chunk = (delta: object, finish: string | null = null) => `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', model: 'deepseek-reasoner', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const body =
    chunk({ role: 'assistant', reasoning_content: 'Think' }) +
    chunk({ reasoning_content: 'ing.' }) +
    chunk({ content: 'Calling.' }) +
    chunk({ tool_calls: [{ index: 0, id: 'c0', type: 'function', function: { name: 'a', arguments: '{"x":' } }, { index: 1, id: 'c1', type: 'function', function: { name: 'b', arguments: '' } }] }) +
    chunk({ tool_calls: [{ index: 1, function: { arguments: '{"y":2}' } }, { index: 0, function: { arguments: '1}' } }] }) +
    chunk({}, 'tool_calls') +
    `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 9, completion_tokens: 20, prompt_cache_hit_tokens: 4, completion_tokens_details: { reasoning_tokens: 12 } } })}\n\n` +
    'data: [DONE]\n\n';
  const url = 'https://api.deepseek.com/chat/completions';
  const req = { model: 'deepseek-reasoner', stream: true, messages: [{ role: 'user', content: 'go' }] };
  const x = norm({ url, requestBody: req, responseBody: body });
  assert.equal(x.detection.provider, 'deepseek');
  assert.deepEqual(x.response.turns[0]!.blocks, [
    { type: 'thinking', text: 'Thinking.' },
    { type: 'text', text: 'Calling.' },
    { type: 'tool_call', id: 'c0', name: 'a', input: { x: 1 } },
    { type: 'tool_call', id: 'c1', name: 'b', input: { y: 2 } },
  ]);
  assert.equal(x.response.stopReason, 'tool_calls');
  assert.deepEqual(x.response.usage, { input: 9, output: 20, cacheRead: 4, reasoning: 12 });
  assert.equal(x.response.error, undefined);
  for (let cut = 1; cut < body.length; cut += 7) {
    const part = norm({ url, requestBody: req, responseBody: body.slice(0, cut) });
    if (cut < body.length - 'data: [DONE]\n\n'.length) assert.match(part.response.error ?? '', /truncated|before any chunk|cut before/, `cut at ${cut}`);
  }
});

test('truncated streams of every family give what arrived plus an error, never an exception', () => {
  const cases: [string, object, string][] = [
    ['https://api.anthropic.com/v1/messages', { model: 'claude-opus-4-1', stream: true, messages: [] }, fixture('anthropic/lib__fixtures__tool_use_response.txt')],
    ['https://api.openai.com/v1/chat/completions', { model: 'gpt-4o', stream: true, messages: [] }, fixture('openai/chat-completions--stream-works-1.sse')],
    ['https://api.openai.com/v1/responses', { model: 'o3', stream: true, input: 'x' }, fixture('openai/responses--stream-reasoning-works-1.sse')],
  ];
  for (const [url, body, text] of cases) {
    const full = norm({ url, requestBody: body, responseBody: text });
    assert.equal(full.response.error, undefined, url);
    const fullText = JSON.stringify(full.response.turns);
    let withContent = 0;
    for (let cut = 0; cut < text.length - 30; cut += 13) {
      const x = norm({ url, requestBody: body, responseBody: text.slice(0, cut) });
      assert.ok(x.response.error, `${url} cut at ${cut} says so`);
      for (const t of x.response.turns) for (const b of t.blocks) if (b.type === 'text') assert.ok(fullText.includes(JSON.stringify(b.text).slice(1, -1)), `${url} cut ${cut}: text is a prefix of the whole`);
      if (x.response.turns.length) withContent++;
    }
    assert.ok(withContent > 0, `${url}: partial answers are kept`);
  }
  // The incomplete tool JSON fixture: input parsed as far as it goes.
  const partial = norm({ url: 'https://api.anthropic.com/v1/messages', requestBody: { model: 'claude-opus-4-1', stream: true, messages: [] }, responseBody: fixture('anthropic/lib__fixtures__incomplete_partial_json_response.txt') });
  const call = partial.response.turns[0]!.blocks.find((b) => b.type === 'tool_call');
  assert.ok(call && call.type === 'tool_call' && typeof call.input === 'object' && call.input !== null);
  assert.equal(partial.response.stopReason, 'max_tokens');
  // A recorder-level error (client went away) shows up as the response error.
  const rec = makeRecord({ url: 'https://api.openai.com/v1/chat/completions', requestBody: { model: 'gpt-4o', stream: true, messages: [] }, responseBody: fixture('openai/chat-completions--stream-works-1.sse').slice(0, 400) });
  rec.error = { phase: 'client-abort', message: 'client closed the connection' };
  assert.match(normalizeExchange(rec)!.response.error ?? '', /truncated|client-abort/);
  // Garbage in a stream body does not throw.
  assert.ok(norm({ url: 'https://api.anthropic.com/v1/messages', requestBody: '{not json', responseBody: 'event: message_start\ndata: {oops\n\n' }).response.error);
});

test('Gemini: Code Assist envelope, JSON-array stream (whole and cut), thoughts and usage', () => {
  const chunks = [
    { response: { candidates: [{ content: { role: 'model', parts: [{ text: 'Plan: ', thought: true }] } }], modelVersion: 'gemini-2.5-pro' }, traceId: 't' },
    { response: { candidates: [{ content: { role: 'model', parts: [{ text: 'Hello ' }] } }] } },
    { response: { candidates: [{ content: { role: 'model', parts: [{ text: 'world' }, { functionCall: { name: 'read_file', args: { path: 'a' } } }] }, finishReason: 'STOP' }], usageMetadata: { promptTokenCount: 50, candidatesTokenCount: 8, thoughtsTokenCount: 30, cachedContentTokenCount: 20, totalTokenCount: 88 } } },
  ];
  const body = {
    model: 'gemini-2.5-pro',
    project: 'p-1',
    user_prompt_id: 'u1',
    request: { contents: [{ role: 'user', parts: [{ text: 'hi' }] }, { role: 'model', parts: [{ functionCall: { name: 'ls', args: {} } }] }, { role: 'user', parts: [{ functionResponse: { name: 'ls', response: { output: 'a' } } }] }], systemInstruction: { role: 'user', parts: [{ text: 'You are Gemini CLI.' }] }, tools: [{ functionDeclarations: [{ name: 'read_file', description: 'read' }] }] },
  };
  const sseText = chunks.map((c) => `data: ${JSON.stringify(c)}\r\n\r\n`).join('');
  const x = norm({ url: 'https://cloudcode-pa.googleapis.com/v1internal:streamGenerateContent?alt=sse', requestHeaders: [['content-type', 'application/json'], ['user-agent', 'GeminiCLI/0.9.0 (linux; x64)']], requestBody: body, responseBody: sseText });
  assert.equal(x.detection.agent, 'gemini-cli');
  assert.equal(x.model, 'gemini-2.5-pro');
  assert.equal(x.request.system, 'You are Gemini CLI.');
  assert.deepEqual(x.request.turns.map((t) => t.role), ['user', 'assistant', 'tool']);
  assert.deepEqual(x.request.tools, [{ name: 'read_file', description: 'read' }]);
  assert.deepEqual(x.response.turns[0]!.blocks, [
    { type: 'thinking', text: 'Plan: ' },
    { type: 'text', text: 'Hello world' },
    { type: 'tool_call', name: 'read_file', input: { path: 'a' } },
  ]);
  assert.deepEqual(x.response.usage, { input: 50, output: 8, cacheRead: 20, reasoning: 30 });
  assert.equal(x.response.stopReason, 'STOP');
  // gemini-2.5-pro: (50-20)×1.25 + 20×0.125 + (8+30)×10 per million — thoughts are billed as output.
  assert.equal(x.costUsd, (30 * 1.25 + 20 * 0.125 + 38 * 10) / 1e6);

  const arrayText = `[${chunks.map((c) => JSON.stringify(c.response)).join(',\r\n')}]`;
  const url = 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent';
  const req = { contents: [{ role: 'user', parts: [{ text: 'hi' }] }] };
  const arr = norm({ url, requestBody: req, responseBody: arrayText });
  assert.deepEqual(arr.response.turns, x.response.turns);
  assert.equal(arr.response.error, undefined);
  const cut = norm({ url, requestBody: req, responseBody: arrayText.slice(0, arrayText.indexOf('world')) });
  assert.deepEqual(cut.response.turns[0]!.blocks, [{ type: 'thinking', text: 'Plan: ' }, { type: 'text', text: 'Hello ' }]);
  assert.match(cut.response.error ?? '', /truncated/);
});

test('Gemini countTokens and embeddings are exchanges with usage and no invented answer', () => {
  const ct = norm({ url: 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:countTokens', requestBody: { contents: [{ role: 'user', parts: [{ text: 'The quick brown fox' }] }] }, responseBody: { totalTokens: 5 } });
  assert.deepEqual([ct.detection.api, ct.model, ct.response.usage], ['gemini.count_tokens', 'gemini-2.5-flash', { input: 5 }]);
  const emb = JSON.parse(fixture('openai/embeddings-float-response.json')) as object;
  const e = norm({ url: 'https://api.openai.com/v1/embeddings', requestBody: { model: 'text-embedding-3-small', input: ['a', 'b'] }, responseBody: emb });
  assert.equal(e.detection.api, 'openai.embeddings');
  assert.deepEqual(e.request.turns[0]!.blocks, [{ type: 'text', text: 'a' }, { type: 'text', text: 'b' }]);
  const raw = e.response.turns[0]!.blocks[0]!;
  assert.equal(raw.type, 'other');
  assert.ok(JSON.stringify(raw).length < 200, 'vectors are not copied');
});

test('OpenAI Responses over WebSocket: response.create up, response.* down, several turns on one socket', () => {
  const up = (o: object, t: number) => ({ t, from: 'client' as const, type: 'text' as const, text: JSON.stringify(o) });
  const down = (o: object, t: number) => ({ t, from: 'server' as const, type: 'text' as const, text: JSON.stringify(o) });
  const ws = [
    up({ type: 'response.create', model: 'gpt-5-codex', instructions: 'You are Codex.', input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'list files' }] }], tools: [{ type: 'function', name: 'shell', description: 'run' }, { type: 'custom', name: 'apply_patch' }] }, 1),
    down({ type: 'response.created', response: { id: 'r1', status: 'in_progress', output: [] } }, 5),
    down({ type: 'response.output_item.added', output_index: 0, item: { id: 'rs1', type: 'reasoning', summary: [] } }, 6),
    down({ type: 'response.reasoning_summary_part.added', output_index: 0, summary_index: 0, part: { type: 'summary_text', text: '' } }, 7),
    down({ type: 'response.reasoning_summary_text.delta', output_index: 0, summary_index: 0, delta: 'Need ls.' }, 8),
    down({ type: 'response.output_item.added', output_index: 1, item: { id: 'fc1', type: 'function_call', call_id: 'call_1', name: 'shell', arguments: '' } }, 9),
    down({ type: 'response.function_call_arguments.delta', output_index: 1, delta: '{"command":["ls"]}' }, 10),
    down({ type: 'response.completed', response: { id: 'r1', status: 'completed', model: 'gpt-5-codex', output: [{ id: 'rs1', type: 'reasoning', summary: [{ type: 'summary_text', text: 'Need ls.' }] }, { id: 'fc1', type: 'function_call', call_id: 'call_1', name: 'shell', arguments: '{"command":["ls"]}' }], usage: { input_tokens: 1000, output_tokens: 20, input_tokens_details: { cached_tokens: 800 }, output_tokens_details: { reasoning_tokens: 10 } } } }, 11),
    up({ type: 'response.create', model: 'gpt-5-codex', previous_response_id: 'r1', input: [{ type: 'function_call_output', call_id: 'call_1', output: 'a.txt\nb.txt' }] }, 20),
    down({ type: 'response.created', response: { id: 'r2', status: 'in_progress', output: [] } }, 25),
    down({ type: 'response.output_item.added', output_index: 0, item: { id: 'ct1', type: 'custom_tool_call', call_id: 'call_2', name: 'apply_patch', input: '' } }, 26),
    down({ type: 'response.custom_tool_call_input.delta', output_index: 0, delta: '*** Begin Patch' }, 27),
    down({ type: 'response.output_item.added', output_index: 1, item: { id: 'm1', type: 'message', role: 'assistant', content: [] } }, 28),
    down({ type: 'response.content_part.added', output_index: 1, content_index: 0, part: { type: 'output_text', text: '' } }, 29),
    down({ type: 'response.output_text.delta', output_index: 1, content_index: 0, delta: 'Two files.' }, 30),
    down({ type: 'response.completed', response: { id: 'r2', status: 'completed', model: 'gpt-5-codex', usage: { input_tokens: 1100, output_tokens: 5, input_tokens_details: { cached_tokens: 1000 }, output_tokens_details: { reasoning_tokens: 0 } } } }, 31),
  ];
  const x = norm({ url: 'wss://chatgpt.com/backend-api/codex/responses', kind: 'websocket', requestHeaders: [['originator', 'codex_cli_rs'], ['upgrade', 'websocket']], ws });
  assert.deepEqual([x.detection.kind, x.detection.provider, x.detection.api, x.detection.agent], ['llm', 'openai', 'openai.responses', 'codex']);
  assert.equal(x.request.system, 'You are Codex.');
  assert.deepEqual(x.request.tools.map((t) => t.name), ['shell', 'apply_patch']);
  assert.deepEqual(x.request.turns.map((t) => t.role), ['user', 'assistant', 'tool']);
  assert.deepEqual(x.request.turns[1]!.blocks, [{ type: 'thinking', text: 'Need ls.' }, { type: 'tool_call', id: 'call_1', name: 'shell', input: { command: ['ls'] } }]);
  assert.deepEqual(x.request.turns[2]!.blocks, [{ type: 'tool_result', id: 'call_1', output: 'a.txt\nb.txt' }]);
  // The last answer (its completed event carries no output: the streamed items are kept).
  assert.deepEqual(x.response.turns[0]!.blocks, [{ type: 'tool_call', id: 'call_2', name: 'apply_patch', input: '*** Begin Patch' }, { type: 'text', text: 'Two files.' }]);
  assert.equal(x.response.stopReason, 'completed');
  // Usage summed over the socket's turns.
  assert.deepEqual(x.response.usage, { input: 2100, output: 25, cacheRead: 1800, reasoning: 10 });
});

test('Bedrock Converse: request in its own format; JSON answer and converse-stream events', () => {
  const url = 'https://bedrock-runtime.eu-west-1.amazonaws.com/model/eu.anthropic.claude-3-5-haiku-20241022-v1:0/converse';
  const reqBody = {
    system: [{ text: 'You are terse.' }],
    messages: [
      { role: 'user', content: [{ text: 'weather?' }] },
      { role: 'assistant', content: [{ toolUse: { toolUseId: 't1', name: 'weather', input: { city: 'Oslo' } } }] },
      { role: 'user', content: [{ toolResult: { toolUseId: 't1', content: [{ json: { temp: 3 } }], status: 'success' } }] },
    ],
    toolConfig: { tools: [{ toolSpec: { name: 'weather', description: 'by city', inputSchema: { json: {} } } }] },
  };
  const x = norm({ url, requestBody: reqBody, responseBody: { output: { message: { role: 'assistant', content: [{ text: '3°C in Oslo.' }] } }, stopReason: 'end_turn', usage: { inputTokens: 40, outputTokens: 6, totalTokens: 46 } } });
  assert.deepEqual([x.detection.provider, x.detection.api, x.model], ['aws-bedrock', 'bedrock.converse', 'eu.anthropic.claude-3-5-haiku-20241022-v1:0']);
  assert.equal(x.request.system, 'You are terse.');
  assert.deepEqual(x.request.tools, [{ name: 'weather', description: 'by city' }]);
  assert.deepEqual(x.request.turns[1]!.blocks, [{ type: 'tool_call', id: 't1', name: 'weather', input: { city: 'Oslo' } }]);
  assert.deepEqual(x.request.turns[2]!.blocks, [{ type: 'tool_result', id: 't1', output: { temp: 3 } }]);
  assert.deepEqual(x.response, { turns: [{ role: 'assistant', blocks: [{ type: 'text', text: '3°C in Oslo.' }] }], stopReason: 'end_turn', usage: { input: 40, output: 6 } });
  assert.equal(x.costUsd, (40 * 0.8 + 6 * 4) / 1e6);

  const msg = (type: string, payload: object) => encodeEventStreamMessage({ ':event-type': type, ':content-type': 'application/json', ':message-type': 'event' }, JSON.stringify(payload));
  const stream = Buffer.concat([
    msg('messageStart', { role: 'assistant' }),
    msg('contentBlockDelta', { contentBlockIndex: 0, delta: { reasoningContent: { text: 'Check.' } } }),
    msg('contentBlockDelta', { contentBlockIndex: 1, delta: { text: 'Let me ' } }),
    msg('contentBlockDelta', { contentBlockIndex: 1, delta: { text: 'look.' } }),
    msg('contentBlockStart', { contentBlockIndex: 2, start: { toolUse: { toolUseId: 't2', name: 'weather' } } }),
    msg('contentBlockDelta', { contentBlockIndex: 2, delta: { toolUse: { input: '{"city":' } } }),
    msg('contentBlockDelta', { contentBlockIndex: 2, delta: { toolUse: { input: '"Bergen"}' } } }),
    msg('contentBlockStop', { contentBlockIndex: 2 }),
    msg('messageStop', { stopReason: 'tool_use' }),
    msg('metadata', { usage: { inputTokens: 50, outputTokens: 20, cacheReadInputTokens: 1000 }, metrics: { latencyMs: 900 } }),
  ]);
  const s = norm({ url: url.replace(/converse$/, 'converse-stream'), requestBody: reqBody, responseHeaders: [['content-type', 'application/vnd.amazon.eventstream']], responseBody: stream });
  assert.equal(s.stream, true);
  assert.deepEqual(s.response.turns[0]!.blocks, [{ type: 'thinking', text: 'Check.' }, { type: 'text', text: 'Let me look.' }, { type: 'tool_call', id: 't2', name: 'weather', input: { city: 'Bergen' } }]);
  assert.deepEqual([s.response.stopReason, s.response.usage], ['tool_use', { input: 50, output: 20, cacheRead: 1000 }]);
  assert.equal(s.response.error, undefined);
  const cut = norm({ url: url.replace(/converse$/, 'converse-stream'), requestBody: reqBody, responseHeaders: [['content-type', 'application/vnd.amazon.eventstream']], responseBody: stream.subarray(0, stream.length - 150) });
  assert.match(cut.response.error ?? '', /truncated/);
});

test('Ollama native /api/chat: JSON Lines stream with thinking, tool calls and eval counts', () => {
  const lines = [
    { model: 'qwen3:8b', message: { role: 'assistant', content: '', thinking: 'hmm' }, done: false },
    { model: 'qwen3:8b', message: { role: 'assistant', content: 'Hi ' }, done: false },
    { model: 'qwen3:8b', message: { role: 'assistant', content: 'there', tool_calls: [{ function: { name: 'ls', arguments: { path: '.' } } }] }, done: false },
    { model: 'qwen3:8b', message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop', prompt_eval_count: 26, eval_count: 12 },
  ];
  const body = lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
  const req = { model: 'qwen3:8b', messages: [{ role: 'system', content: 'be kind' }, { role: 'user', content: 'hello' }] };
  const x = norm({ url: 'http://localhost:11434/api/chat', requestBody: req, responseHeaders: [['content-type', 'application/x-ndjson']], responseBody: body });
  assert.deepEqual([x.detection.provider, x.detection.api, x.model, x.stream], ['ollama', 'ollama.chat', 'qwen3:8b', true]);
  assert.equal(x.request.system, 'be kind');
  assert.deepEqual(x.response.turns[0]!.blocks, [{ type: 'thinking', text: 'hmm' }, { type: 'text', text: 'Hi there' }, { type: 'tool_call', name: 'ls', input: { path: '.' } }]);
  assert.deepEqual([x.response.stopReason, x.response.usage, x.response.error], ['stop', { input: 26, output: 12 }, undefined]);
  const cut = norm({ url: 'http://localhost:11434/api/chat', requestBody: req, responseBody: body.slice(0, body.length - 40) });
  assert.match(cut.response.error ?? '', /truncated/);
  assert.equal(cut.costUsd, undefined);
});

test('Gemini on Vertex: function-call arguments streamed as partialArgs are assembled', () => {
  const chunk = (parts: object[], finish?: string) => `data: ${JSON.stringify({ candidates: [{ content: { role: 'model', parts }, ...(finish ? { finishReason: finish } : {}) }] })}\r\n\r\n`;
  const body =
    chunk([{ functionCall: { name: 'write_file', partialArgs: [{ jsonPath: '$.path', stringValue: 'notes.md' }, { jsonPath: '$.content', stringValue: '# Ti' }], willContinue: true } }]) +
    chunk([{ functionCall: { partialArgs: [{ jsonPath: '$.content', stringValue: 'tle' }, { jsonPath: '$.opts.append', boolValue: false }], willContinue: false } }]) +
    chunk([{ text: 'Done.' }], 'STOP');
  const x = norm({ url: 'https://us-central1-aiplatform.googleapis.com/v1/projects/p/locations/us-central1/publishers/google/models/gemini-3-pro-preview:streamGenerateContent?alt=sse', requestBody: { contents: [{ role: 'user', parts: [{ text: 'write' }] }] }, responseBody: body });
  assert.deepEqual(x.response.turns[0]!.blocks, [{ type: 'tool_call', name: 'write_file', input: { path: 'notes.md', content: '# Title', opts: { append: false } } }, { type: 'text', text: 'Done.' }]);
});

test('legacy completions (Copilot inline suggestions): prompt and suffix in, streamed text out', () => {
  const chunk = (text: string, finish: string | null = null) => `data: ${JSON.stringify({ id: 'cmpl', model: 'gpt-35-turbo', choices: [{ index: 0, text, finish_reason: finish }] })}\n\n`;
  const body = chunk('return a') + chunk(' + b;') + chunk('', 'stop') + 'data: [DONE]\n\n';
  const x = norm({ url: 'https://copilot-proxy.githubusercontent.com/v1/engines/copilot-codex/completions', requestHeaders: [['content-type', 'application/json'], ['editor-version', 'vscode/1.95.0'], ['copilot-integration-id', 'vscode-chat']], requestBody: { prompt: 'function add(a, b) {\n  ', suffix: '\n}', stream: true, max_tokens: 50 }, responseBody: body });
  assert.deepEqual([x.detection.provider, x.detection.api, x.detection.agent, x.model], ['github-copilot', 'openai.completions', 'copilot', 'copilot-codex']);
  assert.deepEqual(x.request.turns[0]!.blocks, [{ type: 'text', text: 'function add(a, b) {\n  ' }, { type: 'other', raw: { type: 'suffix', text: '\n}' } }]);
  assert.deepEqual(x.response.turns, [{ role: 'assistant', blocks: [{ type: 'text', text: 'return a + b;' }] }]);
  assert.equal(x.response.stopReason, 'stop');
  assert.equal(x.response.error, undefined);
  assert.match(norm({ url: 'https://api.openai.com/v1/completions', requestBody: { model: 'gpt-3.5-turbo-instruct', prompt: 'x', stream: true }, responseBody: body.slice(0, 60) }).response.error ?? '', /truncated/);
});
