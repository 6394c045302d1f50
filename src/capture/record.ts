// The capture record, v1 (DESIGN.md section 4): one JSON object per line of a capture file.
// Every layer after the engine (LLM, analysis, views, interop) reads only these shapes.

export const RECORD_VERSION = 1 as const;

/** Header list in wire order, with original case and duplicates kept. */
export type HeaderList = [name: string, value: string][];

export interface RecordBody {
  /** The decoded (identity) body as UTF-8 text, when it is valid UTF-8. */
  text?: string;
  /** The decoded body as base64, when it is not valid UTF-8 (or could not be decoded). */
  base64?: string;
  /** Decoded size in bytes of the whole body (not only of the kept head when truncated). */
  size: number;
  /** Bytes that crossed the wire (before content decoding), when they differ from `size`. */
  wireSize?: number;
  /** The `content-encoding` the wire carried (gzip, br, deflate, zstd, or a chain "gzip, br"). */
  contentEncoding?: string;
  /** True when the body exceeded the cap: `text`/`base64` holds the head only. */
  truncated?: boolean;
  /** SHA-256 (hex) of the whole decoded body, set when truncated. */
  sha256?: string;
  /** Why the body is kept raw (unknown encoding, broken gzip…). */
  note?: string;
}

export interface RecordRequest {
  method: string;
  /** See DESIGN.md "Which URL a record keeps". */
  url: string;
  httpVersion: string;
  headers: HeaderList;
  body?: RecordBody;
  trailers?: HeaderList;
  /** [ms since exchange start, bytes] per request chunk as it arrived (streamed uploads, bidi). */
  chunks?: [number, number][];
}

export interface RecordResponse {
  status: number;
  statusText?: string;
  httpVersion: string;
  headers: HeaderList;
  trailers?: HeaderList;
  body?: RecordBody;
  /** [ms since exchange start, bytes] for each chunk as it arrived from the upstream. */
  chunks?: [number, number][];
}

export interface RecordTiming {
  connectMs?: number;
  tlsMs?: number;
  /** Time to the first response byte (response head), ms since exchange start. */
  ttfbMs?: number;
  totalMs?: number;
}

export type ErrorPhase =
  | 'upstream-connect'
  | 'tls'
  | 'client-abort'
  | 'upstream-reset'
  | 'timeout'
  | 'protocol';

export interface RecordError {
  phase: ErrorPhase;
  code?: string;
  message: string;
}

export interface WsMessage {
  /** ms since exchange start. */
  t: number;
  from: 'client' | 'server';
  type: 'text' | 'binary' | 'ping' | 'pong' | 'close';
  text?: string;
  base64?: string;
  /** Payload size in bytes (after permessage-deflate inflation). */
  size?: number;
  /** Bytes on the wire when compressed. */
  wireSize?: number;
}

export interface WsClose {
  code: number;
  reason: string;
  by: 'client' | 'server';
}

export interface TunnelInfo {
  bytesUp: number;
  bytesDown: number;
  durationMs: number;
  reason: 'passthrough' | 'learned' | 'not-tls';
}

export interface RecordClient {
  ip: string;
  port: number;
  pid?: number;
  process?: string;
}

export interface RecordServer {
  host: string;
  port: number;
  tls: boolean;
  alpn?: string;
  ip?: string;
  /** Under --map-remote: where the request really went ("http://127.0.0.1:18080"). */
  mappedTo?: string;
  /** Reverse mode: the listener that took the request ("http://127.0.0.1:9000"). */
  listener?: string;
}

export type RecordKind = 'http' | 'websocket' | 'tunnel';
export type RecordMode = 'forward' | 'reverse' | 'transparent' | 'import';

export interface CaptureRecord {
  v: 1;
  /** UUIDv7: time-ordered, unique across processes. */
  id: string;
  kind: RecordKind;
  mode: RecordMode;
  /** ISO 8601 with milliseconds. */
  startedAt: string;
  client?: RecordClient;
  server: RecordServer;
  /** Absent for tunnel rows. */
  request?: RecordRequest;
  /** Absent when no response head arrived. */
  response?: RecordResponse;
  timing?: RecordTiming;
  ws?: WsMessage[];
  wsClose?: WsClose;
  tunnel?: TunnelInfo;
  error: RecordError | null;
  labels?: Record<string, string>;
  /** A small cached LLM summary a writer may add; the raw exchange stays the truth. */
  llm?: Record<string, unknown>;
  /** Set on replays: the id of the record this one re-sent. */
  replayOf?: string;
}

/** Case-insensitive first value of a header. */
export function headerValue(headers: HeaderList | undefined, name: string): string | undefined {
  if (!headers) return undefined;
  const lower = name.toLowerCase();
  for (const [k, v] of headers) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** The body as bytes (decoded), whichever of text/base64 it was stored as. */
export function bodyBytes(body: RecordBody | undefined): Buffer {
  if (!body) return Buffer.alloc(0);
  if (body.text !== undefined) return Buffer.from(body.text, 'utf8');
  if (body.base64 !== undefined) return Buffer.from(body.base64, 'base64');
  return Buffer.alloc(0);
}

/** The body as text (lossy for binary bodies). */
export function bodyText(body: RecordBody | undefined): string {
  if (!body) return '';
  if (body.text !== undefined) return body.text;
  if (body.base64 !== undefined) return Buffer.from(body.base64, 'base64').toString('utf8');
  return '';
}
