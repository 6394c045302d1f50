// Amazon Bedrock Converse API (POST /model/{id}/converse and /converse-stream): one message format
// for every Bedrock model. The stream is AWS event-stream with one event type per message
// (messageStart, contentBlockStart/Delta/Stop, messageStop, metadata).
import type { CaptureRecord } from '../capture/record.js';
import { decodeBedrockStream, isEventStream } from './bedrock-stream.js';
import { modelFromPath } from './anthropic-messages.js';
import { arr, errorMessageOf, isObject, num, requestJson, requestPath, responseJson, str } from './record-json.js';
import { toolInputFromJson } from './tool-input.js';
import type { ApiFamily, Block, LlmRequest, LlmResponse, ToolSpec, Turn, Usage } from './types.js';

type Raw = Record<string, unknown>;

function converseBlock(c: unknown): Block {
  if (!isObject(c)) return { type: 'other', raw: c };
  if (typeof c.text === 'string') return { type: 'text', text: c.text };
  if (isObject(c.image)) return { type: 'image', mediaType: str(c.image.format) ? `image/${str(c.image.format)}` : undefined };
  if (isObject(c.toolUse)) {
    const b: Block = { type: 'tool_call', name: str(c.toolUse.name) ?? '', input: c.toolUse.input ?? {} };
    const id = str(c.toolUse.toolUseId);
    if (id) b.id = id;
    return b;
  }
  if (isObject(c.toolResult)) {
    const parts = arr(c.toolResult.content);
    const output = parts.every((p) => isObject(p) && typeof p.text === 'string') ? parts.map((p) => (p as Raw).text).join('\n') : parts.length === 1 && isObject(parts[0]) && 'json' in parts[0] ? parts[0].json : parts;
    const b: Block = { type: 'tool_result', output };
    const id = str(c.toolResult.toolUseId);
    if (id) b.id = id;
    if (c.toolResult.status === 'error') b.isError = true;
    return b;
  }
  if (isObject(c.reasoningContent)) {
    const rt = isObject(c.reasoningContent.reasoningText) ? c.reasoningContent.reasoningText : undefined;
    return rt && typeof rt.text === 'string' ? { type: 'thinking', text: rt.text } : { type: 'other', raw: { type: 'redacted_reasoning' } };
  }
  return { type: 'other', raw: c };
}

function converseUsage(u: unknown): Usage | undefined {
  if (!isObject(u)) return undefined;
  const usage: Usage = {};
  const pairs: [keyof Usage, string][] = [['input', 'inputTokens'], ['output', 'outputTokens'], ['cacheRead', 'cacheReadInputTokens'], ['cacheWrite', 'cacheWriteInputTokens']];
  for (const [k, f] of pairs) {
    const v = num(u[f]);
    if (v !== undefined) usage[k] = v;
  }
  return Object.keys(usage).length ? usage : undefined;
}

function parseRequest(record: CaptureRecord): { model?: string; stream: boolean; request: LlmRequest } {
  const body = requestJson(record);
  const path = requestPath(record);
  const turns: Turn[] = arr(body?.messages)
    .filter(isObject)
    .map((m) => ({ role: m.role === 'assistant' ? 'assistant' : 'user', blocks: arr(m.content).map(converseBlock) }));
  const tools: ToolSpec[] = [];
  for (const t of arr(isObject(body?.toolConfig) ? body.toolConfig.tools : undefined)) {
    if (!isObject(t) || !isObject(t.toolSpec) || typeof t.toolSpec.name !== 'string') continue;
    const spec: ToolSpec = { name: t.toolSpec.name };
    const d = str(t.toolSpec.description);
    if (d) spec.description = d;
    tools.push(spec);
  }
  const request: LlmRequest = { turns, tools };
  const system = arr(body?.system)
    .map((s) => (isObject(s) ? str(s.text) : undefined))
    .filter((s): s is string => s !== undefined);
  if (system.length) request.system = system.join('\n');
  return { model: modelFromPath(path), stream: /\/converse-stream$/.test(path), request };
}

function parseResponse(record: CaptureRecord): LlmResponse & { model?: string } {
  const resp = record.response;
  if (!resp) return { turns: [], error: record.error?.message ?? 'no response' };
  if (isEventStream(record)) {
    const decoded = decodeBedrockStream(record);
    const blocks: Raw[] = [];
    const jsonBufs = new Map<number, string>();
    let stopReason: string | undefined;
    let usage: Usage | undefined;
    let stopped = false;
    for (const ev of decoded.events) {
      if (!isObject(ev) || !isObject(ev.payload)) continue;
      const p = ev.payload;
      const idx = num(p.contentBlockIndex) ?? 0;
      switch (ev.eventType) {
        case 'contentBlockStart': {
          const start = isObject(p.start) ? p.start : {};
          if (isObject(start.toolUse)) blocks[idx] = { toolUse: { ...start.toolUse, input: {} } };
          break;
        }
        case 'contentBlockDelta': {
          const d = isObject(p.delta) ? p.delta : {};
          if (typeof d.text === 'string') {
            const b = (blocks[idx] ??= { text: '' });
            b.text = (str(b.text) ?? '') + d.text;
          } else if (isObject(d.toolUse)) {
            jsonBufs.set(idx, (jsonBufs.get(idx) ?? '') + (str(d.toolUse.input) ?? ''));
          } else if (isObject(d.reasoningContent) && typeof d.reasoningContent.text === 'string') {
            const b = (blocks[idx] ??= { reasoningContent: { reasoningText: { text: '' } } });
            const rt = (b.reasoningContent as Raw).reasoningText as Raw;
            rt.text = (str(rt.text) ?? '') + d.reasoningContent.text;
          }
          break;
        }
        case 'messageStop':
          stopReason = str(p.stopReason);
          stopped = true;
          break;
        case 'metadata':
          usage = converseUsage(p.usage);
          break;
        default:
          break;
      }
    }
    for (const [idx, buf] of jsonBufs) {
      const b = blocks[idx];
      if (b && isObject(b.toolUse)) b.toolUse.input = toolInputFromJson(buf);
    }
    const content = blocks.filter(Boolean).map(converseBlock);
    const res: LlmResponse = { turns: content.length ? [{ role: 'assistant', blocks: content }] : [] };
    if (stopReason) res.stopReason = stopReason;
    if (usage) res.usage = usage;
    if (decoded.error) res.error = decoded.error;
    else if (!stopped) res.error = 'stream ended before messageStop (truncated)';
    return res;
  }
  const json = responseJson(record);
  if (isObject(json) && isObject(json.output) && resp.status < 400) {
    const msg = isObject(json.output.message) ? json.output.message : {};
    const content = arr(msg.content).map(converseBlock);
    const res: LlmResponse = { turns: content.length ? [{ role: 'assistant', blocks: content }] : [] };
    const stop = str(json.stopReason);
    if (stop) res.stopReason = stop;
    const usage = converseUsage(json.usage);
    if (usage) res.usage = usage;
    return res;
  }
  const res: LlmResponse = { turns: [] };
  res.error = errorMessageOf(json, resp.status) ?? (isObject(json) && typeof json.message === 'string' ? json.message : `HTTP ${resp.status}`);
  return res;
}

export const bedrockConverse: ApiFamily = { api: 'bedrock.converse', parseRequest, parseResponse };
