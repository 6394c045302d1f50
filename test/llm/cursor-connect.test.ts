import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { concatBytes } from '../../src/protocols/binary-text.js';
import { CONNECT_FLAG_COMPRESSED, encodeConnectEndStream, encodeConnectMessage } from '../../src/protocols/connect-envelope.js';
import { encodeSseEnvelopes } from '../../src/protocols/sse-envelopes.js';
import { encodeGrpcWebTrailers } from '../../src/protocols/grpc-web.js';
import { encodeFrame } from '../../src/protocols/length-prefixed-frames.js';
import { cursorConnect, CursorResponseStream } from '../../src/llm/cursor-connect.js';
import { normalizeExchange } from '../../src/llm/normalize.js';
import type { LlmResponse } from '../../src/llm/types.js';
import { agentType, cursorRecord, encode, fullType, liteType } from '../support/cursor-protos.js';

const Client = () => agentType('AgentClientMessage');
const Server = () => agentType('AgentServerMessage');

function clientStream(): Uint8Array {
  const C = Client();
  return concatBytes([
    encodeConnectMessage(encode(C, {
      run_request: {
        user_message: { text: 'List the files, then tell me how many there are.' },
        model: 'claude-4.5-sonnet-thinking',
        conversation_id: '6f1c1d0e-2b7a-4f7e-9a53-0c3e8c1d2b11',
        custom_system_prompt: 'Answer tersely.',
        mcp_tools: { tools: [{ name: 'search_docs', description: 'Search the project docs' }, { name: 'open_ticket' }] },
      },
    })),
    encodeConnectMessage(encode(C, { exec_client_message: { id: 1, shell: { output: 'README.md\nsrc\n', exit_code: 0, cwd: '/repo' } } })),
    encodeConnectMessage(encode(C, { kv_client_message: { id: 3 } })),
    encodeConnectMessage(encode(C, { exec_client_message: { id: 2, ls: { error: { error: 'permission denied' } } } })),
  ]);
}

function update(u: Record<string, unknown>): Uint8Array {
  return encodeConnectMessage(encode(Server(), { interaction_update: u }));
}

const shellArgs = { command: 'ls', cwd: '/repo' };

function serverStream(opts: { compressLast?: boolean } = {}): Uint8Array {
  const S = Server();
  const finalText = encode(S, { interaction_update: { text_delta: { text: 'There are two entries.' } } });
  return concatBytes([
    update({ thinking_delta: { text: 'The user wants ' } }),
    update({ thinking_delta: { text: 'a listing.' } }),
    update({ token_delta: { tokens: 3 } }),
    update({ heartbeat: {} }),
    update({ text_delta: { text: "I'll list " } }),
    update({ text_delta: { text: 'the files.' } }),
    update({ partial_tool_call: { call_id: 'call_1', tool_call: { shell_tool_call: { args: { command: '' } } } } }),
    update({ tool_call_started: { call_id: 'call_1', tool_call: { shell_tool_call: { args: shellArgs } } } }),
    encodeConnectMessage(encode(S, { exec_server_message: { id: 1, shell: shellArgs } })),
    encodeConnectMessage(encode(S, { exec_server_message: { id: 2, ls: { path: '/etc/secret' } } })),
    update({ tool_call_completed: { call_id: 'call_1', tool_call: { shell_tool_call: { args: shellArgs, result: { output: 'README.md\nsrc\n', cwd: '/repo' } } } } }),
    encodeConnectMessage(encode(S, { conversation_checkpoint_update: { token: 'ckpt-1' } })),
    opts.compressLast ? encodeConnectMessage(new Uint8Array(gzipSync(finalText)), CONNECT_FLAG_COMPRESSED) : encodeConnectMessage(finalText),
    update({ token_delta: { tokens: 5 } }),
    update({ turn_ended: {} }),
    encodeConnectEndStream({}),
  ]);
}

const expectedResponse: LlmResponse = {
  turns: [
    {
      role: 'assistant',
      blocks: [
        { type: 'thinking', text: 'The user wants a listing.' },
        { type: 'text', text: "I'll list the files." },
        { type: 'tool_call', id: 'call_1', name: 'shell', input: { command: 'ls', cwd: '/repo' } },
        { type: 'tool_call', id: 'exec-2', name: 'ls', input: { path: '/etc/secret' } },
      ],
    },
    { role: 'tool', blocks: [{ type: 'tool_result', id: 'call_1', output: { output: 'README.md\nsrc\n', cwd: '/repo' } }] },
    { role: 'assistant', blocks: [{ type: 'text', text: 'There are two entries.' }] },
  ],
  stopReason: 'turn_ended',
  usage: { output: 8 },
};

const RUN = '/agent.v1.AgentService/Run';

test('a full agent turn over a bidi Run stream becomes one normalized conversation', () => {
  const record = cursorRecord({ path: RUN, requestBody: clientStream(), responseBody: serverStream({ compressLast: true }) });
  const x = normalizeExchange(record);
  assert.ok(x, 'detected as an LLM exchange');
  assert.equal(x.detection.api, 'cursor.connect');
  assert.equal(x.detection.provider, 'cursor');
  assert.equal(x.model, 'claude-4.5-sonnet-thinking');
  assert.equal(x.stream, true);
  assert.equal(x.request.conversationId, '6f1c1d0e-2b7a-4f7e-9a53-0c3e8c1d2b11');
  assert.equal(x.request.system, 'Answer tersely.');
  assert.deepEqual(x.request.tools, [{ name: 'search_docs', description: 'Search the project docs' }, { name: 'open_ticket' }]);
  assert.deepEqual(x.request.turns, [
    { role: 'user', blocks: [{ type: 'text', text: 'List the files, then tell me how many there are.' }] },
    {
      role: 'tool',
      blocks: [
        // exec 1 ran the model's call_1 (same shell args): its result pairs with that call.
        { type: 'tool_result', id: 'call_1', output: { output: 'README.md\nsrc\n', cwd: '/repo' } },
        { type: 'tool_result', id: 'exec-2', output: { error: { 1: 'permission denied' } }, isError: true },
      ],
    },
  ]);
  assert.deepEqual(x.response, expectedResponse);
});

test('the response merges the same way at every byte boundary (chunk by chunk)', () => {
  const bytes = serverStream();
  const whole = new CursorResponseStream({ url: `https://api2.cursor.sh${RUN}` });
  whole.push(bytes);
  assert.deepEqual(whole.finish(), expectedResponse);
  for (let i = 1; i < bytes.length; i++) {
    const s = new CursorResponseStream({ url: `https://api2.cursor.sh${RUN}` });
    s.push(bytes.subarray(0, i));
    s.push(bytes.subarray(i));
    assert.deepEqual(s.finish(), expectedResponse, `split at ${i}`);
  }
  const byteByByte = new CursorResponseStream({ url: `https://api2.cursor.sh${RUN}` });
  for (const b of bytes) byteByByte.push(Uint8Array.of(b));
  assert.deepEqual(byteByByte.finish(), expectedResponse);
});

test('RunSSE (SSE of base64 envelopes) down and BidiAppend (hex client message) up', () => {
  const sseBody = encodeSseEnvelopes([
    update({ text_delta: { text: 'Hello' } }),
    update({ text_delta: { text: ', world' } }),
    update({ turn_ended: {} }),
  ]);
  const sse = cursorRecord({
    path: '/aiserver.v1.AgentService/RunSSE',
    requestBody: encodeConnectMessage(encode(agentType('BidiRequestId'), { request_id: 'b600b543-4991-4b4e-9fbf-c9f3865d4a8c' })),
    responseBody: sseBody,
    responseContentType: 'text/event-stream',
  });
  const res = cursorConnect.parseResponse(sse);
  assert.deepEqual(res.turns, [{ role: 'assistant', blocks: [{ type: 'text', text: 'Hello, world' }] }]);
  assert.equal(res.stopReason, 'turn_ended');
  assert.equal(res.error, undefined);

  const client = encode(Client(), { conversation_action: { user_message_action: { user_message: { text: 'and now in French' } } } });
  const append = cursorRecord({
    path: '/aiserver.v1.BidiService/BidiAppend',
    requestContentType: 'application/proto',
    requestBody: encode(agentType('BidiAppendRequest'), { data: Buffer.from(client).toString('hex'), request_id: { request_id: 'b600b543' }, append_seqno: 2 }),
    responseContentType: 'application/proto',
  });
  const req = cursorConnect.parseRequest(append);
  assert.equal(req.stream, false);
  assert.deepEqual(req.request.turns, [{ role: 'user', blocks: [{ type: 'text', text: 'and now in French' }] }]);
});

test('older ChatService/StreamUnifiedChatWithTools: history, model, conversation id, text, thinking, tool call and result', () => {
  const Req = liteType('StreamUnifiedChatRequestWithTools');
  const Res = liteType('StreamUnifiedChatResponseWithTools');
  const requestBody = concatBytes([
    encodeConnectMessage(encode(Req, {
      stream_unified_chat_request: {
        conversation: [
          { text: 'What does main.go do?', type: 'MESSAGE_TYPE_HUMAN', bubble_id: 'b1' },
          { text: 'It starts the server.', type: 'MESSAGE_TYPE_AI', bubble_id: 'b2', thinking: { text: 'Look at main.' } },
          { text: 'Show me the port.', type: 'MESSAGE_TYPE_HUMAN', bubble_id: 'b3' },
        ],
        model_details: { model_name: 'gpt-5' },
        conversation_id: 'conv-42',
        mcp_tools: [{ name: 'grep_repo', description: 'ripgrep the repo' }],
        is_chat: true,
      },
    })),
    encodeConnectMessage(encode(Req, { client_side_tool_v2_result: { tool: 'CLIENT_SIDE_TOOL_V2_MCP', tool_call_id: 'tc_9', mcp_result: { selected_tool: 'grep_repo', result: 'main.go:12: port := 8080' } } })),
  ]);
  const responseBody = concatBytes([
    encodeConnectMessage(encode(Res, { stream_start: { padding: 'xx' } })),
    encodeConnectMessage(encode(Res, { stream_unified_chat_response: { text: '', thinking: { text: 'Need to search.' } } })),
    encodeConnectMessage(encode(Res, { client_side_tool_v2_call: { tool: 'CLIENT_SIDE_TOOL_V2_MCP', tool_call_id: 'tc_9', name: 'grep_repo', raw_args: '{"pattern":"port"}' } })),
    encodeConnectMessage(encode(Res, { stream_unified_chat_response: { text: 'The server listens ' } })),
    encodeConnectMessage(encode(Res, { stream_unified_chat_response: { text: 'on port 8080.' } })),
    encodeConnectEndStream({ error: { code: 'resource_exhausted', message: 'usage limit reached' } }),
  ]);
  const x = normalizeExchange(cursorRecord({ path: '/aiserver.v1.ChatService/StreamUnifiedChatWithTools', requestBody, responseBody }));
  assert.ok(x);
  assert.equal(x.detection.api, 'cursor.connect');
  assert.equal(x.model, 'gpt-5');
  assert.equal(x.request.conversationId, 'conv-42');
  assert.deepEqual(x.request.tools, [{ name: 'grep_repo', description: 'ripgrep the repo' }]);
  assert.deepEqual(x.request.turns, [
    { role: 'user', blocks: [{ type: 'text', text: 'What does main.go do?' }] },
    { role: 'assistant', blocks: [{ type: 'thinking', text: 'Look at main.' }, { type: 'text', text: 'It starts the server.' }] },
    { role: 'user', blocks: [{ type: 'text', text: 'Show me the port.' }] },
    { role: 'tool', blocks: [{ type: 'tool_result', id: 'tc_9', output: { mcp_result: { 1: 'grep_repo', 2: 'main.go:12: port := 8080' }, tool: 'mcp' } }] },
  ]);
  assert.deepEqual(x.response.turns, [
    {
      role: 'assistant',
      blocks: [
        { type: 'thinking', text: 'Need to search.' },
        { type: 'tool_call', id: 'tc_9', name: 'grep_repo', input: { pattern: 'port' } },
        { type: 'text', text: 'The server listens on port 8080.' },
      ],
    },
  ]);
  assert.equal(x.response.error, 'resource_exhausted: usage limit reached');
});

test('errors: a unary JSON error, a cut stream, gRPC-web trailers with a status', () => {
  const unary = cursorRecord({ path: RUN, status: 401, responseContentType: 'application/json', responseBody: '{"code":"unauthenticated","message":"Not logged in"}' });
  assert.equal(cursorConnect.parseResponse(unary).error, 'unauthenticated: Not logged in');

  const bytes = serverStream();
  const cut = cursorConnect.parseResponse(cursorRecord({ path: RUN, responseBody: bytes.subarray(0, 200) }));
  assert.ok(cut.turns.length > 0, 'what arrived is kept');
  assert.match(cut.error ?? '', /stream ends|frame declares/);

  const web = concatBytes([encodeFrame(encode(Server(), { interaction_update: { text_delta: { text: 'partial' } } })), encodeGrpcWebTrailers([['grpc-status', '8'], ['grpc-message', 'quota%20exceeded']])]);
  const r = cursorConnect.parseResponse(cursorRecord({ path: RUN, responseBody: web, responseContentType: 'application/grpc-web+proto' }));
  assert.deepEqual(r.turns, [{ role: 'assistant', blocks: [{ type: 'text', text: 'partial' }] }]);
  assert.equal(r.error, 'RESOURCE_EXHAUSTED: quota exceeded');
});

test('request bodies stored as text (valid UTF-8) read the same as base64 ones', () => {
  const body = encodeConnectMessage(encode(Client(), { run_request: { user_message: { text: 'hi there' }, model: 'gpt-5' } }));
  const rec = cursorRecord({ path: RUN, requestBody: body });
  const asText = structuredClone(rec);
  asText.request!.body = { text: Buffer.from(body).toString('utf8'), size: body.length };
  assert.equal(Buffer.from(asText.request!.body.text!, 'utf8').equals(Buffer.from(body)), true, 'this body is valid UTF-8');
  assert.deepEqual(cursorConnect.parseRequest(asText), cursorConnect.parseRequest(rec));
  assert.equal(cursorConnect.parseRequest(rec).model, 'gpt-5');
});

test('AiService/StreamComposer (aiserver.proto): conversation and model up, StreamChatResponse text down', () => {
  const Req = fullType('GetComposerChatRequest');
  const Res = fullType('StreamChatResponse');
  const requestBody = encodeConnectMessage(encode(Req, {
    conversation: [{ text: 'Rename foo to bar everywhere.', type: 'MESSAGE_TYPE_HUMAN' }],
    model_details: { model_name: 'claude-3.5-sonnet' },
  }));
  const responseBody = concatBytes([
    encodeConnectMessage(encode(Res, { text: 'Renamed ' })),
    encodeConnectMessage(encode(Res, { text: '3 occurrences.', server_bubble_id: 'sb-1' })),
    encodeConnectEndStream({}),
  ]);
  const x = normalizeExchange(cursorRecord({ path: '/aiserver.v1.AiService/StreamComposer', requestBody, responseBody }));
  assert.ok(x);
  assert.equal(x.detection.api, 'cursor.connect');
  assert.equal(x.model, 'claude-3.5-sonnet');
  assert.deepEqual(x.request.turns, [{ role: 'user', blocks: [{ type: 'text', text: 'Rename foo to bar everywhere.' }] }]);
  assert.deepEqual(x.response.turns, [{ role: 'assistant', blocks: [{ type: 'text', text: 'Renamed 3 occurrences.' }] }]);
  assert.equal(x.response.error, undefined);
});

test('RunSSE on the aiserver.v1 path is detected as a Cursor model call', () => {
  const x = normalizeExchange(cursorRecord({
    path: '/aiserver.v1.AgentService/RunSSE',
    responseContentType: 'text/event-stream',
    responseBody: concatBytes([update({ text_delta: { text: 'ok' } }), encodeConnectEndStream({})]),
  }));
  assert.equal(x?.detection.api, 'cursor.connect');
  assert.deepEqual(x?.response.turns, [{ role: 'assistant', blocks: [{ type: 'text', text: 'ok' }] }]);
});

test('RunSSE: the echoed user message and the system prompt KV blob fill the request side', () => {
  const S = Server();
  const system = { role: 'system', content: 'You are an AI coding assistant, powered by a test model.\nYou operate in Cursor.' };
  const body = encodeSseEnvelopes([
    encodeConnectMessage(encode(S, { kv_server_message: { id: 1, set_blob_args: { blob_id: Buffer.from('blob-1'), blob_data: Buffer.from(JSON.stringify(system)) } } })),
    encodeConnectMessage(encode(S, { kv_server_message: { id: 2, set_blob_args: { blob_id: Buffer.from('blob-2'), blob_data: Buffer.from(JSON.stringify({ role: 'user', content: [{ type: 'text', text: '<user_info>OS: linux</user_info>' }] })) } } })),
    update({ user_message_appended: { user_message: { text: 'Fix the failing test' } } }),
    update({ text_delta: { text: 'Looking at the test now.' } }),
    update({ turn_ended: {} }),
  ]);
  const x = normalizeExchange(cursorRecord({ path: '/agent.v1.AgentService/RunSSE', responseBody: body, responseContentType: 'text/event-stream' }));
  assert.ok(x);
  assert.equal(x.request.system, system.content);
  assert.deepEqual(x.request.turns, [{ role: 'user', blocks: [{ type: 'text', text: 'Fix the failing test' }] }]);
  assert.deepEqual(x.response.turns, [{ role: 'assistant', blocks: [{ type: 'text', text: 'Looking at the test now.' }] }]);
  assert.ok(x.contextKey, 'the system prompt gives the exchange a context key');
});

test('a Connect service the table does not know is not guessed at', () => {
  const rec = cursorRecord({ path: '/acme.v1.Billing/StreamInvoices', requestBody: clientStream(), responseBody: serverStream() });
  const req = cursorConnect.parseRequest(rec);
  assert.deepEqual(req.request.turns, []);
  assert.equal(req.model, undefined);
  const res = cursorConnect.parseResponse(rec);
  assert.deepEqual(res.turns, []);
  assert.equal(res.error, undefined);
});

test('compressed messages use the connect-content-encoding the response names (br here)', () => {
  const payload = encode(Server(), { interaction_update: { text_delta: { text: 'squeezed' } } });
  const body = concatBytes([encodeConnectMessage(new Uint8Array(brotliCompressSync(payload)), CONNECT_FLAG_COMPRESSED), encodeConnectEndStream({})]);
  const rec = cursorRecord({ path: RUN, responseBody: body });
  rec.response!.headers.push(['connect-content-encoding', 'br']);
  assert.deepEqual(cursorConnect.parseResponse(rec).turns, [{ role: 'assistant', blocks: [{ type: 'text', text: 'squeezed' }] }]);
  const asGzip = cursorRecord({ path: RUN, responseBody: body });
  assert.match(cursorConnect.parseResponse(asGzip).error ?? '', /does not inflate as gzip/);
});

test('a unary application/proto response is read as one message', () => {
  const body = encode(Server(), { interaction_update: { text_delta: { text: 'one shot' } } });
  const rec = cursorRecord({ path: RUN, responseBody: body, responseContentType: 'application/proto' });
  assert.deepEqual(cursorConnect.parseResponse(rec), { turns: [{ role: 'assistant', blocks: [{ type: 'text', text: 'one shot' }] }] });
});

test('StreamCpp completions: model and completion text; other AiService Stream* methods are not guessed at', () => {
  const requestBody = encodeConnectMessage(encode(fullType('StreamCppRequest'), { current_file: { relative_workspace_path: 'src/main.go', contents: 'package main' }, diff_history: ['-a\n+b'], model_name: 'fast-cpp' }));
  const responseBody = concatBytes([
    encodeConnectMessage(encode(fullType('StreamCppResponse'), { text: '\n\tGetRecentRecords(limit int) []Record' })),
    encodeConnectMessage(encode(fullType('StreamCppResponse'), { done_stream: true, suggestion_start_line: 14 })),
    encodeConnectEndStream({}),
  ]);
  const x = normalizeExchange(cursorRecord({ path: '/aiserver.v1.AiService/StreamCpp', requestBody, responseBody }));
  assert.ok(x);
  assert.equal(x.model, 'fast-cpp');
  assert.deepEqual(x.request.turns, [], 'the file being edited is not a user message');
  assert.deepEqual(x.response.turns, [{ role: 'assistant', blocks: [{ type: 'text', text: '\n\tGetRecentRecords(limit int) []Record' }] }]);

  const review = cursorConnect.parseResponse(cursorRecord({ path: '/aiserver.v1.AiService/StreamReview', responseBody }));
  assert.deepEqual(review.turns, []);
});

test('exec requests: an mcp call under its tool name with its Struct arguments as JSON; grep and write keep their named fields', () => {
  const S = Server();
  const Struct = agentType('McpArgs').fields.args!.resolve().resolvedType as ReturnType<typeof agentType>;
  // protobufjs' bundled well-known types use camelCase field names.
  const structBytes = Struct.encode(Struct.fromObject({ fields: { q: { stringValue: 'retry policy' }, limit: { numberValue: 5 }, deep: { structValue: { fields: { flag: { boolValue: true }, none: { nullValue: 0 }, list: { listValue: { values: [{ stringValue: 'a' }, { numberValue: 2.5 }] } } } } } } })).finish();
  assert.ok(structBytes.length > 40, 'the Struct encoded its fields');
  const body = concatBytes([
    encodeConnectMessage(encode(S, { exec_server_message: { id: 3, mcp: { name: 'search_docs', args: Struct.decode(structBytes), tool_call_id: 'tc_m', provider_identifier: 'cursor-tools', tool_name: 'search_docs' } } })),
    encodeConnectMessage(encode(S, { exec_server_message: { id: 4, grep: { pattern: 'TODO', path: 'src', glob: '*.ts' } } })),
    encodeConnectMessage(encode(S, { exec_server_message: { id: 5, write: { path: 'notes.md', file_text: '# Notes\n', tool_call_id: 'tc_w' } } })),
    encodeConnectEndStream({}),
  ]);
  const res = cursorConnect.parseResponse(cursorRecord({ path: RUN, responseBody: body }));
  assert.deepEqual(res.turns, [
    {
      role: 'assistant',
      blocks: [
        { type: 'tool_call', id: 'exec-3', name: 'search_docs', input: { name: 'search_docs', args: { q: 'retry policy', limit: 5, deep: { flag: true, none: null, list: ['a', 2.5] } }, tool_call_id: 'tc_m', provider_identifier: 'cursor-tools', tool_name: 'search_docs' } },
        { type: 'tool_call', id: 'exec-4', name: 'grep', input: { pattern: 'TODO', path: 'src', glob: '*.ts' } },
        { type: 'tool_call', id: 'exec-5', name: 'write', input: { path: 'notes.md', file_text: '# Notes\n', tool_call_id: 'tc_w' } },
      ],
    },
  ]);
});
