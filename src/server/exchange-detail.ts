// The per-selection payload: the full record (bodies over the view limit cut to their head, so a
// 50 MB body never freezes the page), the normalized LLM exchange, and schema-less protobuf trees
// for Connect/gRPC bodies (Cursor). "show all" fetches the whole body separately.
import { bodyBytes, headerValue, type CaptureRecord, type RecordBody } from '../capture/record.js';
import type { ExchangeStore } from './exchange-store.js';
import { llmFactsOf, type LlmLayer } from '../analysis/llm-layer.js';
import { rowOf } from './row-summary.js';
import type { Detail } from './protocol.js';
import { decodeProtobuf, type PbField, type PbValue } from '../protocols/protobuf-schemaless.js';
import { ConnectStreamDecoder } from '../protocols/connect-envelope.js';


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

/** A schema-less protobuf message as a compact tree for the JSON view: `#N` keys, repeats as `#N (2)`. */
export function compactProtobuf(fields: PbField[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const seen = new Map<number, number>();
  for (const f of fields) {
    const n = (seen.get(f.field) ?? 0) + 1;
    seen.set(f.field, n);
    out[n === 1 ? `#${f.field}` : `#${f.field} (${n})`] = compactValue(f.value);
  }
  return out;
}

function compactValue(v: PbValue): unknown {
  switch (v.kind) {
    case 'string':
      return v.text;
    case 'message':
    case 'group':
      return compactProtobuf(v.fields);
    case 'varint':
      return v.value;
    case 'fixed64':
      return Number.isFinite(v.double) && Math.abs(v.double) > 1e-9 && Math.abs(v.double) < 1e15 ? { fixed64: v.value, double: v.double } : v.value;
    case 'fixed32':
      return Number.isFinite(v.float) && Math.abs(v.float) > 1e-9 && Math.abs(v.float) < 1e12 ? { fixed32: v.value, float: v.float } : v.value;
    case 'bytes':
      return { bytes: v.hex.length > 400 ? `${v.hex.slice(0, 400)}…` : v.hex, ...(v.packed ? { packed: v.packed } : {}) };
  }
}

function decodeMessage(bytes: Uint8Array): unknown {
  const r = decodeProtobuf(bytes, { maxFields: 20_000 });
  const tree = compactProtobuf(r.fields);
  return r.error ? { ...tree, '(decode stopped)': r.error.message } : tree;
}

function isProtobuf(contentType: string | undefined): boolean {
  return Boolean(contentType && /proto|grpc/i.test(contentType) && !/json/i.test(contentType));
}

/** Connect / gRPC bodies are 5-byte-enveloped messages; plain application/proto is one message. */
function protobufTree(record: CaptureRecord, side: 'request' | 'response'): unknown {
  const part = record[side];
  const contentType = headerValue(part?.headers, 'content-type');
  if (!part?.body || !isProtobuf(contentType)) return undefined;
  const bytes = bodyBytes(part.body).subarray(0, 4 * VIEW_LIMIT);
  if (!/connect\+|grpc/i.test(contentType!)) return decodeMessage(bytes);
  const encoding = headerValue(part.headers, 'connect-content-encoding') ?? headerValue(part.headers, 'grpc-encoding');
  const decoder = new ConnectStreamDecoder(encoding ? { encoding } : {});
  const events = [...decoder.push(bytes), ...decoder.finish()];
  const out: unknown[] = [];
  for (const e of events.slice(0, 500)) {
    if (e.type === 'message') out.push(e.frame.flags & 0x80 ? { trailers: Buffer.from(e.frame.payload).toString('utf8') } : decodeMessage(e.frame.payload));
    else if (e.type === 'end') out.push({ 'end of stream': e.end });
    else out.push({ error: e.error.message });
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
  const pbReq = protobufTree(record, 'request');
  const pbRes = protobufTree(record, 'response');
  if (pbReq !== undefined || pbRes !== undefined) detail.protobuf = { ...(pbReq !== undefined ? { request: pbReq } : {}), ...(pbRes !== undefined ? { response: pbRes } : {}) };
  if (annotation) detail.annotation = annotation;
  return detail;
}

export function fullBody(record: CaptureRecord, side: 'request' | 'response'): { text?: string; base64?: string; size: number } {
  const body = record[side]?.body;
  if (!body) return { size: 0 };
  return { ...(body.text !== undefined ? { text: body.text } : {}), ...(body.base64 !== undefined ? { base64: body.base64 } : {}), size: body.size };
}
