// gRPC-web (grpc/doc/PROTOCOL-WEB.md): the gRPC framing, plus a trailer frame (flags bit 0x80) whose
// payload is an HTTP/1-style header block ("grpc-status: 0\r\ngrpc-message: …\r\n"). The
// `application/grpc-web-text` form base64-encodes the byte stream; a sender may pad each chunk, so
// padded groups can follow one another.
import { Base64Decoder } from './binary-text.js';
import { issue, type DecodeIssue } from './decode-issue.js';
import { grpcStatus, type GrpcStatus } from './grpc.js';
import { FrameDecoder, encodeFrame, type Frame, type FrameDecoderOptions } from './length-prefixed-frames.js';

export const GRPC_WEB_FLAG_TRAILER = 0x80;

export type GrpcWebEvent =
  | { type: 'message'; frame: Frame }
  | { type: 'trailers'; offset: number; trailers: [string, string][]; status?: GrpcStatus }
  | { type: 'error'; error: DecodeIssue };

export interface GrpcWebStream {
  messages: Frame[];
  trailers?: [string, string][];
  status?: GrpcStatus;
  errors: DecodeIssue[];
}

export interface GrpcWebOptions extends FrameDecoderOptions {
  /** `application/grpc-web-text`: the body is base64. */
  text?: boolean;
}

export class GrpcWebDecoder {
  private readonly frames: FrameDecoder;
  private readonly base64: Base64Decoder | undefined;
  private reported = false;

  constructor(opts: GrpcWebOptions = {}) {
    this.frames = new FrameDecoder(opts);
    this.base64 = opts.text ? new Base64Decoder() : undefined;
  }

  /** Feeds bytes (binary mode) or text/bytes holding base64 (text mode). */
  push(chunk: Uint8Array | string): GrpcWebEvent[] {
    if (!this.base64) return this.feed(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length).toString('latin1');
    const hadError = this.base64.error;
    const events = this.feed(this.base64.push(text));
    if (!hadError && this.base64.error) events.push({ type: 'error', error: this.base64.error });
    return events;
  }

  finish(): GrpcWebEvent[] {
    const events: GrpcWebEvent[] = [];
    if (this.base64) {
      const hadError = this.base64.error;
      events.push(...this.feed(this.base64.finish()));
      if (!hadError && this.base64.error) events.push({ type: 'error', error: this.base64.error });
    }
    if (!this.reported) {
      const err = this.frames.finish();
      if (err) {
        this.reported = true;
        events.push({ type: 'error', error: err });
      }
    }
    return events;
  }

  private feed(bytes: Uint8Array): GrpcWebEvent[] {
    const events: GrpcWebEvent[] = [];
    for (const frame of this.frames.push(bytes)) {
      if (frame.error) events.push({ type: 'error', error: frame.error });
      if ((frame.flags & GRPC_WEB_FLAG_TRAILER) === 0) {
        events.push({ type: 'message', frame });
        continue;
      }
      const parsed = parseTrailerBlock(frame.payload, frame.offset);
      if (parsed.error) events.push({ type: 'error', error: parsed.error });
      const status = grpcStatus(parsed.trailers);
      events.push(status ? { type: 'trailers', offset: frame.offset, trailers: parsed.trailers, status } : { type: 'trailers', offset: frame.offset, trailers: parsed.trailers });
    }
    if (this.frames.error && !this.reported) {
      this.reported = true;
      events.push({ type: 'error', error: this.frames.error });
    }
    return events;
  }
}

/** Parses a trailer frame's header block; lines without a colon are reported and skipped. */
export function parseTrailerBlock(payload: Uint8Array, offset = 0): { trailers: [string, string][]; error?: DecodeIssue } {
  const text = Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('utf8');
  const trailers: [string, string][] = [];
  let error: DecodeIssue | undefined;
  for (const line of text.split(/\r?\n/)) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) {
      error ??= issue('invalid-trailer', `trailer line ${JSON.stringify(line.slice(0, 40))} has no "name:"`, offset);
      continue;
    }
    trailers.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
  }
  return error ? { trailers, error } : { trailers };
}

export function decodeGrpcWeb(body: Uint8Array | string, opts: GrpcWebOptions = {}): GrpcWebStream {
  const d = new GrpcWebDecoder(opts);
  const out: GrpcWebStream = { messages: [], errors: [] };
  for (const ev of [...d.push(body), ...d.finish()]) {
    if (ev.type === 'message') out.messages.push(ev.frame);
    else if (ev.type === 'trailers') {
      out.trailers = ev.trailers;
      if (ev.status) out.status = ev.status;
    } else out.errors.push(ev.error);
  }
  return out;
}

/** The trailer frame for `trailers` (used by tests and replays). */
export function encodeGrpcWebTrailers(trailers: [string, string][]): Uint8Array {
  const block = trailers.map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return encodeFrame(new Uint8Array(Buffer.from(block, 'utf8')), GRPC_WEB_FLAG_TRAILER);
}
