// Anthropic Messages API (POST /v1/messages, also via Bedrock invoke and Vertex rawPredict):
// request messages and system prompt, and the response — JSON, or an SSE stream merged the way
// @anthropic-ai/sdk's MessageStream accumulates it (content blocks by index, deltas appended,
// message_delta overwriting stop reason and cumulative usage).
import { bodyText, type CaptureRecord } from '../capture/record.js';
import { forEachSseEvent, looksLikeSse } from '../protocols/sse.js';
import { decodeBedrockStream, isEventStream } from './bedrock-stream.js';
import { arr, errorMessageOf, isObject, jsonStringLiteral, num, requestJson, requestPath, responseJson, str } from './record-json.js';
import { toolInputFromJson } from './tool-input.js';
import { toolSpecs } from './tool-specs.js';
import { unreadableResponse, withCaptureError } from './response-errors.js';
import type { ApiFamily, Block, LlmRequest, LlmResponse, ToolSpec, Turn, Usage } from './types.js';

type Raw = Record<string, unknown>;

/** Text of an Anthropic `system` (string or text blocks), joined. */
export function anthropicSystem(system: unknown): string | undefined {
  if (typeof system === 'string') return system;
  if (Array.isArray(system)) {
    const parts = system.map((b) => (isObject(b) ? (str(b.text) ?? '') : typeof b === 'string' ? b : '')).filter((t) => t !== '');
    return parts.length ? parts.join('\n') : undefined;
  }
  return undefined;
}

function toolResultOutput(content: unknown): unknown {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    if (content.every((c) => isObject(c) && c.type === 'text')) return content.map((c) => str((c as Raw).text) ?? '').join('\n');
    return content;
  }
  return content;
}

/** One Anthropic content block as normalized blocks. */
export function anthropicBlock(b: unknown, refusal = false): Block[] {
  if (typeof b === 'string') return [{ type: 'text', text: b }];
  if (!isObject(b)) return [{ type: 'other', raw: b }];
  const type = str(b.type) ?? '';
  switch (type) {
    case 'text': {
      const block: Block = refusal ? { type: 'text', text: str(b.text) ?? '', refusal: true } : { type: 'text', text: str(b.text) ?? '' };
      const citations = arr(b.citations);
      return citations.length ? [block, { type: 'other', raw: { type: 'citations', citations } }] : [block];
    }
    case 'thinking':
      return [{ type: 'thinking', text: str(b.thinking) ?? '' }];
    case 'redacted_thinking':
      return [{ type: 'other', raw: { type: 'redacted_thinking' } }];
    case 'tool_use':
      return [{ type: 'tool_call', id: str(b.id), name: str(b.name) ?? '', input: b.input ?? {} }];
    case 'server_tool_use':
    case 'mcp_tool_use':
      return [{ type: 'tool_call', id: str(b.id), name: str(b.name) ?? type, input: b.input ?? {}, server: true }];
    case 'tool_result':
      return [dropUndef({ type: 'tool_result', id: str(b.tool_use_id), output: toolResultOutput(b.content), isError: b.is_error === true ? true : undefined })];
    case 'image':
      return [{ type: 'image', mediaType: isObject(b.source) ? str(b.source.media_type) : undefined }];
    default:
      if (type.endsWith('_tool_result')) {
        const content = b.content;
        const isError = isObject(content) && typeof content.type === 'string' && content.type.endsWith('_error');
        return [dropUndef({ type: 'tool_result', id: str(b.tool_use_id), output: content, isError: isError || b.is_error === true ? true : undefined })];
      }
      return [{ type: 'other', raw: b }];
  }
}

function dropUndef<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

export function anthropicTurns(messages: unknown): Turn[] {
  const turns: Turn[] = [];
  for (const m of arr(messages)) {
    if (!isObject(m)) continue;
    const role = m.role === 'assistant' ? 'assistant' : m.role === 'system' ? 'system' : 'user';
    const content = m.content;
    const blocks: Block[] = typeof content === 'string' ? [{ type: 'text', text: content }] : arr(content).flatMap((b) => anthropicBlock(b));
    turns.push({ role, blocks });
  }
  return turns;
}

export function anthropicTools(tools: unknown): ToolSpec[] {
  return toolSpecs(tools, (t) => ({ name: str(t.name) ?? str(t.type), description: t.description }));
}

export function anthropicUsage(u: unknown): Usage | undefined {
  if (!isObject(u)) return undefined;
  const usage: Usage = {};
  const input = num(u.input_tokens);
  const output = num(u.output_tokens);
  const cr = num(u.cache_read_input_tokens);
  const cw = num(u.cache_creation_input_tokens);
  if (input !== undefined) usage.input = input;
  if (output !== undefined) usage.output = output;
  if (cr !== undefined) usage.cacheRead = cr;
  if (cw !== undefined) usage.cacheWrite = cw;
  // Newer responses report thinking tokens (part of output_tokens, as OpenAI's reasoning_tokens are).
  const thinking = isObject(u.output_tokens_details) ? num(u.output_tokens_details.thinking_tokens) : undefined;
  if (thinking !== undefined) usage.reasoning = thinking;
  return Object.keys(usage).length ? usage : undefined;
}

/** Model id from a Bedrock (`/model/{id}/invoke…`) or Vertex (`…/models/{id}:rawPredict`) path. */
export function modelFromPath(path: string): string | undefined {
  const bedrock = /\/model\/([^/]+)\/(invoke|converse)/.exec(path);
  if (bedrock) return decodeURIComponent(bedrock[1]!);
  const vertex = /\/models\/([^/:]+):/.exec(path);
  if (vertex) return decodeURIComponent(vertex[1]!);
  return undefined;
}

function parseRequest(record: CaptureRecord): { model?: string; stream: boolean; request: LlmRequest } {
  const body = requestJson(record);
  const path = requestPath(record);
  const model = str(body?.model) ?? modelFromPath(path);
  const stream = body?.stream === true || /invoke-with-response-stream|:streamRawPredict/.test(path);
  const request: LlmRequest = { turns: anthropicTurns(body?.messages), tools: anthropicTools(body?.tools) };
  const system = anthropicSystem(body?.system);
  if (system !== undefined) request.system = system;
  return { model, stream, request };
}

/** Final (non-stream) message JSON as a response. */
export function anthropicMessageResponse(msg: Raw): LlmResponse & { model?: string } {
  const stopReason = str(msg.stop_reason);
  const blocks = arr(msg.content);
  let lastText = -1;
  if (stopReason === 'refusal') blocks.forEach((b, i) => isObject(b) && b.type === 'text' && (lastText = i));
  const turn: Turn = { role: 'assistant', blocks: blocks.flatMap((b, i) => anthropicBlock(b, i === lastText)) };
  const res: LlmResponse & { model?: string } = { turns: turn.blocks.length ? [turn] : [] };
  if (stopReason) res.stopReason = stopReason;
  const usage = anthropicUsage(msg.usage);
  if (usage) res.usage = usage;
  const model = str(msg.model);
  if (model) res.model = model;
  const id = str(msg.id);
  if (id) res.id = id;
  return res;
}

/** Accumulates Anthropic stream events the way the SDK's MessageStream does. */
export class AnthropicStreamMerger {
  snapshot: Raw | undefined;
  private jsonBufs = new Map<number, string>();
  error: string | undefined;
  stopped = false;

  push(event: unknown): void {
    if (!isObject(event)) return;
    const type = event.type;
    if (type === 'error') {
      this.error = errorMessageOf(event) ?? 'stream error';
      return;
    }
    if (type === 'message_start') {
      const m = isObject(event.message) ? event.message : {};
      this.snapshot = { ...m, content: [...arr(m.content)], usage: isObject(m.usage) ? { ...m.usage } : {} };
      return;
    }
    const snap = this.snapshot;
    if (!snap) return;
    const content = snap.content as Raw[];
    switch (type) {
      case 'message_stop':
        this.stopped = true;
        return;
      case 'message_delta': {
        const d = isObject(event.delta) ? event.delta : {};
        if ('stop_reason' in d) snap.stop_reason = d.stop_reason;
        if ('stop_sequence' in d) snap.stop_sequence = d.stop_sequence;
        const u = isObject(event.usage) ? event.usage : {};
        const usage = snap.usage as Raw;
        if (u.output_tokens != null) usage.output_tokens = u.output_tokens;
        for (const k of ['input_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens', 'server_tool_use', 'output_tokens_details']) {
          if (u[k] != null) usage[k] = u[k];
        }
        return;
      }
      case 'content_block_start': {
        const idx = num(event.index) ?? content.length;
        content[idx] = isObject(event.content_block) ? { ...event.content_block } : { type: 'unknown' };
        return;
      }
      case 'content_block_delta': {
        const idx = num(event.index) ?? content.length - 1;
        const block = content[idx];
        const d = isObject(event.delta) ? event.delta : {};
        if (!block) return;
        switch (d.type) {
          case 'text_delta':
            if (block.type === 'text') block.text = (str(block.text) ?? '') + (str(d.text) ?? '');
            break;
          case 'citations_delta':
            if (block.type === 'text') block.citations = [...arr(block.citations), d.citation];
            break;
          case 'input_json_delta': {
            const buf = (this.jsonBufs.get(idx) ?? '') + (str(d.partial_json) ?? '');
            this.jsonBufs.set(idx, buf);
            break;
          }
          case 'thinking_delta':
            if (block.type === 'thinking') block.thinking = (str(block.thinking) ?? '') + (str(d.thinking) ?? '');
            break;
          case 'signature_delta':
            if (block.type === 'thinking') block.signature = d.signature;
            break;
          default:
            break;
        }
        return;
      }
      default:
        return;
    }
  }

  /** The common deltas (text, thinking, tool input JSON) without building an event object. */
  appendDelta(idx: number, kind: string, value: string): void {
    const block = this.snapshot ? (this.snapshot.content as Raw[])[idx] : undefined;
    if (!block) return;
    if (kind === 'text_delta') {
      if (block.type === 'text') block.text = (typeof block.text === 'string' ? block.text : '') + value;
    } else if (kind === 'thinking_delta') {
      if (block.type === 'thinking') block.thinking = (typeof block.thinking === 'string' ? block.thinking : '') + value;
    } else if (kind === 'input_json_delta') {
      this.jsonBufs.set(idx, (this.jsonBufs.get(idx) ?? '') + value);
    }
  }

  result(): LlmResponse & { model?: string } {
    const snap = this.snapshot;
    if (!snap) {
      const res: LlmResponse = { turns: [] };
      res.error = this.error ?? 'stream ended before message_start';
      return res;
    }
    const content = snap.content as Raw[];
    for (const [idx, buf] of this.jsonBufs) {
      const block = content[idx];
      if (block && (block.type === 'tool_use' || block.type === 'server_tool_use' || block.type === 'mcp_tool_use')) {
        block.input = toolInputFromJson(buf);
      }
    }
    const res = anthropicMessageResponse({ ...snap, content: content.filter((b) => b !== undefined) });
    if (this.error) res.error = this.error;
    else if (!this.stopped) res.error = 'stream ended before message_stop (truncated)';
    return res;
  }
}

/** A text/thinking/input-JSON delta exactly as the API writes it (else: JSON.parse). Groups: index, kind, value. */
const DELTA_EVENT = /^\{"type":"content_block_delta","index":(\d+),"delta":\{"type":"(text_delta|thinking_delta|input_json_delta)","(?:text|thinking|partial_json)":("(?:[^"\\]|\\.)*")\}\}$/;

export function mergeAnthropicSse(text: string): LlmResponse & { model?: string } {
  const merger = new AnthropicStreamMerger();
  forEachSseEvent(text, (event, raw) => {
    if (raw === '') return;
    const fast = DELTA_EVENT.exec(raw);
    if (fast) {
      merger.appendDelta(Number(fast[1]), fast[2]!, jsonStringLiteral(fast[3]!));
      return;
    }
    let data: unknown;
    try {
      data = JSON.parse(raw);
    } catch {
      merger.error ??= `malformed event data (${event})`;
      return;
    }
    merger.push(data);
  });
  return merger.result();
}

function parseResponse(record: CaptureRecord): LlmResponse & { model?: string } {
  const resp = record.response;
  if (!resp) return { turns: [], error: record.error?.message ?? 'no response' };
  let res: LlmResponse & { model?: string };
  if (isEventStream(record)) {
    const merger = new AnthropicStreamMerger();
    const decoded = decodeBedrockStream(record);
    for (const ev of decoded.events) merger.push(ev);
    res = merger.result();
    // The event-stream's own failure (exception message, cut frame) explains more than "no message_stop".
    if (decoded.error) res.error = merger.error ?? decoded.error;
  } else {
    const text = bodyText(resp.body);
    const json = responseJson(record);
    if (isObject(json) && (json.type === 'message' || Array.isArray(json.content)) && resp.status < 400) {
      res = anthropicMessageResponse(json);
    } else if (resp.status < 400 && looksLikeSse(text)) {
      res = mergeAnthropicSse(text);
    } else {
      res = unreadableResponse(json, text, resp.status);
    }
  }
  return withCaptureError(record, res);
}

export const anthropicMessages: ApiFamily = { api: 'anthropic.messages', parseRequest, parseResponse };

/** POST /v1/messages/count_tokens: the request is a Messages request; the answer is input_tokens. */
export const anthropicCountTokens: ApiFamily = {
  api: 'anthropic.count_tokens',
  parseRequest(record) {
    const r = parseRequest(record);
    return { ...r, stream: false };
  },
  parseResponse(record) {
    const json = responseJson(record);
    const status = record.response?.status ?? 0;
    if (isObject(json) && num(json.input_tokens) !== undefined && status < 400) {
      return { turns: [], usage: { input: num(json.input_tokens)! } };
    }
    const res: LlmResponse = { turns: [] };
    res.error = errorMessageOf(json, status) ?? record.error?.message ?? 'no response';
    return res;
  },
};
