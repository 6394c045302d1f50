// OpenAI Chat Completions (POST …/chat/completions) and every provider that speaks it (Groq,
// Mistral, DeepSeek, OpenRouter, xAI, Together, local servers…). A stream is merged the way the
// openai SDK's ChatCompletionStream does: per choice index, content and refusal appended,
// tool_calls merged by their index, finish_reason kept, usage taken from the final usage chunk.
// `reasoning_content` / `reasoning` deltas (DeepSeek, OpenRouter, vLLM) become thinking blocks.
import { bodyText, type CaptureRecord } from '../capture/record.js';
import { forEachSseEvent, looksLikeSse } from '../protocols/sse.js';
import { arr, errorMessageOf, isObject, jsonStringLiteral, num, requestJson, responseJson, str } from './record-json.js';
import { toolInputFromJson } from './tool-input.js';
import { toolSpecs } from './tool-specs.js';
import { unreadableResponse, withCaptureError } from './response-errors.js';
import type { ApiFamily, Block, LlmRequest, LlmResponse, ToolSpec, Turn, Usage } from './types.js';

type Raw = Record<string, unknown>;

/** Text of a chat `content` (string or parts) for system prompts. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  return arr(content)
    .map((p) => (isObject(p) ? (str(p.text) ?? '') : typeof p === 'string' ? p : ''))
    .filter((t) => t !== '')
    .join('\n');
}

function partBlocks(content: unknown): Block[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  if (content === null || content === undefined) return [];
  const out: Block[] = [];
  for (const p of arr(content)) {
    if (typeof p === 'string') out.push({ type: 'text', text: p });
    else if (!isObject(p)) continue;
    else if (p.type === 'text' || p.type === 'input_text' || p.type === 'output_text') out.push({ type: 'text', text: str(p.text) ?? '' });
    else if (p.type === 'refusal') out.push({ type: 'text', text: str(p.refusal) ?? '', refusal: true });
    else if (p.type === 'image_url') {
      const url = isObject(p.image_url) ? str(p.image_url.url) : str(p.image_url);
      const m = url ? /^data:([^;,]+)/.exec(url) : null;
      out.push(m ? { type: 'image', mediaType: m[1] } : { type: 'image' });
    } else out.push({ type: 'other', raw: p });
  }
  return out;
}

function toolCallBlocks(toolCalls: unknown): Block[] {
  const out: Block[] = [];
  for (const tc of arr(toolCalls)) {
    if (!isObject(tc)) continue;
    const fn = isObject(tc.function) ? tc.function : isObject(tc.custom) ? tc.custom : {};
    const args = fn.arguments ?? fn.input;
    const block: Block = { type: 'tool_call', name: str(fn.name) ?? '', input: typeof args === 'string' ? toolInputFromJson(args) : (args ?? {}) };
    const id = str(tc.id);
    if (id) block.id = id;
    out.push(block);
  }
  return out;
}

export function chatRequestParts(messages: unknown): { system?: string; turns: Turn[] } {
  const turns: Turn[] = [];
  const systemParts: string[] = [];
  let leading = true;
  for (const m of arr(messages)) {
    if (!isObject(m)) continue;
    const role = str(m.role) ?? 'user';
    if (role === 'system' || role === 'developer') {
      if (leading) {
        systemParts.push(contentText(m.content));
        continue;
      }
      turns.push({ role: 'system', blocks: partBlocks(m.content) });
      continue;
    }
    leading = false;
    if (role === 'tool' || role === 'function') {
      const block: Block = { type: 'tool_result', output: m.content };
      const id = str(m.tool_call_id) ?? str(m.name);
      if (id) block.id = id;
      turns.push({ role: 'tool', blocks: [block] });
      continue;
    }
    if (role === 'assistant') {
      const blocks: Block[] = [];
      const reasoning = str(m.reasoning_content) ?? str(m.reasoning);
      if (reasoning) blocks.push({ type: 'thinking', text: reasoning });
      blocks.push(...partBlocks(m.content));
      if (typeof m.refusal === 'string' && m.refusal) blocks.push({ type: 'text', text: m.refusal, refusal: true });
      blocks.push(...toolCallBlocks(m.tool_calls));
      if (isObject(m.function_call)) blocks.push(...toolCallBlocks([{ function: m.function_call }]));
      turns.push({ role: 'assistant', blocks });
      continue;
    }
    turns.push({ role: 'user', blocks: partBlocks(m.content) });
  }
  const res: { system?: string; turns: Turn[] } = { turns };
  if (systemParts.length) res.system = systemParts.join('\n');
  return res;
}

export function chatTools(tools: unknown, functions?: unknown): ToolSpec[] {
  return toolSpecs([...arr(tools), ...arr(functions)], (t) => {
    const fn = isObject(t.function) ? t.function : isObject(t.custom) ? t.custom : t;
    return { name: str(fn.name) ?? str(t.type), description: fn.description };
  });
}

export function chatUsage(u: unknown): Usage | undefined {
  if (!isObject(u)) return undefined;
  const usage: Usage = {};
  const input = num(u.prompt_tokens) ?? num(u.input_tokens);
  const output = num(u.completion_tokens) ?? num(u.output_tokens);
  if (input !== undefined) usage.input = input;
  if (output !== undefined) usage.output = output;
  const pd = isObject(u.prompt_tokens_details) ? u.prompt_tokens_details : undefined;
  const cached = num(pd?.cached_tokens) ?? num(u.prompt_cache_hit_tokens) ?? num(u.cached_tokens);
  if (cached !== undefined) usage.cacheRead = cached;
  const cd = isObject(u.completion_tokens_details) ? u.completion_tokens_details : undefined;
  const reasoning = num(cd?.reasoning_tokens) ?? num(u.reasoning_tokens);
  if (reasoning !== undefined) usage.reasoning = reasoning;
  return Object.keys(usage).length ? usage : undefined;
}

function parseRequest(record: CaptureRecord): { model?: string; stream: boolean; request: LlmRequest } {
  const body = requestJson(record);
  const parts = chatRequestParts(body?.messages);
  const request: LlmRequest = { turns: parts.turns, tools: chatTools(body?.tools, body?.functions) };
  if (parts.system !== undefined) request.system = parts.system;
  const model = str(body?.model) ?? azureDeployment(record.request?.url ?? '');
  return { model, stream: body?.stream === true, request };
}

function azureDeployment(url: string): string | undefined {
  const m = /\/deployments\/([^/]+)\//.exec(url);
  return m ? decodeURIComponent(m[1]!) : undefined;
}

/** A final chat.completion object (non-stream, or a merged stream) as a response. */
export function chatCompletionResponse(c: Raw): LlmResponse & { model?: string } {
  const choices = arr(c.choices)
    .filter(isObject)
    .sort((a, b) => (num(a.index) ?? 0) - (num(b.index) ?? 0));
  const turns: Turn[] = [];
  let stopReason: string | undefined;
  for (const ch of choices) {
    const msg = isObject(ch.message) ? ch.message : {};
    const blocks: Block[] = [];
    const reasoning = str(msg.reasoning_content) ?? str(msg.reasoning);
    if (reasoning) blocks.push({ type: 'thinking', text: reasoning });
    blocks.push(...partBlocks(msg.content));
    if (typeof msg.refusal === 'string' && msg.refusal !== '') blocks.push({ type: 'text', text: msg.refusal, refusal: true });
    blocks.push(...toolCallBlocks(msg.tool_calls));
    if (isObject(msg.function_call)) blocks.push(...toolCallBlocks([{ function: msg.function_call }]));
    turns.push({ role: 'assistant', blocks });
    stopReason ??= str(ch.finish_reason);
  }
  const res: LlmResponse & { model?: string } = { turns };
  if (stopReason) res.stopReason = stopReason;
  const usage = chatUsage(c.usage);
  if (usage) res.usage = usage;
  const model = str(c.model);
  if (model) res.model = model;
  const id = str(c.id);
  if (id) res.id = id;
  return res;
}

/** Accumulates chat.completion.chunk objects into a chat.completion, as ChatCompletionStream does. */
export class ChatStreamMerger {
  private choices = new Map<number, Raw>();
  model: string | undefined;
  id: string | undefined;
  usage: unknown;
  error: string | undefined;
  done = false;
  sawChunk = false;

  push(chunk: unknown): void {
    if (!isObject(chunk)) return;
    if (chunk.error !== undefined && chunk.choices === undefined) {
      this.error = errorMessageOf(chunk) ?? 'stream error';
      return;
    }
    this.sawChunk = true;
    if (typeof chunk.model === 'string') this.model = chunk.model;
    if (typeof chunk.id === 'string') this.id = chunk.id;
    if (chunk.usage !== undefined && chunk.usage !== null) this.usage = chunk.usage;
    for (const ch of arr(chunk.choices)) {
      if (!isObject(ch)) continue;
      const index = num(ch.index) ?? 0;
      let acc = this.choices.get(index);
      if (!acc) {
        acc = { index, message: { role: 'assistant' } };
        this.choices.set(index, acc);
      }
      const msg = acc.message as Raw;
      if (ch.finish_reason !== undefined && ch.finish_reason !== null) acc.finish_reason = ch.finish_reason;
      const d = isObject(ch.delta) ? ch.delta : {};
      if (typeof d.content === 'string') msg.content = (str(msg.content) ?? '') + d.content;
      if (typeof d.refusal === 'string') msg.refusal = (str(msg.refusal) ?? '') + d.refusal;
      if (typeof d.reasoning_content === 'string') msg.reasoning_content = (str(msg.reasoning_content) ?? '') + d.reasoning_content;
      else if (typeof d.reasoning === 'string') msg.reasoning_content = (str(msg.reasoning_content) ?? '') + d.reasoning;
      if (isObject(d.function_call)) {
        const fc = (msg.function_call ??= { name: '', arguments: '' }) as Raw;
        if (typeof d.function_call.name === 'string') fc.name = d.function_call.name;
        if (typeof d.function_call.arguments === 'string') fc.arguments = (str(fc.arguments) ?? '') + d.function_call.arguments;
      }
      for (const tc of arr(d.tool_calls)) {
        if (!isObject(tc)) continue;
        const calls = (msg.tool_calls ??= []) as Raw[];
        const ti = num(tc.index) ?? calls.length;
        const call = (calls[ti] ??= { function: { name: '', arguments: '' } });
        if (typeof tc.id === 'string') call.id = tc.id;
        if (typeof tc.type === 'string') call.type = tc.type;
        const fn = isObject(tc.function) ? tc.function : {};
        const acc2 = call.function as Raw;
        if (typeof fn.name === 'string' && fn.name !== '') acc2.name = fn.name;
        if (typeof fn.arguments === 'string') acc2.arguments = (str(acc2.arguments) ?? '') + fn.arguments;
      }
    }
  }

  /** The fast path of push() for a chunk that only appends content to choice 0. */
  pushContent(id: string, model: string, content: string): void {
    this.sawChunk = true;
    this.model = model;
    this.id = id;
    let acc = this.choices.get(0);
    if (!acc) {
      acc = { index: 0, message: { role: 'assistant' } };
      this.choices.set(0, acc);
    }
    const msg = acc.message as Raw;
    msg.content = (typeof msg.content === 'string' ? msg.content : '') + content;
  }

  result(): LlmResponse & { model?: string } {
    const completion: Raw = { choices: [...this.choices.values()].map((c) => ({ ...c, message: { ...(c.message as Raw), tool_calls: arr((c.message as Raw).tool_calls).filter(Boolean) } })) };
    if (this.model) completion.model = this.model;
    if (this.id) completion.id = this.id;
    if (this.usage !== undefined) completion.usage = this.usage;
    const res = chatCompletionResponse(completion);
    if (this.error) res.error = this.error;
    else if (!this.done) res.error = this.sawChunk ? 'stream ended before [DONE] (truncated)' : 'stream ended before any chunk';
    return res;
  }
}

/**
 * A content-only chunk exactly as OpenAI (and most compatible servers) write it; anything else —
 * other fields, other order, several choices — goes through JSON.parse. Groups: id, model, content.
 */
const CONTENT_CHUNK =
  /^\{"id":"([^"\\]*)","object":"chat\.completion\.chunk","created":\d+,"model":"([^"\\]*)",(?:"[a-z_]+":(?:"[^"\\]*"|null),)*"choices":\[\{"index":0,"delta":\{"content":("(?:[^"\\]|\\.)*")\},"logprobs":null,"finish_reason":null\}\](?:,"[a-z_]+":(?:"[^"\\]*"|null))*\}$/;

export function mergeChatSse(text: string): LlmResponse & { model?: string } {
  const merger = new ChatStreamMerger();
  const parsed = forEachSseEvent(text, (event, data) => {
    if (data === '[DONE]') {
      merger.done = true;
      return;
    }
    if (data.trim() === '') return;
    // Most chunks only add a few characters of content: read those without a full JSON.parse.
    const fast = CONTENT_CHUNK.exec(data);
    if (fast && event !== 'error') {
      merger.pushContent(fast[1]!, fast[2]!, jsonStringLiteral(fast[3]!));
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(data);
    } catch {
      merger.error ??= 'malformed chunk in stream';
      return;
    }
    if (event === 'error' && isObject(value)) {
      merger.error = errorMessageOf(value) ?? 'stream error';
      return;
    }
    merger.push(value);
  });
  // Providers that end the stream with a finish_reason but no [DONE] (e.g. some gateways) are complete when the body was not cut.
  const res = merger.result();
  if (!merger.done && !parsed.incomplete && res.stopReason && res.error?.includes('truncated')) delete res.error;
  return res;
}

function parseResponse(record: CaptureRecord): LlmResponse & { model?: string } {
  const resp = record.response;
  if (!resp) return { turns: [], error: record.error?.message ?? 'no response' };
  const text = bodyText(resp.body);
  let res: LlmResponse & { model?: string };
  const json = responseJson(record);
  if (isObject(json) && Array.isArray(json.choices) && resp.status < 400) res = chatCompletionResponse(json);
  else if (resp.status < 400 && looksLikeSse(text)) res = mergeChatSse(text);
  else {
    res = unreadableResponse(json, text, resp.status);
  }
  return withCaptureError(record, res);
}

export const openaiChat: ApiFamily = { api: 'openai.chat', parseRequest, parseResponse };
