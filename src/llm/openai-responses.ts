// OpenAI Responses API (POST …/responses, Codex's chatgpt.com/backend-api/codex/responses, and the
// same events over a WebSocket: `response.create` up, `response.*` down). The stream is merged the
// way the openai SDK's ResponseStream accumulates it: lifecycle events (created / in_progress /
// completed / incomplete / failed) replace the snapshot, item and part events edit it in place.
// Unlike the SDK we tolerate abbreviated streams (deltas without output_index or item ids).
import { bodyText, type CaptureRecord, type WsMessage } from '../capture/record.js';
import { looksLikeSse, parseSse } from '../protocols/sse.js';
import { arr, errorMessageOf, isObject, num, requestJson, responseJson, str } from './record-json.js';
import { toolInputFromJson } from './tool-input.js';
import { toolSpecs } from './tool-specs.js';
import { unreadableResponse, withCaptureError } from './response-errors.js';
import type { ApiFamily, Block, LlmRequest, LlmResponse, Role, ToolSpec, Turn, Usage } from './types.js';

type Raw = Record<string, unknown>;

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  return arr(content)
    .map((p) => (isObject(p) ? (str(p.text) ?? '') : ''))
    .filter((t) => t !== '')
    .join('\n');
}

function contentBlocks(content: unknown): Block[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  const out: Block[] = [];
  for (const p of arr(content)) {
    if (!isObject(p)) continue;
    const t = str(p.type);
    if (t === 'input_text' || t === 'output_text' || t === 'text') out.push({ type: 'text', text: str(p.text) ?? '' });
    else if (t === 'refusal') out.push({ type: 'text', text: str(p.refusal) ?? '', refusal: true });
    else if (t === 'input_image') {
      const url = str(p.image_url);
      const m = url ? /^data:([^;,]+)/.exec(url) : null;
      out.push(m ? { type: 'image', mediaType: m[1] } : { type: 'image' });
    } else out.push({ type: 'other', raw: p });
  }
  return out;
}

function reasoningBlocks(item: Raw): Block[] {
  const out: Block[] = [];
  for (const s of arr(item.summary)) if (isObject(s) && typeof s.text === 'string') out.push({ type: 'thinking', text: s.text });
  for (const c of arr(item.content)) if (isObject(c) && typeof c.text === 'string') out.push({ type: 'thinking', text: c.text });
  if (out.length === 0 && item.encrypted_content) out.push({ type: 'other', raw: { type: 'reasoning', encrypted: true } });
  return out;
}

const SERVER_CALLS = new Set(['web_search_call', 'file_search_call', 'code_interpreter_call', 'image_generation_call', 'mcp_call', 'computer_call']);

/** One Responses item (input or output) as a role and blocks. */
export function responsesItem(item: unknown): { role: Role; blocks: Block[] } | undefined {
  if (!isObject(item)) return undefined;
  const type = str(item.type) ?? (item.role !== undefined ? 'message' : '');
  switch (type) {
    case 'message': {
      const r = str(item.role);
      const role: Role = r === 'assistant' ? 'assistant' : r === 'system' || r === 'developer' ? 'system' : 'user';
      return { role, blocks: contentBlocks(item.content) };
    }
    case 'reasoning':
      return { role: 'assistant', blocks: reasoningBlocks(item) };
    case 'function_call': {
      const b: Block = { type: 'tool_call', name: str(item.name) ?? '', input: toolInputFromJson(str(item.arguments)) };
      const id = str(item.call_id) ?? str(item.id);
      if (id) b.id = id;
      return { role: 'assistant', blocks: [b] };
    }
    case 'custom_tool_call': {
      const b: Block = { type: 'tool_call', name: str(item.name) ?? '', input: str(item.input) ?? '' };
      const id = str(item.call_id) ?? str(item.id);
      if (id) b.id = id;
      return { role: 'assistant', blocks: [b] };
    }
    case 'local_shell_call':
    case 'shell_call':
    case 'apply_patch_call': {
      const b: Block = { type: 'tool_call', name: type.replace(/_call$/, ''), input: item.action ?? item.operation ?? {} };
      const id = str(item.call_id) ?? str(item.id);
      if (id) b.id = id;
      return { role: 'assistant', blocks: [b] };
    }
    case 'function_call_output':
    case 'custom_tool_call_output':
    case 'local_shell_call_output':
    case 'shell_call_output':
    case 'apply_patch_call_output':
    case 'computer_call_output': {
      const out = item.output;
      const b: Block = { type: 'tool_result', output: typeof out === 'string' ? out : Array.isArray(out) ? contentText(out) || out : out };
      const id = str(item.call_id);
      if (id) b.id = id;
      return { role: 'tool', blocks: [b] };
    }
    case 'item_reference':
      return { role: 'user', blocks: [{ type: 'other', raw: item }] };
    default: {
      if (SERVER_CALLS.has(type)) {
        const name = type === 'mcp_call' ? (str(item.name) ?? 'mcp') : type.replace(/_call$/, '');
        const input = type === 'mcp_call' ? toolInputFromJson(str(item.arguments)) : (item.action ?? (item.code !== undefined ? { code: item.code } : {}));
        const b: Block = { type: 'tool_call', name, input, server: true };
        const id = str(item.id);
        if (id) b.id = id;
        const blocks: Block[] = [b];
        if (type === 'mcp_call' && item.output !== undefined && item.output !== null) blocks.push({ type: 'tool_result', id: str(item.id), output: item.output });
        return { role: 'assistant', blocks };
      }
      return { role: 'assistant', blocks: [{ type: 'other', raw: item }] };
    }
  }
}

/** Items as turns; consecutive items of the same role share one turn. */
export function responsesTurns(items: unknown[]): Turn[] {
  const turns: Turn[] = [];
  for (const it of items) {
    const x = responsesItem(it);
    if (!x) continue;
    const last = turns[turns.length - 1];
    if (last && last.role === x.role && x.role !== 'system') last.blocks.push(...x.blocks);
    else turns.push({ role: x.role, blocks: [...x.blocks] });
  }
  return turns;
}

export function responsesTools(tools: unknown): ToolSpec[] {
  return toolSpecs(tools, (t) => ({
    name: str(t.name) ?? (t.type === 'mcp' ? str(t.server_label) : undefined) ?? str(t.type),
    description: t.description,
  }));
}

export function responsesUsage(u: unknown): Usage | undefined {
  if (!isObject(u)) return undefined;
  const usage: Usage = {};
  const input = num(u.input_tokens);
  const output = num(u.output_tokens);
  if (input !== undefined) usage.input = input;
  if (output !== undefined) usage.output = output;
  const cached = isObject(u.input_tokens_details) ? num(u.input_tokens_details.cached_tokens) : undefined;
  if (cached !== undefined) usage.cacheRead = cached;
  const reasoning = isObject(u.output_tokens_details) ? num(u.output_tokens_details.reasoning_tokens) : undefined;
  if (reasoning !== undefined) usage.reasoning = reasoning;
  return Object.keys(usage).length ? usage : undefined;
}

/** The request side of a Responses call from its JSON body (HTTP body or a `response.create` message). */
export function responsesRequest(body: Raw | undefined): { model?: string; stream: boolean; request: LlmRequest } {
  const input = body?.input;
  const items: unknown[] = typeof input === 'string' ? [{ type: 'message', role: 'user', content: input }] : arr(input);
  const systemParts: string[] = [];
  const instructions = str(body?.instructions);
  if (instructions) systemParts.push(instructions);
  let start = 0;
  while (start < items.length) {
    const it = items[start];
    if (isObject(it) && (it.role === 'system' || it.role === 'developer') && (it.type === undefined || it.type === 'message')) {
      systemParts.push(contentText(it.content));
      start++;
    } else break;
  }
  const request: LlmRequest = { turns: responsesTurns(items.slice(start)), tools: responsesTools(body?.tools) };
  if (systemParts.length) request.system = systemParts.join('\n');
  const prev = str(body?.previous_response_id);
  if (prev) request.previousResponseId = prev;
  return { model: str(body?.model), stream: body?.stream === true, request };
}

/** A final Response object as our response. */
export function responseObject(r: Raw): LlmResponse & { model?: string } {
  const turns = responsesTurns(arr(r.output)).filter((t) => t.blocks.length > 0);
  const res: LlmResponse & { model?: string } = { turns };
  const status = str(r.status);
  const incomplete = isObject(r.incomplete_details) ? str(r.incomplete_details.reason) : undefined;
  const stop = status === 'incomplete' && incomplete ? incomplete : status === 'in_progress' || status === 'queued' ? undefined : status;
  if (stop) res.stopReason = stop;
  const usage = responsesUsage(r.usage);
  if (usage) res.usage = usage;
  const model = str(r.model);
  if (model) res.model = model;
  const id = str(r.id);
  if (id) res.id = id;
  if (status === 'failed' || isObject(r.error)) {
    const err = errorMessageOf({ error: r.error });
    if (err) res.error = err;
  }
  return res;
}

function itemOf(snap: Raw, ev: Raw, create: 'message' | 'reasoning' | 'function_call' | 'custom_tool_call' | undefined): Raw | undefined {
  const output = snap.output as Raw[];
  const idx = num(ev.output_index);
  if (idx !== undefined && output[idx]) return output[idx];
  const id = str(ev.item_id);
  if (id) {
    const found = output.find((o) => o.id === id);
    if (found) return found;
  }
  // Abbreviated streams: no index or id — use the last item of the right type, or start one.
  for (let i = output.length - 1; i >= 0; i--) if (!create || output[i]!.type === create) return output[i];
  if (!create) return undefined;
  const item: Raw = create === 'message' ? { type: 'message', role: 'assistant', content: [] } : create === 'reasoning' ? { type: 'reasoning', summary: [] } : { type: create, arguments: '', input: '' };
  output.push(item);
  return item;
}

function partOf(list: Raw[], index: number | undefined, type: string, field: 'text' | 'refusal'): Raw {
  const i = index ?? Math.max(0, list.findLastIndex((p) => p.type === type));
  let p = list[i];
  if (!p) {
    p = { type, [field]: '' };
    list[i] = p;
  }
  return p;
}

/** Accumulates `response.*` events into a Response snapshot. */
export class ResponsesStreamMerger {
  snapshot: Raw | undefined;
  error: string | undefined;
  finished = false;

  private ensure(): Raw {
    this.snapshot ??= { output: [], status: 'in_progress' };
    if (!Array.isArray(this.snapshot.output)) this.snapshot.output = [];
    return this.snapshot;
  }

  push(ev: unknown): void {
    if (!isObject(ev)) return;
    const type = str(ev.type) ?? '';
    switch (type) {
      case 'response.created':
      case 'response.queued':
      case 'response.in_progress':
      case 'response.completed':
      case 'response.failed':
      case 'response.incomplete': {
        const r = isObject(ev.response) ? ev.response : {};
        const prevOutput = this.snapshot ? (this.snapshot.output as Raw[]) : [];
        this.snapshot = { ...r };
        // Abbreviated lifecycle events may omit output: keep what the deltas built.
        if (!Array.isArray(this.snapshot.output) || (this.snapshot.output.length === 0 && prevOutput.length > 0)) this.snapshot.output = prevOutput;
        if (type === 'response.completed' && this.snapshot.status === undefined) this.snapshot.status = 'completed';
        if (type === 'response.completed' || type === 'response.failed' || type === 'response.incomplete') this.finished = true;
        if (type === 'response.failed') this.error = errorMessageOf({ error: r.error }) ?? 'response failed';
        return;
      }
      case 'error':
        this.error = errorMessageOf(isObject(ev.error) ? ev : { error: ev }) ?? 'stream error';
        return;
      default:
        break;
    }
    const snap = this.ensure();
    const output = snap.output as Raw[];
    switch (type) {
      case 'response.output_item.added':
      case 'response.output_item.done': {
        if (!isObject(ev.item)) return;
        const idx = num(ev.output_index);
        const item = { ...ev.item };
        if (type === 'response.output_item.added') {
          if (idx !== undefined) output[idx] = item;
          else output.push(item);
        } else if (idx !== undefined) output[idx] = item;
        else {
          const at = output.findIndex((o) => o.id !== undefined && o.id === item.id);
          if (at >= 0) output[at] = item;
          else output.push(item);
        }
        return;
      }
      case 'response.content_part.added':
      case 'response.content_part.done': {
        const item = itemOf(snap, ev, undefined);
        if (!item || !isObject(ev.part)) return;
        const key = item.type === 'reasoning' && ev.part.type !== 'reasoning_text' ? undefined : 'content';
        if (!key) return;
        const list = (item.content ??= []) as Raw[];
        const ci = num(ev.content_index) ?? list.length;
        if (type === 'response.content_part.added' && list[ci]) return;
        list[ci] = { ...ev.part };
        return;
      }
      case 'response.output_text.delta':
      case 'response.output_text.done':
      case 'response.refusal.delta':
      case 'response.refusal.done': {
        const item = itemOf(snap, ev, 'message');
        if (!item || item.type !== 'message') return;
        const isRefusal = type.startsWith('response.refusal');
        const list = (item.content ??= []) as Raw[];
        const part = partOf(list, num(ev.content_index), isRefusal ? 'refusal' : 'output_text', isRefusal ? 'refusal' : 'text');
        const field = isRefusal ? 'refusal' : 'text';
        if (type.endsWith('.delta')) part[field] = (str(part[field]) ?? '') + (str(ev.delta) ?? '');
        else if (typeof ev[field] === 'string') part[field] = ev[field];
        return;
      }
      case 'response.function_call_arguments.delta':
      case 'response.function_call_arguments.done': {
        const item = itemOf(snap, ev, 'function_call');
        if (!item || item.type !== 'function_call') return;
        if (type.endsWith('.delta')) item.arguments = (str(item.arguments) ?? '') + (str(ev.delta) ?? '');
        else if (typeof ev.arguments === 'string') item.arguments = ev.arguments;
        // Abbreviated streams carry the call's name and id only here.
        if (!item.name && typeof ev.name === 'string') item.name = ev.name;
        if (!item.call_id && typeof ev.call_id === 'string') item.call_id = ev.call_id;
        return;
      }
      case 'response.custom_tool_call_input.delta':
      case 'response.custom_tool_call_input.done': {
        const item = itemOf(snap, ev, 'custom_tool_call');
        if (!item || item.type !== 'custom_tool_call') return;
        if (type.endsWith('.delta')) item.input = (str(item.input) ?? '') + (str(ev.delta) ?? '');
        else if (typeof ev.input === 'string') item.input = ev.input;
        return;
      }
      case 'response.mcp_call_arguments.delta':
      case 'response.mcp_call_arguments.done': {
        const item = itemOf(snap, ev, undefined);
        if (!item || item.type !== 'mcp_call') return;
        if (type.endsWith('.delta')) item.arguments = (str(item.arguments) ?? '') + (str(ev.delta) ?? '');
        else if (typeof ev.arguments === 'string') item.arguments = ev.arguments;
        return;
      }
      case 'response.reasoning_text.delta':
      case 'response.reasoning_text.done': {
        const item = itemOf(snap, ev, 'reasoning');
        if (!item || item.type !== 'reasoning') return;
        const list = (item.content ??= []) as Raw[];
        const part = partOf(list, num(ev.content_index), 'reasoning_text', 'text');
        if (type.endsWith('.delta')) part.text = (str(part.text) ?? '') + (str(ev.delta) ?? '');
        else if (typeof ev.text === 'string') part.text = ev.text;
        return;
      }
      case 'response.reasoning_summary_part.added':
      case 'response.reasoning_summary_part.done': {
        const item = itemOf(snap, ev, 'reasoning');
        if (!item || item.type !== 'reasoning' || !isObject(ev.part)) return;
        const list = (item.summary ??= []) as Raw[];
        const si = num(ev.summary_index) ?? list.length;
        if (type.endsWith('.added') && list[si]) return;
        list[si] = { ...ev.part };
        return;
      }
      case 'response.reasoning_summary_text.delta':
      case 'response.reasoning_summary_text.done': {
        const item = itemOf(snap, ev, 'reasoning');
        if (!item || item.type !== 'reasoning') return;
        const list = (item.summary ??= []) as Raw[];
        const part = partOf(list, num(ev.summary_index), 'summary_text', 'text');
        if (type.endsWith('.delta')) part.text = (str(part.text) ?? '') + (str(ev.delta) ?? '');
        else if (typeof ev.text === 'string') part.text = ev.text;
        return;
      }
      case 'response.code_interpreter_call_code.delta':
      case 'response.code_interpreter_call_code.done': {
        const item = itemOf(snap, ev, undefined);
        if (!item || item.type !== 'code_interpreter_call') return;
        if (type.endsWith('.delta')) item.code = (str(item.code) ?? '') + (str(ev.delta) ?? '');
        else if (typeof ev.code === 'string') item.code = ev.code;
        return;
      }
      default:
        return;
    }
  }

  result(): LlmResponse & { model?: string } {
    if (!this.snapshot) {
      const r: LlmResponse = { turns: [] };
      r.error = this.error ?? 'stream ended before response.created';
      return r;
    }
    const res = responseObject({ ...this.snapshot, output: (this.snapshot.output as Raw[]).filter(Boolean) });
    if (this.error) res.error = this.error;
    else if (!this.finished) res.error = 'stream ended before response.completed (truncated)';
    return res;
  }
}

export function mergeResponsesSse(text: string): LlmResponse & { model?: string } {
  const events = parseSse(text).events;
  // The SDK replaces its snapshot with response.completed's response: when that event closes the
  // stream with the full output, it alone is the merged result (the deltas need not be replayed).
  const last = events[events.length - 1];
  if (last && (last.event === 'response.completed' || last.data.includes('"type":"response.completed"'))) {
    try {
      const done = JSON.parse(last.data) as Raw;
      if (done.type === 'response.completed' && isObject(done.response) && Array.isArray(done.response.output) && done.response.output.length > 0) {
        return responseObject(done.response);
      }
    } catch {
      /* replay the events below */
    }
  }
  const merger = new ResponsesStreamMerger();
  for (const ev of events) {
    if (ev.data === '' || ev.data === '[DONE]') continue;
    let data: unknown;
    try {
      data = JSON.parse(ev.data);
    } catch {
      merger.error ??= `malformed event data (${ev.event})`;
      continue;
    }
    if (isObject(data) && data.type === undefined && ev.event !== 'message') data.type = ev.event;
    merger.push(data);
  }
  return merger.result();
}

/** One request/response pair carried over a WebSocket (`response.create` up, `response.*` down). */
export interface WsTurn {
  request: ReturnType<typeof responsesRequest>;
  response: LlmResponse & { model?: string };
}

export function responsesWsTurns(messages: WsMessage[] | undefined): WsTurn[] {
  const turns: WsTurn[] = [];
  let merger: ResponsesStreamMerger | undefined;
  let current: WsTurn['request'] | undefined;
  const flush = () => {
    if (current) turns.push({ request: current, response: merger ? merger.result() : { turns: [], error: 'no response events' } });
    current = undefined;
    merger = undefined;
  };
  for (const m of messages ?? []) {
    if (m.type !== 'text' || m.text === undefined) continue;
    let data: unknown;
    try {
      data = JSON.parse(m.text);
    } catch {
      continue;
    }
    if (!isObject(data)) continue;
    if (m.from === 'client') {
      if (data.type === 'response.create') {
        flush();
        const body = isObject(data.response) ? data.response : data;
        current = responsesRequest(body);
        current.stream = true;
      }
      continue;
    }
    if (!current) current = { stream: true, request: { turns: [], tools: [] } };
    merger ??= new ResponsesStreamMerger();
    merger.push(data);
    if (merger.finished) flush();
  }
  flush();
  return turns;
}

function parseRequest(record: CaptureRecord): { model?: string; stream: boolean; request: LlmRequest } {
  if (record.kind === 'websocket') {
    const turns = responsesWsTurns(record.ws);
    const first = turns[0]?.request;
    if (!first) return { stream: true, request: { turns: [], tools: [] } };
    // The whole socket as one conversation: every request's new items, with the answers between them.
    const conv: Turn[] = [];
    turns.forEach((t, i) => {
      conv.push(...t.request.request.turns);
      if (i < turns.length - 1) conv.push(...t.response.turns);
    });
    const request: LlmRequest = { turns: conv, tools: first.request.tools };
    if (first.request.system !== undefined) request.system = first.request.system;
    return { model: turns[turns.length - 1]!.request.model ?? first.model, stream: true, request };
  }
  return responsesRequest(requestJson(record));
}

function sumUsage(a: Usage | undefined, b: Usage | undefined): Usage | undefined {
  if (!a) return b ? { ...b } : undefined;
  if (!b) return a;
  const out: Usage = { ...a };
  for (const k of ['input', 'output', 'cacheRead', 'cacheWrite', 'reasoning'] as const) {
    if (b[k] !== undefined) out[k] = (out[k] ?? 0) + b[k]!;
  }
  return out;
}

function parseResponse(record: CaptureRecord): LlmResponse & { model?: string } {
  if (record.kind === 'websocket') {
    const turns = responsesWsTurns(record.ws);
    const last = turns[turns.length - 1];
    if (!last) return { turns: [], error: 'no response.create on this socket' };
    const res: LlmResponse & { model?: string } = { ...last.response, turns: last.response.turns };
    let usage: Usage | undefined;
    for (const t of turns) usage = sumUsage(usage, t.response.usage);
    if (usage) res.usage = usage;
    const firstError = turns.find((t) => t.response.error)?.response.error;
    if (firstError && !res.error) res.error = firstError;
    return res;
  }
  const resp = record.response;
  if (!resp) return { turns: [], error: record.error?.message ?? 'no response' };
  const text = bodyText(resp.body);
  const json = responseJson(record);
  let res: LlmResponse & { model?: string };
  if (isObject(json) && (json.object === 'response' || Array.isArray(json.output)) && resp.status < 400) res = responseObject(json);
  else if (resp.status < 400 && looksLikeSse(text)) res = mergeResponsesSse(text);
  else {
    res = unreadableResponse(json, text, resp.status);
  }
  return withCaptureError(record, res);
}

export const openaiResponses: ApiFamily = { api: 'openai.responses', parseRequest, parseResponse };
