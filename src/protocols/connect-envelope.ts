// Connect protocol envelopes (connectrpc.com/docs/protocol): streaming bodies
// (`application/connect+proto`, `+json`) are 5-byte-enveloped messages; flag 0x01 marks a payload
// compressed with `connect-content-encoding`, flag 0x02 the end-of-stream message, a JSON object
// `{ "error"?: { code, message, details }, "metadata"?: { name: [values] } }`. Unary calls
// (`application/proto`) carry one bare message, and errors as a JSON body.
import { issue, type DecodeIssue } from './decode-issue.js';
import { FrameDecoder, encodeFrame, type Frame, type FrameDecoderOptions } from './length-prefixed-frames.js';

export const CONNECT_FLAG_COMPRESSED = 0x01;
export const CONNECT_FLAG_END_STREAM = 0x02;

export interface ConnectError {
  code: string;
  message?: string;
  details?: unknown[];
}

export interface ConnectEndStream {
  error?: ConnectError;
  metadata?: Record<string, string[]>;
}

export type ConnectEvent =
  | { type: 'message'; frame: Frame }
  | { type: 'end'; offset: number; end: ConnectEndStream }
  | { type: 'error'; error: DecodeIssue };

export interface ConnectStream {
  messages: Frame[];
  end?: ConnectEndStream;
  errors: DecodeIssue[];
}

/** Incremental decoder of a Connect streaming body. */
export class ConnectStreamDecoder {
  private readonly frames: FrameDecoder;

  constructor(opts: FrameDecoderOptions = {}) {
    this.frames = new FrameDecoder(opts);
  }

  push(chunk: Uint8Array): ConnectEvent[] {
    const before = this.frames.error;
    const events = this.frames.push(chunk).flatMap((f) => toEvents(f));
    if (!before && this.frames.error) events.push({ type: 'error', error: this.frames.error });
    return events;
  }

  finish(): ConnectEvent[] {
    const before = this.frames.error;
    const err = this.frames.finish();
    return err && err !== before ? [{ type: 'error', error: err }] : [];
  }
}

function toEvents(frame: Frame): ConnectEvent[] {
  const events: ConnectEvent[] = [];
  if (frame.error) events.push({ type: 'error', error: frame.error });
  if ((frame.flags & CONNECT_FLAG_END_STREAM) === 0) {
    events.push({ type: 'message', frame });
    return events;
  }
  const parsed = parseEndStream(frame.payload, frame.offset);
  if (parsed.error) events.push({ type: 'error', error: parsed.error });
  events.push({ type: 'end', offset: frame.offset, end: parsed.end });
  return events;
}

/** Parses the JSON payload of an end-of-stream envelope found at `offset`. */
export function parseEndStream(payload: Uint8Array, offset: number): { end: ConnectEndStream; error?: DecodeIssue } {
  const text = Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('utf8');
  if (text.trim() === '') return { end: {} };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { end: {}, error: issue('invalid-json', `end-of-stream message is not JSON (${(e as Error).message})`, offset) };
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) {
    return { end: {}, error: issue('invalid-json', 'end-of-stream message is not a JSON object', offset) };
  }
  const obj = json as Record<string, unknown>;
  const end: ConnectEndStream = {};
  const error = toConnectError(obj.error);
  if (error) end.error = error;
  if (obj.metadata && typeof obj.metadata === 'object' && !Array.isArray(obj.metadata)) {
    const metadata: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(obj.metadata as Record<string, unknown>)) {
      metadata[k] = Array.isArray(v) ? v.map(String) : [String(v)];
    }
    end.metadata = metadata;
  }
  return { end };
}

function toConnectError(value: unknown): ConnectError | undefined {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const e = value as Record<string, unknown>;
  const out: ConnectError = { code: typeof e.code === 'string' ? e.code : 'unknown' };
  if (typeof e.message === 'string') out.message = e.message;
  if (Array.isArray(e.details)) out.details = e.details;
  return out;
}

/** Decodes a whole Connect streaming body. */
export function decodeConnectStream(bytes: Uint8Array, opts: FrameDecoderOptions = {}): ConnectStream {
  const d = new ConnectStreamDecoder(opts);
  const out: ConnectStream = { messages: [], errors: [] };
  for (const ev of [...d.push(bytes), ...d.finish()]) {
    if (ev.type === 'message') out.messages.push(ev.frame);
    else if (ev.type === 'end') out.end = ev.end;
    else out.errors.push(ev.error);
  }
  return out;
}

/** The error of a unary Connect call: a JSON body `{ code, message, details }` on a non-200 status. */
export function parseConnectUnaryError(text: string): ConnectError | undefined {
  try {
    return toConnectError(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/** Wraps one message in a Connect envelope (flags 0, or CONNECT_FLAG_COMPRESSED for a compressed payload). */
export function encodeConnectMessage(payload: Uint8Array, flags = 0): Uint8Array {
  return encodeFrame(payload, flags);
}

/** The end-of-stream envelope carrying `end` as JSON. */
export function encodeConnectEndStream(end: ConnectEndStream = {}): Uint8Array {
  return encodeFrame(new Uint8Array(Buffer.from(JSON.stringify(end), 'utf8')), CONNECT_FLAG_END_STREAM);
}
