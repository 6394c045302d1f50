// Legacy text completions (POST …/v1/completions, Copilot's /v1/engines/{engine}/completions,
// Mistral's /v1/fim/completions): a prompt (plus an optional suffix) in, text out — inline code
// completion traffic. Streams are SSE chunks carrying choices[].text, ended by [DONE].
import { bodyText, type CaptureRecord } from '../capture/record.js';
import { forEachSseEvent, looksLikeSse } from '../protocols/sse.js';
import { chatUsage } from './openai-chat.js';
import { arr, errorMessageOf, isObject, num, parseMaybeJson, requestJson, requestPath, responseJson, str } from './record-json.js';
import type { ApiFamily, Block, LlmRequest, LlmResponse } from './types.js';

function parseRequest(record: CaptureRecord): { model?: string; stream: boolean; request: LlmRequest } {
  const body = requestJson(record);
  const prompts = typeof body?.prompt === 'string' ? [body.prompt] : arr(body?.prompt).filter((p): p is string => typeof p === 'string');
  const blocks: Block[] = prompts.map((p) => ({ type: 'text', text: p }));
  const suffix = str(body?.suffix);
  if (suffix) blocks.push({ type: 'other', raw: { type: 'suffix', text: suffix } });
  const engine = /\/engines\/([^/]+)\/completions$/.exec(requestPath(record));
  return { model: str(body?.model) ?? (engine ? decodeURIComponent(engine[1]!) : undefined), stream: body?.stream === true, request: { turns: blocks.length ? [{ role: 'user', blocks }] : [], tools: [] } };
}

function parseResponse(record: CaptureRecord): LlmResponse & { model?: string } {
  const resp = record.response;
  if (!resp) return { turns: [], error: record.error?.message ?? 'no response' };
  const text = bodyText(resp.body);
  const byIndex = new Map<number, string>();
  let stopReason: string | undefined;
  let usage: unknown;
  let model: string | undefined;
  let error: string | undefined;
  const take = (o: unknown) => {
    if (!isObject(o)) return;
    if (isObject(o.error)) error = errorMessageOf(o);
    model ??= str(o.model);
    if (o.usage) usage = o.usage;
    for (const c of arr(o.choices)) {
      if (!isObject(c)) continue;
      const i = num(c.index) ?? 0;
      byIndex.set(i, (byIndex.get(i) ?? '') + (str(c.text) ?? ''));
      if (typeof c.finish_reason === 'string') stopReason ??= c.finish_reason;
    }
  };
  let done = true;
  const json = responseJson(record);
  if (resp.status >= 400) error = errorMessageOf(json ?? parseMaybeJson(text), resp.status);
  else if (json !== undefined) take(json);
  else if (looksLikeSse(text)) {
    done = false;
    forEachSseEvent(text, (_e, data) => {
      if (data === '[DONE]') done = true;
      else {
        try {
          take(JSON.parse(data));
        } catch {
          error ??= 'malformed chunk in stream';
        }
      }
    });
  } else if (text.trim() !== '') error = 'response body not understood';
  const turns = [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, t]) => ({ role: 'assistant' as const, blocks: [{ type: 'text' as const, text: t }] }));
  const res: LlmResponse & { model?: string } = { turns };
  if (stopReason) res.stopReason = stopReason;
  const u = chatUsage(usage);
  if (u) res.usage = u;
  if (model) res.model = model;
  if (error) res.error = error;
  else if (!done) res.error = 'stream ended before [DONE] (truncated)';
  return res;
}

export const openaiCompletions: ApiFamily = { api: 'openai.completions', parseRequest, parseResponse };
