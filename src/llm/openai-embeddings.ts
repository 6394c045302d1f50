// Embeddings (OpenAI …/embeddings and compatible providers): the inputs are the request turn; the
// response keeps only the shape of the vectors (count, dimensions), never the numbers themselves.
import type { CaptureRecord } from '../capture/record.js';
import { arr, errorMessageOf, isObject, requestJson, responseJson, str } from './record-json.js';
import { chatUsage } from './openai-chat.js';
import type { ApiFamily, Block, LlmRequest, LlmResponse } from './types.js';

function parseRequest(record: CaptureRecord): { model?: string; stream: boolean; request: LlmRequest } {
  const body = requestJson(record);
  const input = body?.input;
  const blocks: Block[] = [];
  if (typeof input === 'string') blocks.push({ type: 'text', text: input });
  else
    for (const i of arr(input)) {
      if (typeof i === 'string') blocks.push({ type: 'text', text: i });
      else blocks.push({ type: 'other', raw: i });
    }
  return { model: str(body?.model), stream: false, request: { turns: blocks.length ? [{ role: 'user', blocks }] : [], tools: [] } };
}

function parseResponse(record: CaptureRecord): LlmResponse & { model?: string } {
  const json = responseJson(record);
  const status = record.response?.status ?? 0;
  if (isObject(json) && Array.isArray(json.data) && status < 400) {
    const first = json.data[0];
    const emb = isObject(first) ? first.embedding : undefined;
    const dims = Array.isArray(emb) ? emb.length : typeof emb === 'string' ? Math.floor((Buffer.from(emb, 'base64').length) / 4) : undefined;
    const res: LlmResponse & { model?: string } = {
      turns: [{ role: 'assistant', blocks: [{ type: 'other', raw: { type: 'embeddings', count: json.data.length, dimensions: dims } }] }],
    };
    const usage = chatUsage(json.usage);
    if (usage) res.usage = usage;
    const model = str(json.model);
    if (model) res.model = model;
    return res;
  }
  const res: LlmResponse = { turns: [] };
  res.error = errorMessageOf(json, status) ?? record.error?.message ?? 'no response';
  return res;
}

export const openaiEmbeddings: ApiFamily = { api: 'openai.embeddings', parseRequest, parseResponse };
