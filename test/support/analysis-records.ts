// Realistic record v1 builders for analysis tests and the analysis benchmark: Anthropic
// Messages (SSE, as Claude Code sends and receives them) and OpenAI Chat Completions (SSE),
// with the exact wire shapes of the public APIs.
import { writeFileSync } from 'node:fs';
import { uuidv7 } from '../../src/capture/ids.js';
import type { CaptureRecord, HeaderList } from '../../src/capture/record.js';

export type AnthropicContent =
  | { type: 'text'; text: string }
  | { type: 'thinking'; thinking: string; signature?: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> }
  | { type: 'tool_result'; tool_use_id: string; content: string; is_error?: boolean };

export interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: string | AnthropicContent[];
}

export interface AnthropicUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens?: number;
  cache_creation_input_tokens?: number;
}

function sse(events: [string, unknown][]): string {
  return events.map(([event, data]) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`).join('');
}

/** The SSE stream the Messages API sends for a response with these content blocks. */
export function anthropicStream(model: string, content: AnthropicContent[], usage: AnthropicUsage, stopReason: string, id = 'msg_01' + Math.random().toString(36).slice(2, 12)): string {
  const events: [string, unknown][] = [
    ['message_start', { type: 'message_start', message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } }],
  ];
  content.forEach((block, index) => {
    if (block.type === 'text') {
      events.push(['content_block_start', { type: 'content_block_start', index, content_block: { type: 'text', text: '' } }]);
      for (const piece of block.text.match(/[\s\S]{1,40}/g) ?? []) events.push(['content_block_delta', { type: 'content_block_delta', index, delta: { type: 'text_delta', text: piece } }]);
    } else if (block.type === 'thinking') {
      events.push(['content_block_start', { type: 'content_block_start', index, content_block: { type: 'thinking', thinking: '', signature: '' } }]);
      events.push(['content_block_delta', { type: 'content_block_delta', index, delta: { type: 'thinking_delta', thinking: block.thinking } }]);
      events.push(['content_block_delta', { type: 'content_block_delta', index, delta: { type: 'signature_delta', signature: 'EqQBCkYIBxgCKkB' } }]);
    } else if (block.type === 'tool_use') {
      events.push(['content_block_start', { type: 'content_block_start', index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } }]);
      const json = JSON.stringify(block.input);
      for (const piece of json.match(/[\s\S]{1,25}/g) ?? []) events.push(['content_block_delta', { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: piece } }]);
    }
    events.push(['content_block_stop', { type: 'content_block_stop', index }]);
  });
  events.push(['message_delta', { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: usage.output_tokens } }]);
  events.push(['message_stop', { type: 'message_stop' }]);
  return sse(events);
}

export interface AnthropicExchange {
  t: number;
  model?: string;
  system?: string;
  tools?: string[];
  messages: AnthropicMessage[];
  response: AnthropicContent[];
  usage: AnthropicUsage;
  stopReason?: string;
  sessionId?: string;
  pid?: number;
  labels?: Record<string, string>;
  durationMs?: number;
  userId?: string;
}

const CLAUDE_HEADERS: HeaderList = [
  ['host', 'api.anthropic.com'],
  ['anthropic-version', '2023-06-01'],
  ['x-api-key', '[REDACTED …a1b2]'],
  ['user-agent', 'claude-cli/2.0.14 (external, cli)'],
  ['x-app', 'cli'],
  ['content-type', 'application/json'],
];

export function anthropicRecord(x: AnthropicExchange): CaptureRecord {
  const model = x.model ?? 'claude-sonnet-4-20250514';
  const body: Record<string, unknown> = { model, max_tokens: 32000, messages: x.messages, stream: true };
  if (x.system) body.system = [{ type: 'text', text: x.system, cache_control: { type: 'ephemeral' } }];
  if (x.tools) body.tools = x.tools.map((name) => ({ name, description: `The ${name} tool.`, input_schema: { type: 'object', properties: {} } }));
  if (x.userId || x.sessionId) body.metadata = { user_id: `${x.userId ?? 'user_4f2a'}${x.sessionId ? `_account_9c1d_session_${x.sessionId}` : ''}` };
  const headers: HeaderList = [...CLAUDE_HEADERS];
  if (x.sessionId) headers.push(['x-claude-code-session-id', x.sessionId]);
  const text = JSON.stringify(body);
  const stream = anthropicStream(model, x.response, x.usage, x.stopReason ?? (x.response.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn'));
  const total = x.durationMs ?? 1500;
  return {
    v: 1,
    id: uuidv7(x.t),
    kind: 'http',
    mode: 'forward',
    startedAt: new Date(x.t).toISOString(),
    client: { ip: '127.0.0.1', port: 50000 + (x.pid ?? 1), pid: x.pid ?? 4242, process: 'claude' },
    server: { host: 'api.anthropic.com', port: 443, tls: true, alpn: 'h2' },
    request: { method: 'POST', url: 'https://api.anthropic.com/v1/messages?beta=true', httpVersion: '2', headers, body: { text, size: Buffer.byteLength(text) } },
    response: {
      status: 200,
      httpVersion: '2',
      headers: [['content-type', 'text/event-stream; charset=utf-8'], ['request-id', 'req_011CPc']],
      body: { text: stream, size: Buffer.byteLength(stream) },
      chunks: [[total * 0.3, 400], [total * 0.9, Buffer.byteLength(stream) - 400]],
    },
    timing: { ttfbMs: total * 0.25, totalMs: total },
    error: null,
    ...(x.labels ? { labels: x.labels } : {}),
  };
}

export function anthropicCountTokensRecord(t: number, messages: AnthropicMessage[], inputTokens: number, pid = 4242): CaptureRecord {
  const text = JSON.stringify({ model: 'claude-sonnet-4-20250514', messages });
  const res = JSON.stringify({ input_tokens: inputTokens });
  return {
    v: 1,
    id: uuidv7(t),
    kind: 'http',
    mode: 'forward',
    startedAt: new Date(t).toISOString(),
    client: { ip: '127.0.0.1', port: 50001, pid, process: 'claude' },
    server: { host: 'api.anthropic.com', port: 443, tls: true },
    request: { method: 'POST', url: 'https://api.anthropic.com/v1/messages/count_tokens?beta=true', httpVersion: '2', headers: [...CLAUDE_HEADERS], body: { text, size: Buffer.byteLength(text) } },
    response: { status: 200, httpVersion: '2', headers: [['content-type', 'application/json']], body: { text: res, size: res.length } },
    timing: { ttfbMs: 80, totalMs: 90 },
    error: null,
  };
}

export interface OpenAiMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string | null;
  tool_calls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[];
  tool_call_id?: string;
}

/** An OpenAI Chat Completions streamed exchange (with stream_options.include_usage). */
export function openaiChatRecord(x: { t: number; model?: string; messages: OpenAiMessage[]; answer?: string; toolCall?: { id: string; name: string; arguments: Record<string, unknown> }; usage: { prompt_tokens: number; completion_tokens: number; cached?: number }; ip?: string; status?: number; durationMs?: number }): CaptureRecord {
  const model = x.model ?? 'gpt-4o-mini';
  const body = { model, messages: x.messages, stream: true, stream_options: { include_usage: true }, tools: [{ type: 'function', function: { name: 'shell', parameters: { type: 'object' } } }] };
  const id = 'chatcmpl-' + Math.random().toString(36).slice(2, 10);
  const chunk = (delta: unknown, finish: string | null = null) => ({ id, object: 'chat.completion.chunk', created: Math.floor(x.t / 1000), model, choices: [{ index: 0, delta, finish_reason: finish }] });
  const events: unknown[] = [chunk({ role: 'assistant', content: '' })];
  if (x.answer) for (const piece of x.answer.match(/[\s\S]{1,20}/g) ?? []) events.push(chunk({ content: piece }));
  if (x.toolCall) events.push(chunk({ tool_calls: [{ index: 0, id: x.toolCall.id, type: 'function', function: { name: x.toolCall.name, arguments: JSON.stringify(x.toolCall.arguments) } }] }));
  events.push(chunk({}, x.toolCall ? 'tool_calls' : 'stop'));
  events.push({ id, object: 'chat.completion.chunk', created: Math.floor(x.t / 1000), model, choices: [], usage: { prompt_tokens: x.usage.prompt_tokens, completion_tokens: x.usage.completion_tokens, total_tokens: x.usage.prompt_tokens + x.usage.completion_tokens, prompt_tokens_details: { cached_tokens: x.usage.cached ?? 0 } } });
  const stream = events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('') + 'data: [DONE]\n\n';
  const status = x.status ?? 200;
  const text = JSON.stringify(body);
  const total = x.durationMs ?? 900;
  const errBody = JSON.stringify({ error: { message: 'Rate limit reached for gpt-4o-mini', type: 'requests', code: 'rate_limit_exceeded' } });
  return {
    v: 1,
    id: uuidv7(x.t),
    kind: 'http',
    mode: 'forward',
    startedAt: new Date(x.t).toISOString(),
    client: { ip: x.ip ?? '10.0.0.7', port: 61000 },
    server: { host: 'api.openai.com', port: 443, tls: true },
    request: { method: 'POST', url: 'https://api.openai.com/v1/chat/completions', httpVersion: '1.1', headers: [['content-type', 'application/json'], ['authorization', '[REDACTED …wxyz]'], ['user-agent', 'OpenAI/Python 1.54.0']], body: { text, size: text.length } },
    response: status === 200
      ? { status, httpVersion: '1.1', headers: [['content-type', 'text/event-stream']], body: { text: stream, size: stream.length }, chunks: [[total * 0.2, 200], [total, stream.length - 200]] }
      : { status, httpVersion: '1.1', headers: [['content-type', 'application/json']], body: { text: errBody, size: errBody.length } },
    timing: { ttfbMs: total * 0.2, totalMs: total },
    error: null,
  };
}

export function writeCapture(file: string, records: CaptureRecord[]): void {
  writeFileSync(file, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
}

/**
 * A Claude Code session: the task prompt, thinking, Read → Bash tool calls, a Task sub-agent,
 * a title helper call, count_tokens, then the final answer. Returns the records in wire order.
 */
export function claudeCodeSession(start: number, sessionId: string, pid = 4242, pad: { system?: string; file?: string } = {}): CaptureRecord[] {
  const system = "You are Claude Code, Anthropic's official CLI for Claude." + (pad.system ?? '');
  const tools = ['Task', 'Bash', 'Read', 'Edit'];
  const task = 'Fix the failing test in calc.py and tell me what was wrong.';
  const m1: AnthropicMessage[] = [{ role: 'user', content: [{ type: 'text', text: task }] }];
  const r1: AnthropicContent[] = [
    { type: 'thinking', thinking: 'I should read calc.py first to see the add function.' },
    { type: 'text', text: "I'll look at calc.py." },
    { type: 'tool_use', id: 'toolu_01Read', name: 'Read', input: { file_path: '/repo/calc.py' } },
  ];
  const m2: AnthropicMessage[] = [...m1, { role: 'assistant', content: r1.filter((b) => b.type !== 'thinking') }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01Read', content: 'def add(a, b):\n    return a - b\n' + (pad.file ?? '') }] }];
  const r2: AnthropicContent[] = [{ type: 'tool_use', id: 'toolu_02Task', name: 'Task', input: { description: 'Find callers', prompt: 'Search the repository for every caller of add() and list the files.', subagent_type: 'general-purpose' } }];
  const sub: AnthropicMessage[] = [{ role: 'user', content: 'Search the repository for every caller of add() and list the files.' }];
  const subAnswer: AnthropicContent[] = [{ type: 'text', text: 'add() is called from test_calc.py and cli.py.' }];
  const m3: AnthropicMessage[] = [...m2, { role: 'assistant', content: r2 }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_02Task', content: 'add() is called from test_calc.py and cli.py.' }] }];
  const r3: AnthropicContent[] = [
    { type: 'text', text: 'The bug is the minus sign; fixing it.' },
    { type: 'tool_use', id: 'toolu_03Edit', name: 'Edit', input: { file_path: '/repo/calc.py', old_string: 'return a - b', new_string: 'return a + b' } },
  ];
  const m4: AnthropicMessage[] = [...m3, { role: 'assistant', content: r3 }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_03Edit', content: 'The file /repo/calc.py has been updated.' }] }];
  const r4: AnthropicContent[] = [{ type: 'tool_use', id: 'toolu_04Bash', name: 'Bash', input: { command: 'python -m pytest -q', description: 'Run the tests' } }];
  const m5: AnthropicMessage[] = [...m4, { role: 'assistant', content: r4 }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_04Bash', content: '3 passed in 0.02s' }] }];
  const r5: AnthropicContent[] = [{ type: 'text', text: 'Fixed: add() subtracted instead of adding. All 3 tests pass now.' }];
  const common = { system, tools, sessionId, pid };
  return [
    anthropicRecord({ t: start, model: 'claude-3-5-haiku-20241022', system: 'Summarize this coding conversation in under 50 characters.', messages: [{ role: 'user', content: task }], response: [{ type: 'text', text: 'Fix calc.py test' }], usage: { input_tokens: 40, output_tokens: 6 }, sessionId, pid, durationMs: 400 }),
    anthropicRecord({ ...common, t: start + 100, messages: m1, response: r1, usage: { input_tokens: 12, cache_creation_input_tokens: 9000, cache_read_input_tokens: 0, output_tokens: 80 }, durationMs: 2500 }),
    anthropicRecord({ ...common, t: start + 3000, messages: m2, response: r2, usage: { input_tokens: 30, cache_read_input_tokens: 9000, cache_creation_input_tokens: 120, output_tokens: 60 }, durationMs: 2000 }),
    anthropicRecord({ ...common, t: start + 5200, system: 'You are an agent for Claude Code. Search the codebase.', messages: sub, response: subAnswer, usage: { input_tokens: 300, output_tokens: 20 }, durationMs: 1200 }),
    anthropicCountTokensRecord(start + 6500, m3, 9500, pid),
    anthropicRecord({ ...common, t: start + 7000, messages: m3, response: r3, usage: { input_tokens: 40, cache_read_input_tokens: 9120, cache_creation_input_tokens: 200, output_tokens: 90 }, durationMs: 3000 }),
    anthropicRecord({ ...common, t: start + 10500, messages: m4, response: r4, usage: { input_tokens: 25, cache_read_input_tokens: 9320, cache_creation_input_tokens: 100, output_tokens: 40 }, durationMs: 1800 }),
    anthropicRecord({ ...common, t: start + 14000, messages: m5, response: r5, usage: { input_tokens: 20, cache_read_input_tokens: 9420, cache_creation_input_tokens: 50, output_tokens: 30 }, durationMs: 1600 }),
  ];
}
