// gRPC over HTTP/2 (grpc/doc/PROTOCOL-HTTP2.md): the body is 5-byte length-prefixed messages (flag
// 0x01 = compressed with `grpc-encoding`); the status travels in the HTTP/2 trailers
// `grpc-status` / `grpc-message` (percent-encoded), or in the headers of a trailers-only response.
import type { DecodeIssue } from './decode-issue.js';
import { FrameDecoder, type Frame, type FrameDecoderOptions } from './length-prefixed-frames.js';

export const GRPC_STATUS_NAMES = [
  'OK', 'CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS',
  'PERMISSION_DENIED', 'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE',
  'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED',
] as const;

export interface GrpcStatus {
  code: number;
  /** OK, NOT_FOUND, … (or "CODE_<n>" for a code outside the table). */
  name: string;
  message?: string;
}

export interface GrpcStream {
  messages: Frame[];
  errors: DecodeIssue[];
}

/** Incremental decoder of a gRPC body: the frames, each compressed one inflated. */
export class GrpcStreamDecoder {
  private readonly frames: FrameDecoder;
  private reported = false;

  constructor(opts: FrameDecoderOptions = {}) {
    this.frames = new FrameDecoder(opts);
  }

  push(chunk: Uint8Array): { messages: Frame[]; errors: DecodeIssue[] } {
    const messages = this.frames.push(chunk);
    const errors = messages.flatMap((m) => (m.error ? [m.error] : []));
    if (this.frames.error && !this.reported) {
      this.reported = true;
      errors.push(this.frames.error);
    }
    return { messages, errors };
  }

  finish(): DecodeIssue[] {
    if (this.reported) return [];
    const err = this.frames.finish();
    this.reported = err !== undefined;
    return err ? [err] : [];
  }
}

export function decodeGrpcStream(bytes: Uint8Array, opts: FrameDecoderOptions = {}): GrpcStream {
  const d = new GrpcStreamDecoder(opts);
  const first = d.push(bytes);
  return { messages: first.messages, errors: [...first.errors, ...d.finish()] };
}

/** Reads `grpc-status` / `grpc-message` from trailers, falling back to the headers (trailers-only responses). */
export function grpcStatus(trailers: [string, string][] | undefined, headers?: [string, string][]): GrpcStatus | undefined {
  for (const list of [trailers, headers]) {
    if (!list) continue;
    const status = find(list, 'grpc-status');
    if (status === undefined) continue;
    const code = Number.parseInt(status, 10);
    if (!Number.isInteger(code)) continue;
    const out: GrpcStatus = { code, name: GRPC_STATUS_NAMES[code] ?? `CODE_${code}` };
    const message = find(list, 'grpc-message');
    if (message !== undefined && message !== '') out.message = percentDecode(message);
    return out;
  }
  return undefined;
}

function find(list: [string, string][], name: string): string | undefined {
  for (const [k, v] of list) if (k.toLowerCase() === name) return v;
  return undefined;
}

/** grpc-message is percent-encoded UTF-8; a malformed escape is kept as written. */
export function percentDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text.replace(/(%[0-9a-fA-F]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}
