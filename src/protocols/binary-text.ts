// Bytes written as text: hex (as pasted from mitmproxy, xxd -p or a debugger) and base64 (standard
// or URL-safe, padded or not, and the concatenated padded groups of grpc-web-text). Both parsers keep
// the bytes decoded before a bad character and name its offset instead of throwing.
import { issue, type DecodeIssue } from './decode-issue.js';

export interface TextBytes {
  bytes: Uint8Array;
  error?: DecodeIssue;
}

const HEX_SEPARATORS = /[\s:,]/;

/** Parses hex text; whitespace, `:` and `,` separators and a leading `0x` are ignored. */
export function parseHex(text: string): TextBytes {
  const out = new Uint8Array(text.length >>> 1);
  let n = 0;
  let high = -1;
  let highAt = 0;
  let start = 0;
  const trimmed = text.trimStart();
  if (/^0x/i.test(trimmed)) start = text.length - trimmed.length + 2;
  for (let i = start; i < text.length; i++) {
    const c = text[i]!;
    if (HEX_SEPARATORS.test(c)) continue;
    const v = hexValue(c.charCodeAt(0));
    if (v < 0) return { bytes: out.slice(0, n), error: issue('invalid-hex', `invalid hex character ${JSON.stringify(c)}`, i) };
    if (high < 0) {
      high = v;
      highAt = i;
    } else {
      out[n++] = (high << 4) | v;
      high = -1;
    }
  }
  if (high >= 0) return { bytes: out.slice(0, n), error: issue('invalid-hex', 'odd number of hex digits (last digit has no pair)', highAt) };
  return { bytes: out.slice(0, n) };
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

const B64 = new Int16Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i)] = i;
B64['-'.charCodeAt(0)] = 62;
B64['_'.charCodeAt(0)] = 63;

/**
 * Incremental base64 decoder: feed text in any pieces (a quantum may be split between chunks), get
 * bytes as soon as they are complete. Offsets in errors count characters from the first chunk.
 */
export class Base64Decoder {
  private quantum = [0, 0, 0, 0];
  private n = 0;
  private padsLeft = 0;
  private seen = 0;
  error: DecodeIssue | undefined;

  push(text: string): Uint8Array {
    if (this.error) return new Uint8Array(0);
    const out = new Uint8Array(Math.ceil((text.length + 4) * 3 / 4));
    let o = 0;
    for (let i = 0; i < text.length; i++, this.seen++) {
      const code = text.charCodeAt(i);
      if (code === 32 || code === 9 || code === 10 || code === 13) continue;
      if (code === 61) {
        // '=': ends the current quantum (2 or 3 sextets), or is the second pad of a 2-sextet quantum.
        if (this.padsLeft > 0) {
          this.padsLeft--;
          continue;
        }
        if (this.n === 2) {
          out[o++] = (this.quantum[0]! << 2) | (this.quantum[1]! >> 4);
          this.padsLeft = 1;
        } else if (this.n === 3) {
          out[o++] = (this.quantum[0]! << 2) | (this.quantum[1]! >> 4);
          out[o++] = ((this.quantum[1]! & 15) << 4) | (this.quantum[2]! >> 2);
        } else {
          this.error = issue('invalid-base64', 'misplaced base64 padding "="', this.seen);
          this.seen++;
          return out.slice(0, o);
        }
        this.n = 0;
        continue;
      }
      const v = code < 128 ? B64[code]! : -1;
      if (v < 0) {
        this.error = issue('invalid-base64', `invalid base64 character ${JSON.stringify(text[i])}`, this.seen);
        this.seen++;
        // Keep the whole bytes of the unfinished group too: partial results are the point.
        const q = this.quantum;
        if (this.n >= 2) out[o++] = (q[0]! << 2) | (q[1]! >> 4);
        if (this.n === 3) out[o++] = ((q[1]! & 15) << 4) | (q[2]! >> 2);
        this.n = 0;
        return out.slice(0, o);
      }
      this.padsLeft = 0;
      this.quantum[this.n++] = v;
      if (this.n === 4) {
        const [a, b, c, d] = this.quantum as [number, number, number, number];
        out[o++] = (a << 2) | (b >> 4);
        out[o++] = ((b & 15) << 4) | (c >> 2);
        out[o++] = ((c & 3) << 6) | d;
        this.n = 0;
      }
    }
    return out.slice(0, o);
  }

  /** Flushes an unpadded last quantum; a lone leftover character is an error. */
  finish(): Uint8Array {
    if (this.error) return new Uint8Array(0);
    const q = this.quantum;
    const n = this.n;
    this.n = 0;
    if (n === 0) return new Uint8Array(0);
    if (n === 1) {
      this.error = issue('invalid-base64', 'base64 text ends with a single character of a 4-character group', this.seen - 1);
      return new Uint8Array(0);
    }
    if (n === 2) return Uint8Array.of((q[0]! << 2) | (q[1]! >> 4));
    return Uint8Array.of((q[0]! << 2) | (q[1]! >> 4), ((q[1]! & 15) << 4) | (q[2]! >> 2));
  }
}

/** Parses base64 text (standard or URL-safe alphabet, padding optional, whitespace ignored). */
export function parseBase64(text: string): TextBytes {
  const d = new Base64Decoder();
  const head = d.push(text);
  const tail = d.finish();
  const bytes = tail.length ? concatBytes([head, tail]) : head;
  return d.error ? { bytes, error: d.error } : { bytes };
}

export type TextEncoding = 'hex' | 'base64';

/** Guesses whether pasted text is hex or base64: hex when it is only hex digits (even count). */
export function detectTextEncoding(text: string): TextEncoding {
  const t = text.trim().replace(/^0x/i, '');
  const digits = t.replace(/[\s:,]/g, '');
  if (digits.length > 0 && digits.length % 2 === 0 && /^[0-9a-fA-F]+$/.test(digits)) return 'hex';
  return 'base64';
}

/** Parses text as hex or base64, whichever `detectTextEncoding` picks. */
export function parseBinaryText(text: string): TextBytes & { encoding: TextEncoding } {
  const encoding = detectTextEncoding(text);
  return { ...(encoding === 'hex' ? parseHex(text) : parseBase64(text)), encoding };
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export function toHex(bytes: Uint8Array, max = Infinity): string {
  const n = Math.min(bytes.length, max);
  return Buffer.from(bytes.buffer, bytes.byteOffset, n).toString('hex');
}
