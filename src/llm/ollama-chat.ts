// Ollama's native API (POST /api/chat and /api/generate): JSON Lines streams (one object per
// line, `done: true` last, which carries prompt_eval_count / eval_count). Streaming is the default.
import { bodyText, type CaptureRecord } from '../capture/record.js';
import { requestPath } from './record-json.js';
import { chatRequestParts, chatTools } from './openai-chat.js';
import { arr, errorMessageOf, isObject, num, requestJson, str } from './record-json.js';
import type { ApiFamily, Block, LlmRequest, LlmResponse, Usage } from './types.js';

function parseRequest(record: CaptureRecord): { model?: string; stream: boolean; request: LlmRequest } {
  const body = requestJson(record);
  const generate = requestPath(record).endsWith('/generate');
  let request: LlmRequest;
  if (generate) {
    const prompt = str(body?.prompt);
    request = { turns: prompt !== undefined ? [{ role: 'user', blocks: [{ type: 'text', text: prompt }] }] : [], tools: [] };
    const system = str(body?.system);
    if (system) request.system = system;
  } else {
    const parts = chatRequestParts(body?.messages);
    request = { turns: parts.turns, tools: chatTools(body?.tools) };
    if (parts.system !== undefined) request.system = parts.system;
  }
  return { model: str(body?.model), stream: body?.stream !== false, request };
}

function parseResponse(record: CaptureRecord): LlmResponse & { model?: string } {
  const resp = record.response;
  if (!resp) return { turns: [], error: record.error?.message ?? 'no response' };
  const text = bodyText(resp.body);
  if (resp.status >= 400) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { turns: [], error: errorMessageOf(json, resp.status) ?? `HTTP ${resp.status}` };
  }
  let content = '';
  let thinking = '';
  const calls: Block[] = [];
  let done = false;
  let stopReason: string | undefined;
  let usage: Usage | undefined;
  let model: string | undefined;
  let error: string | undefined;
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch {
      error ??= 'stream ended inside a line (truncated)';
      continue;
    }
    if (!isObject(o)) continue;
    if (typeof o.error === 'string') error = o.error;
    model ??= str(o.model);
    const msg = isObject(o.message) ? o.message : undefined;
    content += str(msg?.content) ?? str(o.response) ?? '';
    thinking += str(msg?.thinking) ?? str(o.thinking) ?? '';
    for (const tc of arr(msg?.tool_calls)) {
      if (!isObject(tc) || !isObject(tc.function)) continue;
      calls.push({ type: 'tool_call', name: str(tc.function.name) ?? '', input: tc.function.arguments ?? {} });
    }
    if (o.done === true) {
      done = true;
      stopReason = str(o.done_reason) ?? 'stop';
      const u: Usage = {};
      const i = num(o.prompt_eval_count);
      const out = num(o.eval_count);
      if (i !== undefined) u.input = i;
      if (out !== undefined) u.output = out;
      if (Object.keys(u).length) usage = u;
    }
  }
  const blocks: Block[] = [];
  if (thinking) blocks.push({ type: 'thinking', text: thinking });
  if (content) blocks.push({ type: 'text', text: content });
  blocks.push(...calls);
  const res: LlmResponse & { model?: string } = { turns: blocks.length ? [{ role: 'assistant', blocks }] : [] };
  if (stopReason) res.stopReason = stopReason;
  if (usage) res.usage = usage;
  if (model) res.model = model;
  if (error) res.error = error;
  else if (!done) res.error = 'stream ended before done:true (truncated)';
  return res;
}

export const ollamaChat: ApiFamily = { api: 'ollama.chat', parseRequest, parseResponse };
