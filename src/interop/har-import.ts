// HAR 1.2 → record v1. Real HAR writers disagree on details (Chrome "http/2.0" and "h3",
// Firefox "HTTP/3" with no content text, Charles, Insomnia, a UTF-8 BOM, status 0 for requests
// that never completed), so every field is read defensively and a missing required field
// produces a warning, never a dropped entry. `_agenttap` (our own export) restores what HAR
// cannot say: record id, client, chunk timing, labels, errors.
import type { CaptureRecord, RecordBody, RecordClient, RecordError, WsMessage } from '../capture/record.js';
import { base64Body, bodyFromValue, headersFromObject, importedRecord, toEpochMs } from './import-record.js';
import { isObject, num, str, type ImportContext } from './import-types.js';

/** The HAR document's entries, or a reason it is not HAR. */
export function harEntries(doc: unknown): { entries: unknown[]; creator?: string } | { problem: string } {
  if (!isObject(doc) || !isObject(doc.log)) return { problem: 'not a HAR file: no "log" object' };
  const log = doc.log;
  if (!Array.isArray(log.entries)) return { problem: 'not a HAR file: "log.entries" is not an array' };
  const creator = isObject(log.creator) ? [str(log.creator.name), str(log.creator.version)].filter(Boolean).join(' ') : undefined;
  return { entries: log.entries, creator };
}

function contentBody(content: Record<string, unknown> | undefined, ctx: ImportContext, where: string): RecordBody | undefined {
  if (!content) return undefined;
  const size = num(content.size);
  const text = content.text;
  if (typeof text === 'string') {
    if (content.encoding === 'base64') {
      const body = base64Body(text);
      // Binary bodies stay base64; text that was only transported as base64 becomes text again.
      const buf = Buffer.from(text, 'base64');
      const decoded = buf.toString('utf8');
      if (Buffer.byteLength(decoded) === buf.length && !decoded.includes('\uFFFD')) return { text: decoded, size: buf.length };
      return body;
    }
    if (content.encoding !== undefined && content.encoding !== '') ctx.warn(`${where}: unknown content encoding "${String(content.encoding)}"; body kept as text`);
    return bodyFromValue(text);
  }
  if (size !== undefined && size > 0) return { size, note: 'body not included in the HAR file' };
  return undefined;
}

function postBody(postData: unknown): RecordBody | undefined {
  if (!isObject(postData)) return undefined;
  if (typeof postData.text === 'string') {
    if (postData.encoding === 'base64') return base64Body(postData.text);
    return bodyFromValue(postData.text);
  }
  if (Array.isArray(postData.params)) {
    const form = new URLSearchParams();
    for (const p of postData.params) if (isObject(p)) form.append(str(p.name) ?? '', str(p.value) ?? '');
    return bodyFromValue(form.toString());
  }
  return undefined;
}

function nonNegative(v: unknown): number {
  const n = num(v);
  return n !== undefined && n > 0 ? n : 0;
}

export function harEntryToRecord(entry: unknown, index: number, ctx: ImportContext): CaptureRecord {
  const where = `entry ${index + 1}`;
  const e = isObject(entry) ? entry : (ctx.warn(`${where}: not an object; imported as an empty entry`), {} as Record<string, unknown>);
  const missing: string[] = [];
  const req = isObject(e.request) ? e.request : (missing.push('request'), {} as Record<string, unknown>);
  const res = isObject(e.response) ? e.response : (missing.push('response'), undefined);
  let startedAtMs = toEpochMs(e.startedDateTime);
  if (startedAtMs === undefined) {
    missing.push('startedDateTime');
    startedAtMs = 0;
  }
  const url = str(req.url);
  if (!url) missing.push('request.url');
  const method = str(req.method);
  if (!method) missing.push('request.method');
  if (req.headers !== undefined && !Array.isArray(req.headers)) missing.push('request.headers (not a list)');
  if (res && num(res.status) === undefined) missing.push('response.status');
  if (missing.length) ctx.warn(`${where}: missing or invalid required HAR field(s): ${missing.join(', ')}; imported with defaults`);

  const timings = isObject(e.timings) ? e.timings : {};
  const connect = nonNegative(timings.connect);
  const ssl = nonNegative(timings.ssl);
  const beforeResponse = nonNegative(timings.blocked) + nonNegative(timings.dns) + connect + nonNegative(timings.send) + nonNegative(timings.wait);
  const total = num(e.time);
  const status = res ? num(res.status) ?? 0 : 0;
  const content = res && isObject(res.content) ? res.content : undefined;
  const ours = isObject(e._agenttap) ? e._agenttap : undefined;

  const record = importedRecord({
    startedAtMs,
    method: method ?? 'GET',
    url: url ?? '',
    httpVersion: str(req.httpVersion),
    requestHeaders: headersFromObject(req.headers),
    requestBody: postBody(req.postData),
    status,
    statusText: res ? str(res.statusText) : undefined,
    responseHttpVersion: res ? str(res.httpVersion) : undefined,
    responseHeaders: res ? headersFromObject(res.headers) : [],
    responseBody: contentBody(content, ctx, where),
    timing: {
      ...(connect ? { connectMs: connect } : {}),
      ...(ssl ? { tlsMs: ssl } : {}),
      ...(res && status > 0 ? { ttfbMs: beforeResponse } : {}),
      ...(total !== undefined && total >= 0 ? { totalMs: total } : {}),
    },
    serverIp: str(e.serverIPAddress)?.replace(/^\[|\]$/g, ''),
    source: 'har',
    labels: ctx.creator ? { harCreator: ctx.creator } : undefined,
    keepSecrets: ctx.keepSecrets,
  });
  if (status === 0 && !ours) {
    record.error = { phase: 'protocol', message: 'no response in the HAR entry (status 0: blocked, cancelled or failed)' };
  }
  const ws = e._webSocketMessages;
  if (Array.isArray(ws)) {
    record.kind = 'websocket';
    const t0 = startedAtMs / 1000;
    record.ws = ws.filter(isObject).map((m): WsMessage => {
      const opcode = num(m.opcode) ?? 1;
      const data = str(m.data) ?? '';
      const time = num(m.time) ?? t0;
      const msg: WsMessage = { t: Math.max(0, (time - t0) * 1000), from: m.type === 'send' ? 'client' : 'server', type: opcode === 2 ? 'binary' : 'text' };
      if (opcode === 2) msg.base64 = data;
      else msg.text = data;
      msg.size = opcode === 2 ? Buffer.from(data, 'base64').length : Buffer.byteLength(data);
      return msg;
    });
  }
  if (ours) restoreAgenttapFields(record, ours);
  return record;
}

/** What our own HAR export tucked into `_agenttap`, put back so export → import loses nothing we track. */
function restoreAgenttapFields(record: CaptureRecord, ours: Record<string, unknown>): void {
  if (typeof ours.id === 'string') record.id = ours.id;
  if (ours.kind === 'websocket' || ours.kind === 'http') record.kind = ours.kind;
  if (isObject(ours.client) && typeof ours.client.ip === 'string') record.client = ours.client as unknown as RecordClient;
  if (isObject(ours.server)) record.server = { ...record.server, ...(ours.server as object) };
  const labels: Record<string, string> = { ...record.labels, ...(isObject(ours.labels) ? (ours.labels as Record<string, string>) : {}) };
  if (typeof ours.mode === 'string' && ours.mode !== 'import') labels.originalMode = ours.mode;
  if (!labels.importedFrom) labels.importedFrom = 'har';
  record.labels = labels;
  record.error = isObject(ours.error) ? (ours.error as unknown as RecordError) : null;
  if (isObject(ours.timing)) record.timing = ours.timing as CaptureRecord['timing'];
  if (record.response && Array.isArray(ours.responseChunks)) record.response.chunks = ours.responseChunks as [number, number][];
  if (record.response && Array.isArray(ours.trailers)) record.response.trailers = ours.trailers as [string, string][];
  for (const side of ['request', 'response'] as const) {
    const meta = ours[`${side}Body`];
    const body = record[side]?.body;
    if (isObject(meta) && body) {
      if (typeof meta.wireSize === 'number') body.wireSize = meta.wireSize;
      if (typeof meta.contentEncoding === 'string') body.contentEncoding = meta.contentEncoding;
      if (meta.truncated === true) body.truncated = true;
      if (typeof meta.sha256 === 'string') body.sha256 = meta.sha256;
      if (typeof meta.size === 'number') body.size = meta.size;
    }
  }
  if (Array.isArray(ours.ws)) record.ws = ours.ws as WsMessage[];
  if (isObject(ours.wsClose)) record.wsClose = ours.wsClose as unknown as CaptureRecord['wsClose'];
  if (typeof ours.replayOf === 'string') record.replayOf = ours.replayOf;
}
