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
const escapedOf = new WeakMap<RecordBody, Buffer[]>();

/**
 * A record body whose `text` is `decode()`d when first read, its bytes registered in `store`.
 * The property is enumerable, so spreads and JSON.stringify see it like a plain one, and
 * configurable, so the metadata tier can delete it.
 */
function lazyBody(decode: () => string, rest: Omit<RecordBody, 'text' | 'base64'>, store: WeakMap<RecordBody, Buffer[]>, bytes: Buffer[]): RecordBody {
  const body = {} as RecordBody;
  let text: string | undefined;
  Object.defineProperty(body, 'text', {
    enumerable: true,
    configurable: true,
    get: () => (text ??= decode()),
    set: (v: string) => {
      // Someone replaced the text (a redaction pass): it is a plain value from now on.
      Object.defineProperty(body, 'text', { value: v, enumerable: true, configurable: true, writable: true });
      store.delete(body);
    },
  });
  Object.assign(body, rest);
  store.set(body, bytes);
  return body;
}

/** A record body whose `text` is decoded from `parts` (valid UTF-8, in order) when first read. */
export function lazyTextBody(parts: Buffer[], rest: Omit<RecordBody, 'text' | 'base64'>): RecordBody {
  return lazyBody(() => (parts.length === 1 ? parts[0]! : Buffer.concat(parts)).toString('utf8'), rest, partsOf, parts);
}

/**
 * A record body whose text is held JSON-escaped (as it will appear in the capture line, without
 * the quotes), decoded when first read.
 */
export function lazyEscapedBody(escaped: Buffer[], rest: Omit<RecordBody, 'text' | 'base64'>): RecordBody {
  return lazyBody(() => JSON.parse(`"${Buffer.concat(escaped).toString('utf8')}"`) as string, rest, escapedOf, escaped);
}

/** The JSON-escaped text behind a lazy escaped body (undefined otherwise, or once the text was deleted). */
export function escapedTextOf(body: RecordBody): Buffer[] | undefined {
  const e = escapedOf.get(body);
  return e && Object.prototype.hasOwnProperty.call(body, 'text') ? e : undefined;
}

/** The UTF-8 bytes behind a lazy body's text (undefined for plain bodies, or once the text was deleted). */
export function utf8PartsOf(body: RecordBody): Buffer[] | undefined {
  const parts = partsOf.get(body);
  return parts && Object.prototype.hasOwnProperty.call(body, 'text') ? parts : undefined;
}

/** UTF-8 validity of a byte stream, fed chunk by chunk (a character may straddle two chunks). */
export class Utf8Check {
  private carry?: Buffer;
  private ok = true;

  /** False once the bytes so far cannot be valid UTF-8. */
  push(part: Buffer): boolean {
    if (!this.ok) return false;
    let c = part;
    if (this.carry) {
      // Complete the character cut at the previous boundary with this chunk's first bytes.
      const need = sequenceLength(this.carry[0]!) - this.carry.length;
      if (need > c.length) {
        this.carry = Buffer.concat([this.carry, c]);
        return true;
      }
      if (!isUtf8(Buffer.concat([this.carry, c.subarray(0, need)]))) return (this.ok = false);
      c = c.subarray(need);
      this.carry = undefined;
    }
    const cut = incompleteTail(c);
    if (!isUtf8(cut === c.length ? c : c.subarray(0, cut))) return (this.ok = false);
    if (cut < c.length) this.carry = Buffer.from(c.subarray(cut));
    return true;
  }

  /** Whether the whole stream was valid UTF-8 (no character left unfinished). */
  end(): boolean {
    return this.ok && this.carry === undefined;
  }
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

/**
 * The bytes JSON-escaped as in a JSON string (without the quotes), as a Latin-1 string: one
 * character per byte, so JSON.stringify escapes exactly the bytes below 0x20, '"' and '\\' and
 * leaves every other byte (the parts of UTF-8 characters included) as it is. Native code all
 * the way (Latin-1 decode, JSON.stringify's fast path), many times faster than a loop in JS.
 */
function escapedLatin1(bytes: Buffer): string {
  return JSON.stringify(bytes.toString('latin1')).slice(1, -1);
}

/** Segment size of an escaped body: big enough for few writev parts, small enough that freeing one
 * does not teach glibc to keep ten-megabyte holes (its mmap threshold follows the biggest block freed). */
const SEGMENT = 1 << 20;

/**
 * A big identity body JSON-escaped as it arrives, into 1 MB segments: the wire chunks can then die
 * young, and the capture line is written around the segments with no further copy.
 */
export class EscapedText {
  private readonly done: Buffer[] = [];
  private seg?: Buffer;
  private len = 0;
  private readonly utf8 = new Utf8Check();

  write(chunk: Buffer): void {
    this.utf8.push(chunk);
    const escaped = escapedLatin1(chunk);
    const need = escaped.length;
    if (need > SEGMENT / 2) {
      // A huge chunk (rare: sockets deliver 16–64 KB) gets a part of its own.
      this.close();
      this.done.push(Buffer.from(escaped, 'latin1'));
      return;
    }
    if (!this.seg || this.len + need > this.seg.length) {
      this.close();
      this.seg = Buffer.allocUnsafe(SEGMENT);
    }
    this.len += this.seg.write(escaped, this.len, 'latin1');
  }

  private close(): void {
    // A mostly empty last segment is copied out: a record someone keeps (the live UI) should not
    // hold a megabyte for a few hundred kilobytes of text.
    if (this.seg && this.len) this.done.push(this.len < SEGMENT / 2 ? Buffer.from(this.seg.subarray(0, this.len)) : this.seg.subarray(0, this.len));
    this.seg = undefined;
    this.len = 0;
  }

  /** The escaped text when the bytes were valid UTF-8; undefined for binary (then see raw()). */
  escaped(): Buffer[] | undefined {
    this.close();
    return this.utf8.end() ? this.done : undefined;
  }

  /** The bytes as they came (escaping undone): for binary bodies and bodies past the cap. */
  raw(): Buffer {
    this.close();
    return unescapeJson(this.done.length === 1 ? this.done[0]! : Buffer.concat(this.done));
  }
}

const UNESCAPE: Record<number, number> = { 0x22: 0x22, 0x5c: 0x5c, 0x2f: 0x2f, 0x62: 8, 0x74: 9, 0x6e: 10, 0x66: 12, 0x72: 13 };

/** Undoes escapedLatin1 byte for byte (JSON.stringify only writes the short escapes above and \u00XX). */
export function unescapeJson(escaped: Buffer): Buffer {
  const out = Buffer.allocUnsafe(escaped.length);
  let o = 0;
  let run = 0;
  for (let i = escaped.indexOf(0x5c); i >= 0 && i < escaped.length; i = escaped.indexOf(0x5c, run)) {
    o += escaped.copy(out, o, run, i);
    const e = escaped[i + 1]!;
    if (e === 0x75) {
      out[o++] = parseInt(escaped.toString('latin1', i + 2, i + 6), 16);
      run = i + 6;
    } else {
      out[o++] = UNESCAPE[e]!;
      run = i + 2;
    }
  }
  o += escaped.copy(out, o, run);
  return out.subarray(0, o);
}

/** The parts' text JSON-escaped (no quotes), as EscapedText segments: no string as big as the text. */
export function escapeJsonBytes(parts: readonly Buffer[]): Buffer[] {
  const e = new EscapedText();
  for (const p of parts) for (let at = 0; at < p.length; at += 64 * 1024) e.write(p.subarray(at, at + 64 * 1024));
  return e.escaped() ?? [];
}
