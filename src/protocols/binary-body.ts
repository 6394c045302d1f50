// One entry point for "what is in this binary body": picks the framing from the content type (or
// from the bytes when there is none) and returns the messages inside it. Connect streams, gRPC,
// gRPC-web (binary and text), the SSE-of-base64 form and bare (unary) protobuf are recognised.
import { decodeConnectStream, parseEndStream, type ConnectEndStream } from './connect-envelope.js';
import type { DecodeIssue } from './decode-issue.js';
import { decodeGrpcStream, grpcStatus, type GrpcStatus } from './grpc.js';
import { decodeGrpcWeb, parseTrailerBlock } from './grpc-web.js';
import { FrameDecoder, looksLikeFrames, type Frame, type FrameDecoderOptions } from './length-prefixed-frames.js';
import { decodeSseEnvelopes } from './sse-envelopes.js';

export type BodyFormat = 'connect' | 'grpc' | 'grpc-web' | 'grpc-web-text' | 'sse-envelopes' | 'envelopes' | 'protobuf' | 'json';

export interface BinaryBody {
  format: BodyFormat;
  /** The messages, in order (a unary body is one message at offset 0). */
  messages: Frame[];
  end?: ConnectEndStream;
  trailers?: [string, string][];
  status?: GrpcStatus;
  errors: DecodeIssue[];
}

export interface BinaryBodyOptions extends FrameDecoderOptions {
  contentType?: string;
}

/** The framing a content type announces, or undefined when it says nothing useful. */
export function formatOfContentType(contentType: string | undefined): BodyFormat | undefined {
  if (!contentType) return undefined;
  const ct = contentType.split(';')[0]!.trim().toLowerCase();
  if (ct.startsWith('application/connect+')) return ct.endsWith('+json') ? 'json' : 'connect';
  if (ct.startsWith('application/grpc-web-text')) return 'grpc-web-text';
  if (ct.startsWith('application/grpc-web')) return 'grpc-web';
  if (ct === 'application/grpc' || ct.startsWith('application/grpc+')) return 'grpc';
  if (ct === 'application/proto' || ct === 'application/protobuf' || ct === 'application/x-protobuf' || ct === 'application/x-google-protobuf') return 'protobuf';
  if (ct === 'application/json') return 'json';
  return undefined;
}

/** Decodes a body whose framing is given by `contentType` or guessed from the bytes. Never throws. */
export function decodeBinaryBody(bytes: Uint8Array, opts: BinaryBodyOptions = {}): BinaryBody {
  let format = formatOfContentType(opts.contentType);
  if (format === undefined || format === 'json') format = guessFormat(bytes) ?? format ?? 'protobuf';
  switch (format) {
    case 'connect': {
      const s = decodeConnectStream(bytes, opts);
      return s.end ? { format, messages: s.messages, end: s.end, errors: s.errors } : { format, messages: s.messages, errors: s.errors };
    }
    case 'grpc': {
      const s = decodeGrpcStream(bytes, opts);
      return { format, messages: s.messages, errors: s.errors };
    }
    case 'grpc-web':
    case 'grpc-web-text': {
      const s = decodeGrpcWeb(format === 'grpc-web-text' ? Buffer.from(bytes).toString('latin1') : bytes, { ...opts, text: format === 'grpc-web-text' });
      const out: BinaryBody = { format, messages: s.messages, errors: s.errors };
      if (s.trailers) out.trailers = s.trailers;
      if (s.status) out.status = s.status;
      return out;
    }
    case 'sse-envelopes': {
      const s = decodeSseEnvelopes(bytes, opts);
      return s.end ? { format, messages: s.messages, end: s.end, errors: s.errors } : { format, messages: s.messages, errors: s.errors };
    }
    case 'envelopes':
      return decodeMixedEnvelopes(bytes, opts);
    case 'json':
      return { format, messages: [], errors: [] };
    case 'protobuf':
      return { format, messages: [{ offset: 0, flags: 0, length: bytes.length, payload: bytes, compressed: false }], errors: [] };
  }
}

/** Guesses the framing of unlabelled bytes: SSE text, a run of envelopes, JSON, else bare protobuf. */
export function guessFormat(bytes: Uint8Array): BodyFormat | undefined {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 64)).toString('latin1').trimStart();
  // ':' alone is also a protobuf tag (field 7, length-delimited): a comment line must be text.
  if (/^(data|event|id|retry):/.test(head) || (head.startsWith(':') && /^[\x20-\x7e\t\r\n]*$/.test(head))) return 'sse-envelopes';
  if (looksLikeFrames(bytes)) return 'envelopes';
  if (head.startsWith('{') || head.startsWith('[')) {
    try {
      JSON.parse(Buffer.from(bytes).toString('utf8'));
      return 'json';
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Envelopes of an unknown protocol: 0x02 frames read as Connect end-of-stream, 0x80 as gRPC-web trailers. */
function decodeMixedEnvelopes(bytes: Uint8Array, opts: FrameDecoderOptions): BinaryBody {
  const out: BinaryBody = { format: 'envelopes', messages: [], errors: [] };
  const d = new FrameDecoder(opts);
  for (const f of d.push(bytes)) {
    if (f.error) out.errors.push(f.error);
    if (f.flags & 0x80) {
      const t = parseTrailerBlock(f.payload, f.offset);
      out.format = 'grpc-web';
      out.trailers = t.trailers;
      const status = grpcStatus(t.trailers);
      if (status) out.status = status;
      if (t.error) out.errors.push(t.error);
    } else if (f.flags & 0x02) {
      out.format = 'connect';
      const parsed = parseEndStream(f.payload, f.offset);
      out.end = parsed.end;
      if (parsed.error) out.errors.push(parsed.error);
    } else {
      out.messages.push(f);
    }
  }
  const err = d.finish();
  if (err) out.errors.push(err);
  return out;
}
