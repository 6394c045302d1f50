// Google Gemini: generateContent and streamGenerateContent (SSE with `?alt=sse`, or a JSON array
// streamed element by element), countTokens, on the Gemini API, Vertex AI and the Code Assist
// `v1internal` envelope ({model, project, request:{…}} up, {response:{…}} down) that Gemini CLI
// uses. Chunks are merged as the SDK's chat history does: text parts appended, thought parts kept
// apart, function calls as they come; the last chunk's usageMetadata and finishReason win.
import { bodyText, type CaptureRecord } from '../capture/record.js';
import { parseSse } from '../protocols/sse.js';
import { arr, errorMessageOf, isObject, num, parseMaybeJson, requestJson, requestPath, requestQuery, responseJson, str } from './record-json.js';
import type { ApiFamily, Block, LlmRequest, LlmResponse, Role, ToolSpec, Turn, Usage } from './types.js';
import { withCaptureError } from './response-errors.js';

type Raw = Record<string, unknown>;

function partsText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  const parts = isObject(v) ? arr(v.parts) : arr(v);
  const texts = parts.map((p) => (isObject(p) ? str(p.text) : typeof p === 'string' ? p : undefined)).filter((t): t is string => t !== undefined);
  return texts.length ? texts.join('\n') : undefined;
}

export function geminiPart(p: unknown): Block {
  if (!isObject(p)) return { type: 'other', raw: p };
  if (typeof p.text === 'string') return p.thought === true ? { type: 'thinking', text: p.text } : { type: 'text', text: p.text };
  if (isObject(p.functionCall)) {
    const fc = p.functionCall;
    const input = fc.args ?? (Array.isArray(fc.partialArgs) ? applyPartialArgs({}, fc.partialArgs) : {});
    const b: Block = { type: 'tool_call', name: str(fc.name) ?? '', input };
    const id = str(p.functionCall.id);
    if (id) b.id = id;
    return b;
  }
  if (isObject(p.functionResponse)) {
    const b: Block = { type: 'tool_result', output: p.functionResponse.response };
    const id = str(p.functionResponse.id) ?? str(p.functionResponse.name);
    if (id) b.id = id;
    return b;
  }
  if (isObject(p.inlineData)) return { type: 'image', mediaType: str(p.inlineData.mimeType) };
  if (isObject(p.executableCode)) return { type: 'tool_call', name: 'code_execution', input: p.executableCode, server: true };
  if (isObject(p.codeExecutionResult)) return { type: 'tool_result', output: p.codeExecutionResult };
  return { type: 'other', raw: p };
}

/**
 * Vertex streams function-call arguments as `partialArgs` ({jsonPath: "$.a.b", numberValue |
 * stringValue | boolValue | nullValue}); a string may arrive in pieces across chunks.
 */
export function applyPartialArgs(target: Record<string, unknown>, partial: unknown[]): Record<string, unknown> {
  for (const pa of partial) {
    if (!isObject(pa) || typeof pa.jsonPath !== 'string') continue;
    const keys = pa.jsonPath.replace(/^\$\.?/, '').split('.').filter((k) => k !== '');
    if (keys.length === 0) continue;
    let obj = target;
    for (const k of keys.slice(0, -1)) {
      if (!isObject(obj[k])) obj[k] = {};
      obj = obj[k] as Record<string, unknown>;
    }
    const last = keys[keys.length - 1]!;
    if (typeof pa.stringValue === 'string') obj[last] = (typeof obj[last] === 'string' ? (obj[last] as string) : '') + pa.stringValue;
    else if ('numberValue' in pa) obj[last] = pa.numberValue;
    else if ('boolValue' in pa) obj[last] = pa.boolValue;
    else if ('nullValue' in pa) obj[last] = null;
  }
  return target;
}

function roleOf(r: unknown, parts: unknown[]): Role {
  if (r === 'model') return 'assistant';
  if (r === 'function' || r === 'tool') return 'tool';
  if (r === 'system') return 'system';
  if (parts.length > 0 && parts.every((p) => isObject(p) && isObject(p.functionResponse))) return 'tool';
  return 'user';
}

export function geminiTurns(contents: unknown): Turn[] {
  const turns: Turn[] = [];
  const list = isObject(contents) ? [contents] : typeof contents === 'string' ? [{ role: 'user', parts: [{ text: contents }] }] : arr(contents);
  for (const c of list) {
    if (!isObject(c)) continue;
    const parts = arr(c.parts);
    turns.push({ role: roleOf(c.role, parts), blocks: parts.map(geminiPart) });
  }
  return turns;
}

export function geminiTools(tools: unknown): ToolSpec[] {
  const out: ToolSpec[] = [];
  for (const t of arr(tools)) {
    if (!isObject(t)) continue;
    const decls = [...arr(t.functionDeclarations), ...arr(t.function_declarations)];
    for (const d of decls) {
      if (!isObject(d) || typeof d.name !== 'string') continue;
      const spec: ToolSpec = { name: d.name };
      const desc = str(d.description);
      if (desc) spec.description = desc;
      out.push(spec);
    }
    for (const k of Object.keys(t)) if (k !== 'functionDeclarations' && k !== 'function_declarations') out.push({ name: k });
  }
  return out;
}

export function geminiUsage(u: unknown): Usage | undefined {
  if (!isObject(u)) return undefined;
  const usage: Usage = {};
  const input = num(u.promptTokenCount);
  const output = num(u.candidatesTokenCount);
  const cached = num(u.cachedContentTokenCount);
  const thoughts = num(u.thoughtsTokenCount);
  if (input !== undefined) usage.input = input;
  if (output !== undefined) usage.output = output;
  else if (input !== undefined && num(u.totalTokenCount) !== undefined) usage.output = 0;
  if (cached !== undefined) usage.cacheRead = cached;
  if (thoughts !== undefined) usage.reasoning = thoughts;
  return Object.keys(usage).length ? usage : undefined;
}

/** Model from `…/models/{model}:method` (Gemini API, Vertex), else undefined. */
export function geminiModelFromPath(path: string): string | undefined {
  const m = /\/models\/([^/:]+):/.exec(path);
  return m ? decodeURIComponent(m[1]!) : undefined;
}

/** The inner request: Code Assist wraps it as {model, project, request:{…}}. */
function innerRequest(body: Raw | undefined): { inner: Raw | undefined; model?: string } {
  if (body && isObject(body.request) && !Array.isArray(body.contents)) return { inner: body.request, model: str(body.model) };
  return { inner: body, model: str(body?.model) };
}

function parseRequest(record: CaptureRecord): { model?: string; stream: boolean; request: LlmRequest } {
  const { inner, model: bodyModel } = innerRequest(requestJson(record));
  const path = requestPath(record);
  const sys = inner?.systemInstruction ?? inner?.system_instruction;
  const request: LlmRequest = { turns: geminiTurns(inner?.contents), tools: geminiTools(inner?.tools) };
  const system = partsText(sys);
  if (system !== undefined) request.system = system;
  const model = (geminiModelFromPath(path) ?? bodyModel)?.replace(/^models\//, '');
  return { model, stream: /:streamGenerateContent/.test(path), request };
}

/** Accumulates GenerateContentResponse chunks. */
export class GeminiStreamMerger {
  private blocks: Block[] = [];
  stopReason: string | undefined;
  usage: Usage | undefined;
  model: string | undefined;
  id: string | undefined;
  error: string | undefined;
  blocked: string | undefined;
  chunks = 0;
  private continuing = false;

  push(chunk: unknown): void {
    if (!isObject(chunk)) return;
    if (isObject(chunk.response) && !('candidates' in chunk)) chunk = chunk.response; // Code Assist envelope
    const c = chunk as Raw;
    if (isObject(c.error)) {
      this.error = errorMessageOf(c) ?? 'stream error';
      return;
    }
    this.chunks++;
    const cand = arr(c.candidates)[0];
    if (isObject(cand)) {
      const content = isObject(cand.content) ? cand.content : {};
      for (const p of arr(content.parts)) {
        const last = this.blocks[this.blocks.length - 1];
        // A function call whose arguments keep streaming (willContinue) grows in place.
        if (isObject(p) && isObject(p.functionCall) && last?.type === 'tool_call' && this.continuing && (!p.functionCall.name || p.functionCall.name === last.name)) {
          if (Array.isArray(p.functionCall.partialArgs) && isObject(last.input)) applyPartialArgs(last.input as Record<string, unknown>, p.functionCall.partialArgs);
          this.continuing = p.functionCall.willContinue === true;
          continue;
        }
        const b = geminiPart(p);
        this.continuing = isObject(p) && isObject(p.functionCall) && p.functionCall.willContinue === true;
        if (b.type === 'text' && last?.type === 'text') last.text += b.text;
        else if (b.type === 'thinking' && last?.type === 'thinking') last.text += b.text;
        else this.blocks.push(b);
      }
      if (typeof cand.finishReason === 'string') this.stopReason = cand.finishReason;
    }
    const u = geminiUsage(c.usageMetadata);
    if (u) this.usage = u;
    if (typeof c.modelVersion === 'string') this.model = c.modelVersion;
    if (typeof c.responseId === 'string') this.id = c.responseId;
    const pf = isObject(c.promptFeedback) ? str(c.promptFeedback.blockReason) : undefined;
    if (pf) this.blocked = pf;
  }

  result(): LlmResponse & { model?: string } {
    const res: LlmResponse & { model?: string } = { turns: this.blocks.length ? [{ role: 'assistant', blocks: this.blocks }] : [] };
    if (this.stopReason) res.stopReason = this.stopReason;
    else if (this.blocked) res.stopReason = this.blocked;
    if (this.usage) res.usage = this.usage;
    if (this.model) res.model = this.model;
    if (this.id) res.id = this.id;
    if (this.error) res.error = this.error;
    return res;
  }
}

/** Splits a streamed JSON array (`[{…},\r\n{…}` possibly cut) into its complete elements. */
export function splitJsonArrayStream(text: string): { items: unknown[]; complete: boolean } {
  const items: unknown[] = [];
  let depth = 0;
  let inString = false;
  let start = -1;
  let sawOpen = false;
  let closed = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      if (c === 91 && depth === 0 && !sawOpen) {
        sawOpen = true;
        continue;
      }
      if (depth === 0) start = i;
      depth++;
    } else if (c === 125 || c === 93) {
      if (depth === 0 && c === 93) {
        closed = true;
        break;
      }
      depth--;
      if (depth === 0 && start >= 0) {
        try {
          items.push(JSON.parse(text.slice(start, i + 1)));
        } catch {
          /* a broken element: skip it */
        }
        start = -1;
      }
    }
  }
  return { items, complete: closed };
}

function parseResponse(record: CaptureRecord): LlmResponse & { model?: string } {
  const resp = record.response;
  if (!resp) return { turns: [], error: record.error?.message ?? 'no response' };
  const text = bodyText(resp.body);
  const merger = new GeminiStreamMerger();
  let truncated = false;
  if (resp.status >= 400) {
    const res: LlmResponse = { turns: [] };
    res.error = errorMessageOf(responseJson(record) ?? parseMaybeJson(text), resp.status) ?? `HTTP ${resp.status}`;
    return res;
  }
  if (requestQuery(record).get('alt') === 'sse' || /^\s*data:/.test(text)) {
    const parsed = parseSse(text);
    for (const ev of parsed.events) {
      try {
        merger.push(JSON.parse(ev.data));
      } catch {
        merger.error ??= 'malformed chunk in stream';
      }
    }
    truncated = parsed.incomplete;
  } else {
    const json = responseJson(record);
    if (Array.isArray(json)) for (const c of json) merger.push(c);
    else if (isObject(json)) merger.push(json);
    else {
      const split = splitJsonArrayStream(text);
      for (const c of split.items) merger.push(c);
      truncated = !split.complete;
    }
  }
  const res = merger.result();
  if (!res.error && (truncated || resp.body?.truncated)) res.error = 'stream ended early (truncated)';
  else if (!res.error && merger.chunks > 0 && !res.stopReason && /:streamGenerateContent/.test(requestPath(record))) res.error = 'stream ended before a finishReason (truncated)';
  return withCaptureError(record, res);
}

export const geminiGenerate: ApiFamily = { api: 'gemini.generate', parseRequest, parseResponse };

export const geminiCountTokens: ApiFamily = {
  api: 'gemini.count_tokens',
  parseRequest(record) {
    const body = requestJson(record);
    // countTokens may wrap a full request as {generateContentRequest:{…}}.
    const gen = isObject(body?.generateContentRequest) ? body.generateContentRequest : isObject(body?.request) ? body.request : body;
    const path = requestPath(record);
    const request: LlmRequest = { turns: geminiTurns(gen?.contents), tools: geminiTools(gen?.tools) };
    const system = partsText(gen?.systemInstruction);
    if (system !== undefined) request.system = system;
    return { model: (geminiModelFromPath(path) ?? str(gen?.model) ?? str(body?.model))?.replace(/^models\//, ''), stream: false, request };
  },
  parseResponse(record) {
    const json = responseJson(record);
    const status = record.response?.status ?? 0;
    if (isObject(json) && status < 400) {
      const total = num(json.totalTokens);
      const usage: Usage = {};
      if (total !== undefined) usage.input = total;
      const cached = num(json.cachedContentTokenCount);
      if (cached !== undefined) usage.cacheRead = cached;
      return { turns: [], usage };
    }
    const res: LlmResponse = { turns: [] };
    res.error = errorMessageOf(json, status) ?? record.error?.message ?? 'no response';
    return res;
  },
};
