// Fake Anthropic Messages API: POST /v1/messages (JSON or SSE) and /v1/messages/count_tokens.
// First turn with tools: a tool_use block; once a tool_result comes back: a final text answer
// quoting it. SSE events follow the documented shapes so the official SDK's MessageStream
// accumulates them.
import type { ServerResponse } from 'node:http';
import { chooseToolCall, summarizeToolOutput, TOOL_MARKER } from './tool-choice.js';
import { sendSse, type FakeRequest, type FakeRoute } from './server.js';

interface ContentBlock {
  type: string;
  text?: string;
  content?: unknown;
  tool_use_id?: string;
}
interface Message {
  role: string;
  content: string | ContentBlock[];
}
export interface AnthropicRequest {
  model?: string;
  messages?: Message[];
  tools?: { name: string; description?: string; input_schema?: unknown }[];
  stream?: boolean;
  system?: unknown;
}

type OutBlock = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

let counter = 0;
const nextId = (p: string): string => `${p}_fake${Date.now().toString(36)}${(counter++).toString(36).padStart(4, '0')}`;

function approxTokens(v: unknown): number {
  return Math.max(1, Math.ceil(JSON.stringify(v ?? '').length / 4));
}

function toolResult(req: AnthropicRequest): unknown {
  const last = req.messages?.[req.messages.length - 1];
  if (!last || last.role !== 'user' || typeof last.content === 'string') return undefined;
  const block = last.content.find((b) => b.type === 'tool_result');
  if (!block) return undefined;
  const c = block.content;
  if (Array.isArray(c)) return c.map((x: ContentBlock) => x.text ?? '').join('');
  return c ?? '';
}

/** The assistant's answer for one request (pure apart from fresh ids). */
export function anthropicAnswer(req: AnthropicRequest): { blocks: OutBlock[]; stopReason: 'tool_use' | 'end_turn' } {
  const result = toolResult(req);
  if (result !== undefined) {
    return { blocks: [{ type: 'text', text: `The tool returned: ${summarizeToolOutput(result)}. Done.` }], stopReason: 'end_turn' };
  }
  const call = chooseToolCall((req.tools ?? []).map((t) => ({ name: t.name, schema: t.input_schema })));
  if (call) {
    return {
      blocks: [
        { type: 'text', text: `I will call ${call.name} to check.` },
        { type: 'tool_use', id: nextId('toolu'), name: call.name, input: call.args },
      ],
      stopReason: 'tool_use',
    };
  }
  return { blocks: [{ type: 'text', text: `Hello from the agenttap fake Anthropic upstream (${TOOL_MARKER}).` }], stopReason: 'end_turn' };
}

/** Split text into small deltas so clients see a real stream. */
export function pieces(text: string, size = 12): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length ? out : [''];
}

export function anthropicEvents(req: AnthropicRequest): { event: string; data: unknown }[] {
  const { blocks, stopReason } = anthropicAnswer(req);
  const model = req.model ?? 'claude-fake';
  const input = approxTokens(req.messages);
  const output = approxTokens(blocks);
  const events: { event: string; data: unknown }[] = [
    {
      event: 'message_start',
      data: {
        type: 'message_start',
        message: {
          id: nextId('msg'),
          type: 'message',
          role: 'assistant',
          model,
          content: [],
          stop_reason: null,
          stop_sequence: null,
          usage: { input_tokens: input, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1 },
        },
      },
    },
  ];
  blocks.forEach((b, index) => {
    if (b.type === 'text') {
      events.push({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block: { type: 'text', text: '' } } });
      if (index === 0) events.push({ event: 'ping', data: { type: 'ping' } });
      for (const t of pieces(b.text)) events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta: { type: 'text_delta', text: t } } });
    } else {
      events.push({ event: 'content_block_start', data: { type: 'content_block_start', index, content_block: { type: 'tool_use', id: b.id, name: b.name, input: {} } } });
      for (const j of pieces(JSON.stringify(b.input), 10)) {
        events.push({ event: 'content_block_delta', data: { type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: j } } });
      }
    }
    events.push({ event: 'content_block_stop', data: { type: 'content_block_stop', index } });
  });
  events.push({ event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: output } } });
  events.push({ event: 'message_stop', data: { type: 'message_stop' } });
  return events;
}

export function anthropicMessage(req: AnthropicRequest): Record<string, unknown> {
  const { blocks, stopReason } = anthropicAnswer(req);
  return {
    id: nextId('msg'),
    type: 'message',
    role: 'assistant',
    model: req.model ?? 'claude-fake',
    content: blocks,
    stop_reason: stopReason,
    stop_sequence: null,
    usage: { input_tokens: approxTokens(req.messages), cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: approxTokens(blocks) },
  };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': nextId('req'), 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export const anthropicRoute: FakeRoute = {
  name: 'anthropic.messages',
  http(req: FakeRequest, res: ServerResponse): boolean {
    const path = req.path.split('?')[0]!;
    if (req.method !== 'POST') return false;
    const body = (req.body ?? {}) as AnthropicRequest;
    if (path === '/v1/messages/count_tokens') {
      json(res, 200, { input_tokens: approxTokens(body.messages) });
      return true;
    }
    if (path !== '/v1/messages') return false;
    if (!Array.isArray(body.messages)) {
      json(res, 400, { type: 'error', error: { type: 'invalid_request_error', message: 'messages: Field required' } });
      return true;
    }
    if (body.stream) sendSse(res, anthropicEvents(body).map((e) => `event: ${e.event}\ndata: ${JSON.stringify(e.data)}\n\n`));
    else json(res, 200, anthropicMessage(body));
    return true;
  },
};
