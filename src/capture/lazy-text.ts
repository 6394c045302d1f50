// Big text bodies kept as their UTF-8 bytes until someone reads them. A record body's `text` is
// then a getter that decodes on first use; the capture writer never calls it: it JSON-escapes the
// bytes straight into the line. So a 10 MB request or response passes through the proxy without
// becoming a 10 MB JavaScript string (and a second copy inside a JSON string) that would sit in
// the V8 heap until the next major GC.
import { isUtf8 } from 'node:buffer';
import type { RecordBody } from './record.js';

/** Text bodies at least this big stay bytes; smaller ones are plain strings (cheaper to handle). */
export const LAZY_TEXT_MIN = 256 * 1024;

const partsOf = new WeakMap<RecordBody, Buffer[]>();

/**
 * A record body whose `text` is decoded from `parts` (valid UTF-8, in order) when first read.
 * The property is enumerable, so spreads and JSON.stringify see it like a plain one, and
 * configurable, so the metadata tier can delete it.
 */
export function lazyTextBody(parts: Buffer[], rest: Omit<RecordBody, 'text' | 'base64'>): RecordBody {
  const body = {} as RecordBody;
  let text: string | undefined;
  Object.defineProperty(body, 'text', {
    enumerable: true,
    configurable: true,
    get: () => (text ??= parts.length === 1 ? parts[0]!.toString('utf8') : Buffer.concat(parts).toString('utf8')),
    set: (v: string) => {
      // Someone replaced the text (a redaction pass): it is a plain value from now on.
      Object.defineProperty(body, 'text', { value: v, enumerable: true, configurable: true, writable: true });
      partsOf.delete(body);
    },
  });
  Object.assign(body, rest);
  partsOf.set(body, parts);
  return body;
}

/** The UTF-8 bytes behind a lazy body's text (undefined for plain bodies, or once the text was deleted). */
export function utf8PartsOf(body: RecordBody): Buffer[] | undefined {
  const parts = partsOf.get(body);
  return parts && Object.prototype.hasOwnProperty.call(body, 'text') ? parts : undefined;
}

/** Whether the chunks, joined, are valid UTF-8 (checked chunk by chunk, no joined copy). */
export function isUtf8Parts(parts: readonly Buffer[]): boolean {
  let carry: Buffer | undefined;
  for (const part of parts) {
    let c = part;
    if (carry) {
      // Complete the character cut at the previous boundary with this chunk's first bytes.
      const need = sequenceLength(carry[0]!) - carry.length;
      if (need > c.length) {
        carry = Buffer.concat([carry, c]);
        continue;
      }
      if (!isUtf8(Buffer.concat([carry, c.subarray(0, need)]))) return false;
      c = c.subarray(need);
      carry = undefined;
    }
    const cut = incompleteTail(c);
    if (!isUtf8(cut === c.length ? c : c.subarray(0, cut))) return false;
    if (cut < c.length) carry = Buffer.from(c.subarray(cut));
  }
  return carry === undefined;
}

/** Bytes in the sequence a lead byte starts (1 for ASCII and for invalid leads: isUtf8 judges those). */
function sequenceLength(lead: number): number {
  if (lead >= 0xf0 && lead <= 0xf4) return 4;
  if (lead >= 0xe0) return lead <= 0xef ? 3 : 1;
  if (lead >= 0xc2) return 2;
  return 1;
}

/** Where a multi-byte character cut off by the end of `b` starts (b.length when none is). */
function incompleteTail(b: Buffer): number {
  for (let back = 1; back <= 3 && back <= b.length; back++) {
    const x = b[b.length - back]!;
    if ((x & 0xc0) === 0x80) continue; // continuation byte: look further back
    return sequenceLength(x) > back ? b.length - back : b.length;
  }
  return b.length;
}

// JSON.stringify's escapes for the bytes below 0x20, '"' and '\'; every other byte of valid
// UTF-8 is copied as is (valid UTF-8 holds no lone surrogates, the only other thing it escapes).
const ESCAPE: (string | undefined)[] = Array.from({ length: 0x60 }, (_, i) => {
  if (i === 0x22) return '\\"';
  if (i === 0x5c) return '\\\\';
  if (i >= 0x20) return undefined;
  const short: Record<number, string> = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' };
  return short[i] ?? `\\u${i.toString(16).padStart(4, '0')}`;
});

/** Length in bytes of the parts' text as a JSON string body (without the quotes). */
export function escapedJsonLength(parts: readonly Buffer[]): number {
  let n = 0;
  for (const p of parts) {
    n += p.length;
    for (let i = 0; i < p.length; i++) {
      const x = p[i]!;
      if (x < 0x20 || x === 0x22 || x === 0x5c) n += ESCAPE[x]!.length - 1;
    }
  }
  return n;
}

/** Writes the parts' text, JSON-escaped (no quotes), into `out` at `off`; returns the new offset. */
export function writeEscapedJson(parts: readonly Buffer[], out: Buffer, off: number): number {
  for (const p of parts) {
    let run = 0;
    for (let i = 0; i < p.length; i++) {
      const x = p[i]!;
      if (x >= 0x20 && x !== 0x22 && x !== 0x5c) continue;
      if (i > run) off += p.copy(out, off, run, i);
      off += out.write(ESCAPE[x]!, off, 'latin1');
      run = i + 1;
    }
    if (p.length > run) off += p.copy(out, off, run, p.length);
  }
  return off;
}
