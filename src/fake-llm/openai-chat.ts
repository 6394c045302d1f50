// Fake OpenAI Chat Completions API: POST /v1/chat/completions (JSON or SSE ending in [DONE]).
// First turn with tools: a tool call; once a `tool` message comes back: a final answer quoting
// it. Chunks follow the documented shapes so the official SDK's ChatCompletionStream accumulates them.
import type { ServerResponse } from 'node:http';
import { chooseToolCall, summarizeToolOutput, TOOL_MARKER } from './tool-choice.js';
import { pieces } from './anthropic.js';
import { sendSse, type FakeRequest, type FakeRoute } from './server.js';

interface ChatMessage {
  role: string;
  content?: unknown;
  tool_call_id?: string;
}
export interface ChatRequest {
  model?: string;
  messages?: ChatMessage[];
  tools?: { type?: string; function?: { name: string; parameters?: unknown } }[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
}

let counter = 0;
const nextId = (p: string): string => `${p}-fake${Date.now().toString(36)}${(counter++).toString(36).padStart(4, '0')}`;

function approxTokens(v: unknown): number {
  return Math.max(1, Math.ceil(JSON.stringify(v ?? '').length / 4));
}

function contentText(c: unknown): string {
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.map((p: { text?: string }) => p.text ?? '').join('');
  return JSON.stringify(c ?? '');
}

export function chatAnswer(req: ChatRequest): { text: string | null; call?: { id: string; name: string; arguments: string }; finish: 'tool_calls' | 'stop' } {
  const last = req.messages?.[req.messages.length - 1];
  if (last?.role === 'tool') return { text: `The tool returned: ${summarizeToolOutput(contentText(last.content))}. Done.`, finish: 'stop' };
  const offered = (req.tools ?? []).filter((t) => t.function).map((t) => ({ name: t.function!.name, schema: t.function!.parameters }));
  const call = chooseToolCall(offered);
  if (call) return { text: null, call: { id: nextId('call'), name: call.name, arguments: JSON.stringify(call.args) }, finish: 'tool_calls' };
  return { text: `Hello from the agenttap fake OpenAI upstream (${TOOL_MARKER}).`, finish: 'stop' };
}

function usageOf(req: ChatRequest, out: unknown): Record<string, unknown> {
  const p = approxTokens(req.messages);
  const c = approxTokens(out);
  return { prompt_tokens: p, completion_tokens: c, total_tokens: p + c, prompt_tokens_details: { cached_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } };
}

export function chatCompletion(req: ChatRequest): Record<string, unknown> {
  const a = chatAnswer(req);
  const message: Record<string, unknown> = { role: 'assistant', content: a.text, refusal: null };
  if (a.call) message['tool_calls'] = [{ id: a.call.id, type: 'function', function: { name: a.call.name, arguments: a.call.arguments } }];
  return {
    id: nextId('chatcmpl'),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: req.model ?? 'gpt-fake',
    choices: [{ index: 0, message, logprobs: null, finish_reason: a.finish }],
    usage: usageOf(req, a),
  };
}

export function chatChunks(req: ChatRequest): Record<string, unknown>[] {
  const a = chatAnswer(req);
  const base = { id: nextId('chatcmpl'), object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: req.model ?? 'gpt-fake', system_fingerprint: 'fp_fake' };
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
  const out: Record<string, unknown>[] = [chunk({ role: 'assistant', content: a.call ? null : '', refusal: null })];
  if (a.text !== null) for (const t of pieces(a.text)) out.push(chunk({ content: t }));
  if (a.call) {
    out.push(chunk({ tool_calls: [{ index: 0, id: a.call.id, type: 'function', function: { name: a.call.name, arguments: '' } }] }));
    for (const j of pieces(a.call.arguments, 10)) out.push(chunk({ tool_calls: [{ index: 0, function: { arguments: j } }] }));
  }
  out.push(chunk({}, a.finish));
  if (req.stream_options?.include_usage) out.push({ ...base, choices: [], usage: usageOf(req, a) });
  return out;
}

export const openaiChatRoute: FakeRoute = {
  name: 'openai.chat',
  http(req: FakeRequest, res: ServerResponse): boolean {
    const path = req.path.split('?')[0]!;
    if (req.method !== 'POST' || !/^(\/v1)?\/chat\/completions$/.test(path)) return false;
    const body = (req.body ?? {}) as ChatRequest;
    if (!Array.isArray(body.messages)) {
      const text = JSON.stringify({ error: { message: "Missing required parameter: 'messages'.", type: 'invalid_request_error', param: 'messages', code: 'missing_required_parameter' } });
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(text);
      return true;
    }
    if (body.stream) sendSse(res, [...chatChunks(body).map((c) => `data: ${JSON.stringify(c)}\n\n`), 'data: [DONE]\n\n']);
    else {
      const text = JSON.stringify(chatCompletion(body));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    }
    return true;
  },
};
