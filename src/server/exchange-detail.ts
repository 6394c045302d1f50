// The per-selection payload: the full record (bodies over the view limit cut to their head, so a
// 50 MB body never freezes the page), the normalized LLM exchange, and protobuf trees for
// Connect/gRPC bodies. "show all" fetches the whole body separately.
import { bodyBytes, headerValue, type CaptureRecord, type RecordBody } from '../capture/record.js';
import type { ExchangeStore } from './exchange-store.js';
import { llmFactsOf, type LlmLayer } from '../analysis/llm-layer.js';
import { rowOf } from './row-summary.js';
import type { Detail } from './protocol.js';


/** Bodies larger than this are sent as their head; the UI offers "show all". */
export const VIEW_LIMIT = 256 * 1024;

function clip(body: RecordBody | undefined): { body: RecordBody | undefined; clippedFrom?: number } {
  if (!body) return { body };
  const text = body.text ?? body.base64;
  if (text === undefined || text.length <= VIEW_LIMIT) return { body };
  const out: RecordBody = { ...body };
  if (body.text !== undefined) out.text = body.text.slice(0, VIEW_LIMIT);
  else out.base64 = body.base64!.slice(0, VIEW_LIMIT - (VIEW_LIMIT % 4));
  return { body: out, clippedFrom: text.length };
}

type ProtobufDecoder = (bytes: Uint8Array) => unknown;
let protobufDecoder: Promise<ProtobufDecoder | undefined> | undefined;

/** The Cursor helper's schema-less decoder, when it is part of this build. */
function loadProtobufDecoder(): Promise<ProtobufDecoder | undefined> {
  protobufDecoder ??= (async () => {
    try {
      const spec = '../protocols/protobuf-schemaless.js';
      const mod = (await import(spec)) as Record<string, unknown>;
      for (const name of ['decodeSchemaless', 'decodeProtobuf', 'decodeMessage', 'decode']) {
        const fn = mod[name];
        if (typeof fn === 'function') return fn as ProtobufDecoder;
      }
      return undefined;
    } catch {
      return undefined;
    }
  })();
  return protobufDecoder;
}

function isProtobuf(contentType: string | undefined): boolean {
  return Boolean(contentType && /proto|grpc|connect\+/i.test(contentType) && !/json/i.test(contentType));
}

/** Connect / gRPC-web bodies are frames of [flags:1][len:4][message]; plain protobuf is one message. */
function protobufMessages(bytes: Buffer): Uint8Array[] {
  const frames: Uint8Array[] = [];
  let i = 0;
  while (i + 5 <= bytes.length) {
    const flags = bytes[i]!;
    const len = bytes.readUInt32BE(i + 1);
    if (flags > 3 || i + 5 + len > bytes.length) return frames.length ? frames : [bytes];
    if ((flags & 1) === 0) frames.push(bytes.subarray(i + 5, i + 5 + len));
    i += 5 + len;
  }
  return i === bytes.length && frames.length ? frames : [bytes];
}

async function protobufTree(record: CaptureRecord, side: 'request' | 'response'): Promise<unknown> {
  const part = record[side];
  if (!part?.body || !isProtobuf(headerValue(part.headers, 'content-type'))) return undefined;
  const decode = await loadProtobufDecoder();
  if (!decode) return undefined;
  const bytes = bodyBytes(part.body).subarray(0, VIEW_LIMIT);
  const out: unknown[] = [];
  for (const m of protobufMessages(bytes).slice(0, 200)) {
    try {
      out.push(decode(m));
    } catch (e) {
      out.push({ error: (e as Error).message });
    }
  }
  return out;
}

export async function buildDetail(
  store: ExchangeStore,
  llm: LlmLayer | undefined,
  id: string,
  annotation: { note: string; at: string } | undefined,
): Promise<Detail | undefined> {
  const record = await store.get(id);
  const known = store.rowById(id);
  if (!record || !known) return undefined;
  const facts = llmFactsOf(llm, record);
  const row = { ...rowOf(record, known.seq, facts, known.state === 'live'), ...(known.note ? { note: true } : {}) };
  const view: CaptureRecord = { ...record };
  const clipped: Detail['clipped'] = {};
  if (record.request) {
    const c = clip(record.request.body);
    view.request = { ...record.request, ...(c.body ? { body: c.body } : {}) };
    if (c.clippedFrom) clipped.request = c.clippedFrom;
  }
  if (record.response) {
    const c = clip(record.response.body);
    view.response = { ...record.response, ...(c.body ? { body: c.body } : {}) };
    if (c.clippedFrom) clipped.response = c.clippedFrom;
  }
  if (record.ws && record.ws.length > 2000) view.ws = record.ws.slice(0, 2000);
  const detail: Detail = { row, record: view, clipped };
  if (facts.exchange) detail.llm = facts.exchange;
  const pbReq = await protobufTree(record, 'request');
  const pbRes = await protobufTree(record, 'response');
  if (pbReq !== undefined || pbRes !== undefined) detail.protobuf = { ...(pbReq !== undefined ? { request: pbReq } : {}), ...(pbRes !== undefined ? { response: pbRes } : {}) };
  if (annotation) detail.annotation = annotation;
  return detail;
}

export function fullBody(record: CaptureRecord, side: 'request' | 'response'): { text?: string; base64?: string; size: number } {
  const body = record[side]?.body;
  if (!body) return { size: 0 };
  return { ...(body.text !== undefined ? { text: body.text } : {}), ...(body.base64 !== undefined ? { base64: body.base64 } : {}), size: body.size };
}
