// The 5-byte message envelope shared by gRPC, gRPC-web and Connect streaming: 1 flags byte, a 4-byte
// big-endian length, then the payload. The decoder is incremental (frames may be split across
// chunks, several may arrive in one) and bounded: a frame longer than `maxFrameBytes` stops the
// stream with an error instead of buffering it, and compressed payloads inflate up to
// `maxInflatedBytes` only (a gzip bomb is reported, not expanded).
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { issue, type DecodeIssue } from './decode-issue.js';

export const FRAME_HEADER_BYTES = 5;
export const DEFAULT_MAX_FRAME_BYTES = 32 * 1024 * 1024;
export const DEFAULT_MAX_INFLATED_BYTES = 32 * 1024 * 1024;

export interface Frame {
  /** Offset of the flags byte in the stream. */
  offset: number;
  flags: number;
  /** Payload length on the wire. */
  length: number;
  /** The payload, inflated when the frame was compressed and inflation worked. */
  payload: Uint8Array;
  compressed: boolean;
  /** Set when a compressed payload could not be inflated; `payload` then holds the raw bytes. */
  error?: DecodeIssue;
}

export interface FrameDecoderOptions {
  /** Message encoding used by frames with the compressed bit (gzip, deflate, br, identity). */
  encoding?: string;
  maxFrameBytes?: number;
  maxInflatedBytes?: number;
}

export class FrameDecoder {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private streamOffset = 0;
  /** A fatal problem: the decoder stops reading (the frames before it were returned). */
  error: DecodeIssue | undefined;
  private readonly maxFrame: number;
  private readonly maxInflated: number;
  private readonly encoding: string | undefined;

  constructor(opts: FrameDecoderOptions = {}) {
    this.maxFrame = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.maxInflated = opts.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES;
    this.encoding = opts.encoding;
  }

  /** Bytes consumed into complete frames so far. */
  get offset(): number {
    return this.streamOffset;
  }

  push(chunk: Uint8Array): Frame[] {
    const frames: Frame[] = [];
    if (this.error || chunk.length === 0) return frames;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= FRAME_HEADER_BYTES) {
      // Fast path: the whole frame sits in the first chunk (the usual case): no header copy.
      const c = this.chunks[0]!;
      if (c.length >= FRAME_HEADER_BYTES) {
        const length = ((c[1]! << 24) | (c[2]! << 16) | (c[3]! << 8) | c[4]!) >>> 0;
        if (length <= this.maxFrame && c.length >= FRAME_HEADER_BYTES + length) {
          const end = FRAME_HEADER_BYTES + length;
          const offset = this.streamOffset;
          this.streamOffset += end;
          this.buffered -= end;
          if (end === c.length) this.chunks.shift();
          else this.chunks[0] = c.subarray(end);
          frames.push(this.frame(offset, c[0]!, c.slice(FRAME_HEADER_BYTES, end)));
          continue;
        }
      }
      const header = this.peek(FRAME_HEADER_BYTES);
      const flags = header[0]!;
      const length = ((header[1]! << 24) | (header[2]! << 16) | (header[3]! << 8) | header[4]!) >>> 0;
      if (length > this.maxFrame) {
        this.error = issue('frame-too-large', `frame declares ${length} bytes, more than the ${this.maxFrame}-byte limit`, this.streamOffset);
        this.chunks = [];
        this.buffered = 0;
        break;
      }
      if (this.buffered < FRAME_HEADER_BYTES + length) break;
      this.take(FRAME_HEADER_BYTES);
      const raw = this.take(length);
      const offset = this.streamOffset;
      this.streamOffset += FRAME_HEADER_BYTES + length;
      frames.push(this.frame(offset, flags, raw));
    }
    return frames;
  }

  /** Call at the end of the stream: reports a frame cut short (its bytes are not returned as a frame). */
  finish(): DecodeIssue | undefined {
    if (this.error) return this.error;
    if (this.buffered === 0) return undefined;
    if (this.buffered < FRAME_HEADER_BYTES) {
      this.error = issue('truncated', `stream ends inside a frame header (${this.buffered} of 5 bytes)`, this.streamOffset);
    } else {
      const h = this.peek(FRAME_HEADER_BYTES);
      const length = ((h[1]! << 24) | (h[2]! << 16) | (h[3]! << 8) | h[4]!) >>> 0;
      this.error = issue('truncated', `frame declares ${length} payload bytes but the stream ends after ${this.buffered - FRAME_HEADER_BYTES}`, this.streamOffset);
    }
    return this.error;
  }

  /** The bytes of an unfinished frame (for showing what arrived of a cut stream). */
  pendingBytes(): Uint8Array {
    return this.peek(this.buffered);
  }

  private frame(offset: number, flags: number, raw: Uint8Array): Frame {
    const compressed = (flags & 0x01) !== 0;
    if (!compressed) return { offset, flags, length: raw.length, payload: raw, compressed };
    const inflated = inflatePayload(raw, this.encoding ?? 'gzip', this.maxInflated, offset + FRAME_HEADER_BYTES);
    if (inflated.error) return { offset, flags, length: raw.length, payload: raw, compressed, error: inflated.error };
    return { offset, flags, length: raw.length, payload: inflated.bytes, compressed };
  }

  private peek(n: number): Uint8Array {
    const first = this.chunks[0];
    if (first && first.length >= n) return first.subarray(0, n);
    const out = new Uint8Array(n);
    let o = 0;
    for (const c of this.chunks) {
      const k = Math.min(c.length, n - o);
      out.set(c.subarray(0, k), o);
      o += k;
      if (o === n) break;
    }
    return out;
  }

  private take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let o = 0;
    while (o < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - o);
      out.set(c.subarray(0, k), o);
      o += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.buffered -= n;
    return out;
  }
}

/** Inflates a compressed message payload, never beyond `maxBytes`. */
export function inflatePayload(raw: Uint8Array, encoding: string, maxBytes: number, offset: number): { bytes: Uint8Array; error?: DecodeIssue } {
  const enc = encoding.trim().toLowerCase();
  try {
    const opts = { maxOutputLength: maxBytes };
    if (enc === 'gzip' || enc === 'x-gzip') return { bytes: gunzipSync(raw, opts) };
    if (enc === 'deflate') return { bytes: inflateSync(raw, opts) };
    if (enc === 'br') return { bytes: brotliDecompressSync(raw, opts) };
    if (enc === 'identity' || enc === '') return { bytes: raw };
    return { bytes: raw, error: issue('unsupported-encoding', `compressed frame uses "${encoding}", which agenttap cannot inflate`, offset) };
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_BUFFER_TOO_LARGE' || /too large|exceeds/i.test(err.message)) {
      return { bytes: raw, error: issue('inflate-limit', `compressed frame inflates beyond the ${maxBytes}-byte limit`, offset) };
    }
    return { bytes: raw, error: issue('inflate-failed', `compressed frame does not inflate as ${enc} (${err.message})`, offset) };
  }
}

/** Wraps a payload in a 5-byte envelope. */
export function encodeFrame(payload: Uint8Array, flags = 0): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  out[0] = flags;
  new DataView(out.buffer).setUint32(1, payload.length);
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

/**
 * True when the bytes read as a sequence of envelopes: every header's flags byte is one the known
 * protocols use, every declared length fits, and the frames cover the buffer exactly.
 */
export function looksLikeFrames(bytes: Uint8Array, allowedFlags: readonly number[] = [0x00, 0x01, 0x02, 0x03, 0x80, 0x81]): boolean {
  let pos = 0;
  let count = 0;
  while (pos < bytes.length) {
    if (bytes.length - pos < FRAME_HEADER_BYTES) return false;
    if (!allowedFlags.includes(bytes[pos]!)) return false;
    const length = ((bytes[pos + 1]! << 24) | (bytes[pos + 2]! << 16) | (bytes[pos + 3]! << 8) | bytes[pos + 4]!) >>> 0;
    pos += FRAME_HEADER_BYTES + length;
    if (pos > bytes.length) return false;
    count++;
  }
  return count > 0;
}
