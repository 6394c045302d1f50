// HPACK (RFC 7541): header compression for the raw-socket HTTP/2 path (h2-wire.ts). Every request
// and response crosses it, so it is written for speed: one pass over the block, no regexes, no
// closures or per-field allocations beyond the strings themselves, and a table-driven Huffman
// decoder. Header strings are latin1: each byte is one char, so bytes survive both ways unchanged.
//
// Strict by design: anything malformed throws HpackError (the connection then ends with
// COMPRESSION_ERROR). HPACK is stateful, so after an error a decoder is unusable. Field *semantics*
// (upper-case names, pseudo-header order, connection headers) are HTTP/2's job, not this module's.

/** A malformed header block; the HTTP/2 connection must end with COMPRESSION_ERROR. */
export class HpackError extends Error {
  readonly code = 'COMPRESSION_ERROR';
  constructor(message: string) {
    super(message);
    this.name = 'HpackError';
  }
}

const DEFAULT_TABLE_SIZE = 4096;
const DEFAULT_MAX_HEADER_LIST_SIZE = 256 * 1024;
const ENTRY_OVERHEAD = 32;
const MAX_INT = 0x7fffffff;
/** Largest dynamic table our encoder keeps, however large the peer allows (RFC 7541 4.2 lets the
 * encoder use less than the peer's limit); bounds memory per connection. */
const ENCODER_MAX_TABLE_SIZE = 64 * 1024;

// ---- Static table (RFC 7541 Appendix A); index 0 is unused. ----

const STATIC: readonly (readonly [string, string])[] = [
  ['', ''],
  [':authority', ''],
  [':method', 'GET'],
  [':method', 'POST'],
  [':path', '/'],
  [':path', '/index.html'],
  [':scheme', 'http'],
  [':scheme', 'https'],
  [':status', '200'],
  [':status', '204'],
  [':status', '206'],
  [':status', '304'],
  [':status', '400'],
  [':status', '404'],
  [':status', '500'],
  ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'],
  ['accept-language', ''],
  ['accept-ranges', ''],
  ['accept', ''],
  ['access-control-allow-origin', ''],
  ['age', ''],
  ['allow', ''],
  ['authorization', ''],
  ['cache-control', ''],
  ['content-disposition', ''],
  ['content-encoding', ''],
  ['content-language', ''],
  ['content-length', ''],
  ['content-location', ''],
  ['content-range', ''],
  ['content-type', ''],
  ['cookie', ''],
  ['date', ''],
  ['etag', ''],
  ['expect', ''],
  ['expires', ''],
  ['from', ''],
  ['host', ''],
  ['if-match', ''],
  ['if-modified-since', ''],
  ['if-none-match', ''],
  ['if-range', ''],
  ['if-unmodified-since', ''],
  ['last-modified', ''],
  ['link', ''],
  ['location', ''],
  ['max-forwards', ''],
  ['proxy-authenticate', ''],
  ['proxy-authorization', ''],
  ['range', ''],
  ['referer', ''],
  ['refresh', ''],
  ['retry-after', ''],
  ['server', ''],
  ['set-cookie', ''],
  ['strict-transport-security', ''],
  ['transfer-encoding', ''],
  ['user-agent', ''],
  ['vary', ''],
  ['via', ''],
  ['www-authenticate', ''],
];
const STATIC_COUNT = 61;
const STATIC_NAMES: readonly string[] = STATIC.map((e) => e[0]);
const STATIC_VALUES: readonly string[] = STATIC.map((e) => e[1]);
/** For the encoder: the entries of one name, in the static or the dynamic table. */
interface NameEntries {
  /** Static table: the name's first index. Dynamic table: id of the newest entry with the name. */
  index: number;
  /** value → static index, or id of the newest dynamic entry with that value. */
  values: Map<string, number>;
}
// Two-level lookups (name, then value) rather than one map keyed by `name + '\0' + value`: no key
// string to build, flatten and hash per field, and a miss on an unknown name costs one lookup.
const STATIC_BY_NAME = new Map<string, NameEntries>();
for (let i = STATIC_COUNT; i >= 1; i--) {
  let entries = STATIC_BY_NAME.get(STATIC_NAMES[i]!);
  if (entries === undefined) STATIC_BY_NAME.set(STATIC_NAMES[i]!, (entries = { index: i, values: new Map() }));
  entries.index = i;
  entries.values.set(STATIC_VALUES[i]!, i);
}

/** A static table entry as [name, value] (1-based, RFC 7541 Appendix A); for tests and tools. */
export function staticEntry(index: number): readonly [string, string] | undefined {
  return index >= 1 && index <= STATIC_COUNT ? STATIC[index] : undefined;
}

// ---- Huffman code (RFC 7541 Appendix B): [code, bit length] for symbols 0-255 and EOS (256). ----
// Transcribed from the RFC's table. It is a canonical code (codes ascend with (length, symbol)) and
// complete (Kraft sum exactly 1); test/engine/hpack.test.ts checks both and round-trips every byte.

export const HUFFMAN_CODES: readonly number[] = [
  0x1ff8, 13, 0x7fffd8, 23, 0xfffffe2, 28, 0xfffffe3, 28, 0xfffffe4, 28, 0xfffffe5, 28, 0xfffffe6, 28, 0xfffffe7, 28, // 0-7
  0xfffffe8, 28, 0xffffea, 24, 0x3ffffffc, 30, 0xfffffe9, 28, 0xfffffea, 28, 0x3ffffffd, 30, 0xfffffeb, 28, 0xfffffec, 28, // 8-15
  0xfffffed, 28, 0xfffffee, 28, 0xfffffef, 28, 0xffffff0, 28, 0xffffff1, 28, 0xffffff2, 28, 0x3ffffffe, 30, 0xffffff3, 28, // 16-23
  0xffffff4, 28, 0xffffff5, 28, 0xffffff6, 28, 0xffffff7, 28, 0xffffff8, 28, 0xffffff9, 28, 0xffffffa, 28, 0xffffffb, 28, // 24-31
  0x14, 6, 0x3f8, 10, 0x3f9, 10, 0xffa, 12, 0x1ff9, 13, 0x15, 6, 0xf8, 8, 0x7fa, 11, // 32-39
  0x3fa, 10, 0x3fb, 10, 0xf9, 8, 0x7fb, 11, 0xfa, 8, 0x16, 6, 0x17, 6, 0x18, 6, // 40-47
  0x0, 5, 0x1, 5, 0x2, 5, 0x19, 6, 0x1a, 6, 0x1b, 6, 0x1c, 6, 0x1d, 6, // 48-55
  0x1e, 6, 0x1f, 6, 0x5c, 7, 0xfb, 8, 0x7ffc, 15, 0x20, 6, 0xffb, 12, 0x3fc, 10, // 56-63
  0x1ffa, 13, 0x21, 6, 0x5d, 7, 0x5e, 7, 0x5f, 7, 0x60, 7, 0x61, 7, 0x62, 7, // 64-71
  0x63, 7, 0x64, 7, 0x65, 7, 0x66, 7, 0x67, 7, 0x68, 7, 0x69, 7, 0x6a, 7, // 72-79
  0x6b, 7, 0x6c, 7, 0x6d, 7, 0x6e, 7, 0x6f, 7, 0x70, 7, 0x71, 7, 0x72, 7, // 80-87
  0xfc, 8, 0x73, 7, 0xfd, 8, 0x1ffb, 13, 0x7fff0, 19, 0x1ffc, 13, 0x3ffc, 14, 0x22, 6, // 88-95
  0x7ffd, 15, 0x3, 5, 0x23, 6, 0x4, 5, 0x24, 6, 0x5, 5, 0x25, 6, 0x26, 6, // 96-103
  0x27, 6, 0x6, 5, 0x74, 7, 0x75, 7, 0x28, 6, 0x29, 6, 0x2a, 6, 0x7, 5, // 104-111
  0x2b, 6, 0x76, 7, 0x2c, 6, 0x8, 5, 0x9, 5, 0x2d, 6, 0x77, 7, 0x78, 7, // 112-119
  0x79, 7, 0x7a, 7, 0x7b, 7, 0x7ffe, 15, 0x7fc, 11, 0x3ffd, 14, 0x1ffd, 13, 0xffffffc, 28, // 120-127
  0xfffe6, 20, 0x3fffd2, 22, 0xfffe7, 20, 0xfffe8, 20, 0x3fffd3, 22, 0x3fffd4, 22, 0x3fffd5, 22, 0x7fffd9, 23, // 128-135
  0x3fffd6, 22, 0x7fffda, 23, 0x7fffdb, 23, 0x7fffdc, 23, 0x7fffdd, 23, 0x7fffde, 23, 0xffffeb, 24, 0x7fffdf, 23, // 136-143
  0xffffec, 24, 0xffffed, 24, 0x3fffd7, 22, 0x7fffe0, 23, 0xffffee, 24, 0x7fffe1, 23, 0x7fffe2, 23, 0x7fffe3, 23, // 144-151
  0x7fffe4, 23, 0x1fffdc, 21, 0x3fffd8, 22, 0x7fffe5, 23, 0x3fffd9, 22, 0x7fffe6, 23, 0x7fffe7, 23, 0xffffef, 24, // 152-159
  0x3fffda, 22, 0x1fffdd, 21, 0xfffe9, 20, 0x3fffdb, 22, 0x3fffdc, 22, 0x7fffe8, 23, 0x7fffe9, 23, 0x1fffde, 21, // 160-167
  0x7fffea, 23, 0x3fffdd, 22, 0x3fffde, 22, 0xfffff0, 24, 0x1fffdf, 21, 0x3fffdf, 22, 0x7fffeb, 23, 0x7fffec, 23, // 168-175
  0x1fffe0, 21, 0x1fffe1, 21, 0x3fffe0, 22, 0x1fffe2, 21, 0x7fffed, 23, 0x3fffe1, 22, 0x7fffee, 23, 0x7fffef, 23, // 176-183
  0xfffea, 20, 0x3fffe2, 22, 0x3fffe3, 22, 0x3fffe4, 22, 0x7ffff0, 23, 0x3fffe5, 22, 0x3fffe6, 22, 0x7ffff1, 23, // 184-191
  0x3ffffe0, 26, 0x3ffffe1, 26, 0xfffeb, 20, 0x7fff1, 19, 0x3fffe7, 22, 0x7ffff2, 23, 0x3fffe8, 22, 0x1ffffec, 25, // 192-199
  0x3ffffe2, 26, 0x3ffffe3, 26, 0x3ffffe4, 26, 0x7ffffde, 27, 0x7ffffdf, 27, 0x3ffffe5, 26, 0xfffff1, 24, 0x1ffffed, 25, // 200-207
  0x7fff2, 19, 0x1fffe3, 21, 0x3ffffe6, 26, 0x7ffffe0, 27, 0x7ffffe1, 27, 0x3ffffe7, 26, 0x7ffffe2, 27, 0xfffff2, 24, // 208-215
  0x1fffe4, 21, 0x1fffe5, 21, 0x3ffffe8, 26, 0x3ffffe9, 26, 0xffffffd, 28, 0x7ffffe3, 27, 0x7ffffe4, 27, 0x7ffffe5, 27, // 216-223
  0xfffec, 20, 0xfffff3, 24, 0xfffed, 20, 0x1fffe6, 21, 0x3fffe9, 22, 0x1fffe7, 21, 0x1fffe8, 21, 0x7ffff3, 23, // 224-231
  0x3fffea, 22, 0x3fffeb, 22, 0x1ffffee, 25, 0x1ffffef, 25, 0xfffff4, 24, 0xfffff5, 24, 0x3ffffea, 26, 0x7ffff4, 23, // 232-239
  0x3ffffeb, 26, 0x7ffffe6, 27, 0x3ffffec, 26, 0x3ffffed, 26, 0x7ffffe7, 27, 0x7ffffe8, 27, 0x7ffffe9, 27, 0x7ffffea, 27, // 240-247
  0x7ffffeb, 27, 0xffffffe, 28, 0x7ffffec, 27, 0x7ffffed, 27, 0x7ffffee, 27, 0x7ffffef, 27, 0x7fffff0, 27, 0x3ffffee, 26, // 248-255
  0x3fffffff, 30, // 256-256
];

const EOS = 256;

// ---- Huffman decoding: a byte-at-a-time state machine. ----
// The code's 257 leaves hang off 256 internal tree nodes; a state is "the internal node reached by
// the bits read so far" (0 = root, between symbols). For every state and input byte one table entry
// gives the next state and the 0-2 symbols the 8 bits complete (codes are >= 5 bits), so decoding
// is one lookup per input byte. Built once, on first use (64K entries, a few milliseconds).
const HUFF_FAIL = 1 << 26; // the byte walks into EOS, which must never appear in a string
let huffTable: Uint32Array | undefined;
/** 1 for states where the string may end: the root, or all-ones padding of at most 7 bits. */
let huffAccept: Uint8Array | undefined;

function buildHuffmanDecoder(): void {
  const LEAF = 512;
  const kids = new Int32Array(512); // kids[node * 2 + bit]: internal node id, LEAF + symbol, or 0 (unset; root is never a child)
  let nodes = 1;
  for (let sym = 0; sym <= EOS; sym++) {
    const code = HUFFMAN_CODES[sym * 2]!;
    const len = HUFFMAN_CODES[sym * 2 + 1]!;
    let node = 0;
    for (let i = len - 1; i > 0; i--) {
      const k = node * 2 + ((code >>> i) & 1);
      if (kids[k] === 0) kids[k] = nodes++;
      node = kids[k]!;
    }
    kids[node * 2 + (code & 1)] = LEAF + sym;
  }
  const accept = new Uint8Array(256);
  accept[0] = 1;
  for (let node = 0, depth = 1; depth <= 7; depth++) {
    node = kids[node * 2 + 1]!;
    accept[node] = 1;
  }
  const table = new Uint32Array(256 * 256);
  for (let state = 0; state < 256; state++) {
    for (let byte = 0; byte < 256; byte++) {
      let node = state;
      let emitted = 0;
      let entry = 0;
      for (let bit = 7; bit >= 0; bit--) {
        const next = kids[node * 2 + ((byte >>> bit) & 1)]!;
        if (next < LEAF) {
          node = next;
          continue;
        }
        const sym = next - LEAF;
        if (sym === EOS) {
          entry = HUFF_FAIL;
          break;
        }
        entry |= sym << (emitted === 0 ? 8 : 16);
        emitted++;
        node = 0;
      }
      table[(state << 8) | byte] = entry === HUFF_FAIL ? HUFF_FAIL : entry | node | (emitted << 24);
    }
  }
  huffTable = table;
  huffAccept = accept;
}

// ---- Decoder ----

export interface HpackDecoderOptions {
  /**
   * Our SETTINGS_HEADER_TABLE_SIZE: the largest dynamic table the peer may ask for, and the size the
   * table starts at. Default 4096. Caution below 4096: until the peer has seen our SETTINGS it may
   * encode against the protocol's default 4096-byte table, so a smaller table here would evict entries
   * the peer still refers to (a larger one is always safe: it only keeps older entries longer).
   */
  maxTableSize?: number;
  /** Largest decoded header list, counted as RFC 7541 does (name + value + 32 per field). Default 256 KiB. */
  maxHeaderListSize?: number;
}

/**
 * Decodes the header blocks of one direction of one connection, in order. HPACK state is shared by
 * all blocks of the connection, so after any HpackError the decoder is unusable: every later
 * decode() throws too, and the connection must end with COMPRESSION_ERROR.
 */
/**
 * A dynamic table as a ring: newest entry at slot head - 1, oldest at head - count (mod
 * capacity), growing by doubling. Encoder and decoder keep the same table, each with its own index.
 */
abstract class EntryRing {
  protected used = 0;
  protected names: string[] = new Array<string>(32).fill('');
  protected values: string[] = new Array<string>(32).fill('');
  protected mask = 31;
  protected head = 0;
  protected count = 0;

  /** Entries in the dynamic table, newest first, as [name, value] pairs (for tests and inspection). */
  dynamicTable(): [string, string][] {
    const out: [string, string][] = [];
    for (let i = 1; i <= this.count; i++) {
      const slot = (this.head - i) & this.mask;
      out.push([this.names[slot]!, this.values[slot]!]);
    }
    return out;
  }

  /** Adds the newest entry (room already made by evicting). */
  protected pushEntry(name: string, value: string, size: number): void {
    if (this.count > this.mask) this.grow();
    this.names[this.head] = name;
    this.values[this.head] = value;
    this.head = (this.head + 1) & this.mask;
    this.count++;
    this.used += size;
  }

  /** The oldest entry's slot. */
  protected oldestSlot(): number {
    return (this.head - this.count) & this.mask;
  }

  private grow(): void {
    const cap = (this.mask + 1) * 2;
    const names = new Array<string>(cap).fill('');
    const values = new Array<string>(cap).fill('');
    for (let i = 0; i < this.count; i++) {
      const slot = (this.head - this.count + i) & this.mask;
      names[i] = this.names[slot]!;
      values[i] = this.values[slot]!;
    }
    this.names = names;
    this.values = values;
    this.mask = cap - 1;
    this.head = this.count & this.mask;
  }
}

export class HpackDecoder extends EntryRing {
  private readonly maxTableSize: number;
  private readonly maxHeaderListSize: number;
  /** The table size the peer's encoder has set (<= maxTableSize). */
  private tableSize: number;
  private pos = 0;
  private huffOut: Buffer = Buffer.allocUnsafe(256);
  private failure: string | undefined;
  private readonly neverIndexedNames: string[] = [];

  constructor(opts?: HpackDecoderOptions) {
    super();
    this.maxTableSize = checkSize(opts?.maxTableSize ?? DEFAULT_TABLE_SIZE, 'maxTableSize');
    this.maxHeaderListSize = checkSize(opts?.maxHeaderListSize ?? DEFAULT_MAX_HEADER_LIST_SIZE, 'maxHeaderListSize');
    this.tableSize = this.maxTableSize;
  }

  /** Bytes the dynamic table holds, as RFC 7541 counts them (name + value + 32 per entry). */
  get dynamicTableSize(): number {
    return this.used;
  }

  /**
   * Names of the fields the peer sent as never-indexed literals in the last decoded block (usually
   * none). An intermediary must forward those fields never-indexed too (RFC 7541 6.2.3): pass this
   * list as HpackEncoder.encode's `neverIndex`. Valid until the next decode().
   */
  get lastNeverIndexed(): readonly string[] {
    return this.neverIndexedNames;
  }

  /**
   * Decodes one complete header block (all CONTINUATION fragments already joined). Returns a flat
   * list [name, value, name, value, ...] in wire order. Throws HpackError on malformed input; the
   * decoder is unusable afterwards (see the class comment).
   */
  decode(block: Uint8Array): string[] {
    if (this.failure !== undefined) {
      throw new HpackError(`HPACK decoder unusable after an earlier error (${this.failure})`);
    }
    const buf = Buffer.isBuffer(block) ? block : Buffer.from(block.buffer, block.byteOffset, block.byteLength);
    try {
      return this.decodeBlock(buf);
    } catch (err) {
      this.failure = err instanceof Error ? err.message : String(err);
      throw err;
    }
  }

  private decodeBlock(buf: Buffer): string[] {
    const out: string[] = [];
    this.neverIndexedNames.length = 0;
    const end = buf.length;
    let listSize = 0;
    this.pos = 0;
    while (this.pos < end) {
      const start = this.pos;
      const b = buf[start]!;
      let name: string;
      let value: string;
      if (b & 0x80) {
        // Indexed field (6.1).
        const index = this.integer(buf, 7);
        if (index === 0) throw new HpackError(`HPACK: indexed field with index 0 at byte ${start}`);
        if (index <= STATIC_COUNT) {
          name = STATIC_NAMES[index]!;
          value = STATIC_VALUES[index]!;
        } else {
          const slot = this.dynamicSlot(index, start);
          name = this.names[slot]!;
          value = this.values[slot]!;
        }
      } else if (b & 0x40) {
        // Literal with incremental indexing (6.2.1).
        const index = this.integer(buf, 6);
        name = index === 0 ? this.string(buf) : this.nameAt(index, start);
        value = this.string(buf);
        this.insert(name, value);
      } else if (b & 0x20) {
        // Dynamic table size update (6.3): only before the first field of a block (4.2).
        if (out.length !== 0) {
          throw new HpackError(`HPACK: dynamic table size update after a header field at byte ${start}`);
        }
        const size = this.integer(buf, 5);
        if (size > this.maxTableSize) {
          throw new HpackError(
            `HPACK: dynamic table size update to ${size} exceeds the limit of ${this.maxTableSize} at byte ${start}`,
          );
        }
        this.tableSize = size;
        this.evictTo(size);
        continue;
      } else {
        // Literal without indexing (0000) or never indexed (0001) (6.2.2, 6.2.3): both a 4-bit prefix.
        const index = this.integer(buf, 4);
        name = index === 0 ? this.string(buf) : this.nameAt(index, start);
        value = this.string(buf);
        if (b & 0x10) this.neverIndexedNames.push(name);
      }
      listSize += name.length + value.length + ENTRY_OVERHEAD;
      if (listSize > this.maxHeaderListSize) {
        throw new HpackError(
          `HPACK: header list exceeds ${this.maxHeaderListSize} bytes (field ending at byte ${this.pos})`,
        );
      }
      out.push(name, value);
    }
    return out;
  }

  private dynamicSlot(index: number, at: number): number {
    const d = index - STATIC_COUNT;
    if (d > this.count) {
      throw new HpackError(
        `HPACK: index ${index} at byte ${at} is beyond the tables (61 static + ${this.count} dynamic entries)`,
      );
    }
    return (this.head - d) & this.mask;
  }

  private nameAt(index: number, at: number): string {
    return index <= STATIC_COUNT ? STATIC_NAMES[index]! : this.names[this.dynamicSlot(index, at)]!;
  }

  /** An integer with an N-bit prefix (5.1) at this.pos; at most 2^31 - 1. */
  private integer(buf: Buffer, prefixBits: number): number {
    const max = (1 << prefixBits) - 1;
    const start = this.pos;
    let p = start;
    let value = buf[p++]! & max;
    if (value < max) {
      this.pos = p;
      return value;
    }
    let scale = 1;
    for (let n = 0; ; n++) {
      if (p >= buf.length) throw new HpackError(`HPACK: truncated integer at byte ${start}`);
      if (n === 5) throw new HpackError(`HPACK: integer at byte ${start} has more than 5 continuation bytes`);
      const b = buf[p++]!;
      value += (b & 0x7f) * scale;
      if (value > MAX_INT) throw new HpackError(`HPACK: integer at byte ${start} exceeds 2^31 - 1`);
      if ((b & 0x80) === 0) break;
      scale *= 128;
    }
    this.pos = p;
    return value;
  }

  /** A string literal (5.2) at this.pos, raw or Huffman-coded. */
  private string(buf: Buffer): string {
    const start = this.pos;
    if (start >= buf.length) throw new HpackError(`HPACK: truncated block: string literal expected at byte ${start}`);
    const huffman = buf[start]! & 0x80;
    const len = this.integer(buf, 7);
    const from = this.pos;
    const to = from + len;
    if (to > buf.length) {
      throw new HpackError(
        `HPACK: truncated string at byte ${start}: length ${len}, only ${buf.length - from} bytes left in the block`,
      );
    }
    this.pos = to;
    if (huffman === 0) return latin1(buf, from, to);
    return this.huffman(buf, from, to, start);
  }

  private huffman(buf: Buffer, from: number, to: number, at: number): string {
    if (huffTable === undefined) buildHuffmanDecoder();
    const table = huffTable!;
    const need = Math.ceil(((to - from) * 8) / 5);
    if (this.huffOut.length < need) this.huffOut = Buffer.allocUnsafe(Math.max(need, this.huffOut.length * 2));
    const out = this.huffOut;
    let o = 0;
    let state = 0;
    for (let i = from; i < to; i++) {
      const e = table[(state << 8) | buf[i]!]!;
      if (e & HUFF_FAIL) throw new HpackError(`HPACK: Huffman string at byte ${at} contains EOS`);
      const n = (e >>> 24) & 3;
      if (n !== 0) {
        out[o++] = (e >>> 8) & 0xff;
        if (n === 2) out[o++] = (e >>> 16) & 0xff;
      }
      state = e & 0xff;
    }
    if (huffAccept![state] === 0) {
      throw new HpackError(
        `HPACK: Huffman string at byte ${at} ends in invalid padding (more than 7 bits, or not all ones)`,
      );
    }
    return latin1(out, 0, o);
  }

  private insert(name: string, value: string): void {
    const size = name.length + value.length + ENTRY_OVERHEAD;
    if (size > this.tableSize) {
      // 4.4: an entry larger than the table empties it and is not added.
      this.evictTo(0);
      return;
    }
    this.evictTo(this.tableSize - size);
    this.pushEntry(name, value, size);
  }

  /** Evicts oldest entries until the table holds at most `limit` bytes. */
  private evictTo(limit: number): void {
    while (this.used > limit) {
      const slot = this.oldestSlot();
      this.used -= this.names[slot]!.length + this.values[slot]!.length + ENTRY_OVERHEAD;
      this.names[slot] = '';
      this.values[slot] = '';
      this.count--;
    }
  }
}

// ---- Encoder ----

/** Credentials, always sent as never-indexed literals (see HpackEncoder). */
const NEVER_INDEXED: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'set-cookie',
  'x-api-key',
  'x-goog-api-key',
  'api-key',
]);

/**
 * Encodes the header blocks of one direction of one connection, in order; its dynamic table mirrors
 * exactly the one the peer's decoder builds from our blocks. Policy:
 * - an exact (name, value) match in the static or dynamic table is sent as an indexed field (1 byte, usually);
 * - otherwise a literal with incremental indexing (so the next request's copy is 1 byte), naming the
 *   field by index when its name is in a table;
 * - credentials (`authorization`, `proxy-authorization`, `set-cookie`, `cookie` values under 20 bytes,
 *   which are guessable, and the LLM APIs' key headers `x-api-key`, `x-goog-api-key`, `api-key`) go as
 *   never-indexed literals (RFC 7541 7.1): an attacker who can put headers on the same connection
 *   cannot probe the table for them by watching block sizes, and intermediaries must keep them out of
 *   their tables too. So do the fields named in encode()'s `neverIndex` (what the peer we relay for
 *   sent never-indexed);
 * - a field larger than half the table goes without indexing: inserting it would flush most of the
 *   table for an entry unlikely to repeat;
 * - no Huffman: on the proxy's loopback and LAN hops CPU matters more than the bytes, and indexing
 *   already removes the repeats.
 * Header strings must be latin1 (one char per byte), names already lower-case.
 */
export class HpackEncoder extends EntryRing {
  /** The table size in effect for the peer's decoder (after our last size update). */
  private tableSize = DEFAULT_TABLE_SIZE;
  /** Size changes not yet signalled: smallest since the last block, and final (-1: none). */
  private pendingMin = -1;
  private pendingFinal = -1;
  // Entries are numbered by insertion order: the n-th insertion ever has id n, so the newest has
  // id inserted - 1 and HPACK index 61 + inserted - id.
  private inserted = 0;
  /** Dynamic entries by name: id of the newest with that name, and value → id of the newest with that value. */
  private readonly byName = new Map<string, NameEntries>();
  private out: Buffer = Buffer.allocUnsafe(4096);
  private len = 0;

  /**
   * The peer's SETTINGS_HEADER_TABLE_SIZE; the next block starts with a dynamic table size update when
   * it changed (RFC 7541 4.2, 6.3). Default 4096. We use at most 64 KiB, whatever the peer allows.
   */
  setPeerMaxTableSize(n: number): void {
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
      throw new RangeError(`HPACK: peer table size must be an integer from 0 to 2^32 - 1, got ${n}`);
    }
    const size = Math.min(n, ENCODER_MAX_TABLE_SIZE);
    // 4.2: when the size changes more than once between blocks, signal the smallest, then the final.
    this.pendingMin = this.pendingFinal < 0 ? size : Math.min(this.pendingMin, size);
    this.pendingFinal = size;
    if (this.pendingMin === this.tableSize && this.pendingFinal === this.tableSize) {
      this.pendingMin = this.pendingFinal = -1;
    }
  }

  /**
   * Encodes a flat [name, value, ...] list (names lower-case, pseudo-headers first) as one header
   * block. Fields whose name is in `neverIndex` go as never-indexed literals (see HpackDecoder.lastNeverIndexed).
   */
  encode(headers: readonly string[], neverIndex?: readonly string[]): Buffer {
    if ((headers.length & 1) !== 0) {
      throw new TypeError(`HPACK: header list must be [name, value, ...] pairs, got ${headers.length} strings`);
    }
    const forced = neverIndex !== undefined && neverIndex.length !== 0 ? neverIndex : undefined;
    this.len = 0;
    if (this.pendingFinal >= 0) {
      this.ensure(16);
      if (this.pendingMin < this.pendingFinal) this.sizeUpdate(this.pendingMin);
      this.sizeUpdate(this.pendingFinal);
      this.pendingMin = this.pendingFinal = -1;
    }
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!;
      const value = headers[i + 1]!;
      this.ensure(name.length + value.length + 24);
      const inStatic = STATIC_BY_NAME.get(name);
      const inDynamic = this.byName.get(name);
      const nameIndex =
        inStatic !== undefined ? inStatic.index
        : inDynamic !== undefined ? STATIC_COUNT + this.inserted - inDynamic.index
        : 0;
      if (
        NEVER_INDEXED.has(name) ||
        (name === 'cookie' && value.length < 20) ||
        (forced !== undefined && forced.includes(name))
      ) {
        this.literal(0x10, 4, name, value, nameIndex);
        continue;
      }
      if (inStatic !== undefined) {
        const index = inStatic.values.get(value);
        if (index !== undefined) {
          this.integer(0x80, 7, index);
          continue;
        }
      }
      if (inDynamic !== undefined) {
        const id = inDynamic.values.get(value);
        if (id !== undefined) {
          this.integer(0x80, 7, STATIC_COUNT + this.inserted - id);
          continue;
        }
      }
      const size = name.length + value.length + ENTRY_OVERHEAD;
      if (size * 2 > this.tableSize) {
        this.literal(0x00, 4, name, value, nameIndex);
      } else {
        this.literal(0x40, 6, name, value, nameIndex);
        this.insert(name, value, size, inDynamic);
      }
    }
    const block = Buffer.allocUnsafe(this.len);
    this.out.copy(block, 0, 0, this.len);
    return block;
  }

  private sizeUpdate(size: number): void {
    this.integer(0x20, 5, size);
    this.tableSize = size;
    this.evictTo(size);
  }

  private literal(flags: number, prefixBits: number, name: string, value: string, nameIndex: number): void {
    this.integer(flags, prefixBits, nameIndex);
    if (nameIndex === 0) this.string(name);
    this.string(value);
  }

  private ensure(extra: number): void {
    if (this.len + extra <= this.out.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.out.length * 2, this.len + extra));
    this.out.copy(next, 0, 0, this.len);
    this.out = next;
  }

  /** An integer with an N-bit prefix (5.1); `flags` are the first byte's bits above the prefix. */
  private integer(flags: number, prefixBits: number, value: number): void {
    const out = this.out;
    const max = (1 << prefixBits) - 1;
    if (value < max) {
      out[this.len++] = flags | value;
      return;
    }
    out[this.len++] = flags | max;
    value -= max;
    while (value >= 128) {
      out[this.len++] = (value & 0x7f) | 0x80;
      value = Math.floor(value / 128);
    }
    out[this.len++] = value;
  }

  /** A raw (not Huffman-coded) string literal (5.2). */
  private string(s: string): void {
    const n = s.length;
    this.integer(0, 7, n);
    const out = this.out;
    let p = this.len;
    if (n < 32) {
      for (let i = 0; i < n; i++) out[p++] = s.charCodeAt(i);
    } else {
      p += hasLatin1Write ? (out as Latin1Buffer).latin1Write(s, p) : out.write(s, p, 'latin1');
    }
    this.len = p;
  }

  private insert(name: string, value: string, size: number, entries: NameEntries | undefined): void {
    this.evictTo(this.tableSize - size);
    const id = this.inserted++;
    this.pushEntry(name, value, size);
    // Eviction may have dropped the name's record (it held the name's only entry): look again.
    if (entries === undefined || this.byName.get(name) !== entries) {
      entries = { index: id, values: new Map() };
      this.byName.set(name, entries);
    }
    entries.index = id;
    entries.values.set(value, id);
  }

  /** Evicts oldest entries until the table holds at most `limit` bytes; the maps forget them. */
  private evictTo(limit: number): void {
    while (this.used > limit) {
      const slot = this.oldestSlot();
      const id = this.inserted - this.count;
      const name = this.names[slot]!;
      const value = this.values[slot]!;
      // Forget only what no newer entry has taken over. Entries leave oldest first, so when the
      // evicted one is the newest with its name it is the last with that name: drop the record.
      const entries = this.byName.get(name)!;
      if (entries.index === id) this.byName.delete(name);
      else if (entries.values.get(value) === id) entries.values.delete(value);
      this.used -= name.length + value.length + ENTRY_OVERHEAD;
      this.names[slot] = this.values[slot] = '';
      this.count--;
    }
  }
}

function checkSize(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) {
    throw new RangeError(`HPACK: ${what} must be an integer from 0 to 2^32 - 1, got ${n}`);
  }
  return n;
}

// Buffer's own latin1Slice / latin1Write (what toString('latin1') and write(s, at, 'latin1') end in,
// minus their argument handling: about a fifth of the decoder's time on Huffman-coded blocks).
// Present in Node 20-24; the public methods otherwise.
type Latin1Buffer = Buffer & { latin1Slice(from: number, to: number): string; latin1Write(s: string, at: number): number };
const hasLatin1Slice = typeof (Buffer.prototype as Partial<Latin1Buffer>).latin1Slice === 'function';
const hasLatin1Write = typeof (Buffer.prototype as Partial<Latin1Buffer>).latin1Write === 'function';

/** Bytes [from, to) as a latin1 string (one char per byte). */
function latin1(buf: Buffer, from: number, to: number): string {
  return hasLatin1Slice ? (buf as Latin1Buffer).latin1Slice(from, to) : buf.toString('latin1', from, to);
}
