// Protobuf without a schema, the way `protoc --decode_raw` does it but stricter: every wire type is
// read with protobufjs' Reader; a length-delimited payload becomes a nested message only when it
// parses completely as one (tags valid, lengths in range, groups matched, plausible field numbers),
// and printable UTF-8 text stays a string unless its bytes clearly have message structure. Bytes
// that are neither get packed-varint/float hints. The result is plain data (JSON-safe: 64-bit values
// beyond 2^53 are decimal strings). Nothing throws: a problem ends the decoding of that level with
// an issue naming its offset, and everything decoded before it is kept.
import protobuf from 'protobufjs';
import { issue, type DecodeIssue } from './decode-issue.js';

const { Reader } = protobuf;
type ReaderT = InstanceType<typeof Reader>;

/** An integer as a number when exact, else as a decimal string. */
export type PbInt = number | string;

export type WireType = 0 | 1 | 2 | 3 | 5;

export type PbValue =
  | { kind: 'varint'; value: PbInt; /** two's-complement int64 when the value is >= 2^63 */ signed?: PbInt; /** zig-zag (sint) reading */ zigzag: PbInt }
  | { kind: 'fixed64'; value: PbInt; signed: PbInt; double: number }
  | { kind: 'fixed32'; value: number; signed: number; float: number }
  | { kind: 'string'; text: string }
  | { kind: 'message'; fields: PbField[] }
  | { kind: 'group'; fields: PbField[] }
  | { kind: 'bytes'; hex: string; packed?: PackedHints };

export interface PackedHints {
  varints?: PbInt[];
  floats?: number[];
  doubles?: number[];
}

export interface PbField {
  field: number;
  wire: WireType;
  /** Offset of the field's tag in the decoded buffer. */
  offset: number;
  /** Payload length of a length-delimited field. */
  size?: number;
  value: PbValue;
}

export interface PbDecodeResult {
  fields: PbField[];
  /** The first problem met; fields before it are kept. */
  error?: DecodeIssue;
  /** Set when nesting went deeper than `maxDepth` (the deeper payloads are left as bytes). */
  depthLimited?: DecodeIssue;
  bytesRead: number;
}

export interface PbDecodeOptions {
  /** Nested messages deeper than this stay bytes (default 48). */
  maxDepth?: number;
  /** Stop after this many fields in total (default 500 000), keeping what was decoded. */
  maxFields?: number;
  /** A guessed nested message may not use field numbers above this (default 65 535). */
  maxGuessFieldNumber?: number;
  /** Share of printable characters for a payload to read as text (default 0.85). */
  minPrintableRatio?: number;
}

interface Ctx {
  maxDepth: number;
  maxFields: number;
  maxGuess: number;
  minPrintable: number;
  count: number;
  depthLimited?: DecodeIssue;
  tooMany?: DecodeIssue;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes bytes as a protobuf message without a schema. Never throws. */
export function decodeProtobuf(bytes: Uint8Array, opts: PbDecodeOptions = {}): PbDecodeResult {
  const ctx: Ctx = {
    maxDepth: opts.maxDepth ?? 48,
    maxFields: opts.maxFields ?? 500_000,
    maxGuess: opts.maxGuessFieldNumber ?? 65_535,
    minPrintable: opts.minPrintableRatio ?? 0.85,
    count: 0,
  };
  try {
    const reader = Reader.create(bytes);
    const level = readFields(reader, 0, bytes.length, 0, ctx, false, undefined);
    const out: PbDecodeResult = { fields: level.fields, bytesRead: level.end };
    const error = level.error ?? ctx.tooMany;
    if (error) out.error = error;
    if (ctx.depthLimited) out.depthLimited = ctx.depthLimited;
    return out;
  } catch (e) {
    // Defensive: the walker catches reader errors itself; anything else is still reported, not thrown.
    return { fields: [], bytesRead: 0, error: issue('invalid-tag', `protobuf decoding failed (${(e as Error).message})`, 0) };
  }
}

interface Level {
  fields: PbField[];
  end: number;
  error?: DecodeIssue;
  /** A group level ended with its end-group tag. */
  closed?: boolean;
}

/**
 * Reads fields from `reader` until `limit` (an absolute position in the reader's buffer). `base` is
 * added to positions for reported offsets. In `strict` mode (guessing a nested message) the first
 * problem makes the caller reject the guess.
 */
function readFields(reader: ReaderT, base: number, limit: number, depth: number, ctx: Ctx, strict: boolean, group: number | undefined): Level {
  const fields: PbField[] = [];
  while (reader.pos < limit) {
    const tagPos = reader.pos;
    const at = base + tagPos;
    let tag: number;
    try {
      tag = reader.tag();
    } catch (e) {
      return { fields, end: tagPos, error: readerIssue(e, 'invalid-tag', 'the field tag', at) };
    }
    if (reader.pos > limit) return { fields, end: tagPos, error: issue('truncated', 'field tag runs past the end of the message', at) };
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 0) return { fields, end: tagPos, error: issue('invalid-tag', 'field number 0 is not allowed', at) };
    if (strict && field > ctx.maxGuess) return { fields, end: tagPos, error: issue('invalid-tag', `field number ${field} is implausibly large`, at) };
    if (++ctx.count > ctx.maxFields) {
      ctx.tooMany ??= issue('too-many-fields', `stopped after ${ctx.maxFields} fields`, at);
      return { fields, end: tagPos, error: ctx.tooMany };
    }
    switch (wire) {
      case 0: {
        const start = reader.pos;
        try {
          reader.skip();
        } catch {
          return { fields, end: tagPos, error: issue('truncated', `varint of field ${field} runs past the end`, at) };
        }
        const len = reader.pos - start;
        if (reader.pos > limit) return { fields, end: tagPos, error: issue('truncated', `varint of field ${field} runs past the end of the message`, at) };
        if (len > 10 || (len === 10 && reader.buf[reader.pos - 1]! > 1)) {
          return { fields, end: tagPos, error: issue('invalid-varint', `varint of field ${field} is longer than 64 bits`, base + start) };
        }
        fields.push({ field, wire, offset: at, value: varintValue(reader.buf, start, reader.pos) });
        break;
      }
      case 1: {
        if (limit - reader.pos < 8) return { fields, end: tagPos, error: issue('truncated', `64-bit value of field ${field} needs 8 bytes, ${limit - reader.pos} left`, at) };
        fields.push({ field, wire, offset: at, value: fixed64Value(reader.buf, reader.pos) });
        reader.pos += 8;
        break;
      }
      case 5: {
        if (limit - reader.pos < 4) return { fields, end: tagPos, error: issue('truncated', `32-bit value of field ${field} needs 4 bytes, ${limit - reader.pos} left`, at) };
        fields.push({ field, wire, offset: at, value: fixed32Value(reader.buf, reader.pos) });
        reader.pos += 4;
        break;
      }
      case 2: {
        let size: number;
        const lenAt = reader.pos;
        try {
          size = reader.uint32();
        } catch (e) {
          return { fields, end: tagPos, error: readerIssue(e, 'invalid-varint', `the length of field ${field}`, base + lenAt) };
        }
        if (reader.pos > limit || size > limit - reader.pos) {
          const left = Math.max(0, limit - reader.pos);
          return { fields, end: tagPos, error: issue('length-out-of-range', `field ${field} declares ${size} bytes but only ${left} remain`, at) };
        }
        const start = reader.pos;
        reader.pos += size;
        fields.push({ field, wire, offset: at, size, value: classify(reader.buf, start, start + size, base, depth + 1, ctx) });
        break;
      }
      case 3: {
        if (depth + 1 > ctx.maxDepth) {
          ctx.depthLimited ??= issue('depth-limit', `groups nest deeper than ${ctx.maxDepth} levels`, at);
          return { fields, end: tagPos, error: ctx.depthLimited };
        }
        const inner = readFields(reader, base, limit, depth + 1, ctx, strict, field);
        if (inner.error) {
          fields.push({ field, wire, offset: at, value: { kind: 'group', fields: inner.fields } });
          return { fields, end: inner.end, error: inner.error };
        }
        if (!inner.closed) return { fields, end: tagPos, error: issue('unmatched-group', `group ${field} has no end-group tag`, at) };
        fields.push({ field, wire, offset: at, value: { kind: 'group', fields: inner.fields } });
        break;
      }
      case 4: {
        ctx.count--;
        if (group === field) return { fields, end: reader.pos, closed: true };
        return { fields, end: tagPos, error: issue('unmatched-group', `end-group tag for field ${field} without a matching start`, at) };
      }
      default:
        return { fields, end: tagPos, error: issue('invalid-wire-type', `wire type ${wire} (field ${field}) does not exist`, at) };
    }
  }
  if (group !== undefined) return { fields, end: reader.pos, error: issue('unmatched-group', `group ${group} has no end-group tag`, base + reader.pos) };
  return { fields, end: reader.pos };
}

function readerIssue(e: unknown, code: 'invalid-tag' | 'invalid-varint', what: string, at: number): DecodeIssue {
  const msg = (e as Error)?.message ?? String(e);
  if (/index out of range/i.test(msg)) return issue('truncated', `${what} is cut off by the end of the input`, at);
  return issue(code, `${what} (${msg})`, at);
}

/** Decides what a length-delimited payload is: message, string or bytes. */
function classify(buf: Uint8Array, start: number, end: number, base: number, depth: number, ctx: Ctx): PbValue {
  if (start === end) return { kind: 'string', text: '' };
  const payload = buf.subarray(start, end);
  const text = decodeUtf8(payload);
  const ratio = text === undefined ? 0 : printableRatio(text);
  const strongText = text !== undefined && ratio >= 0.98 && !/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/.test(text);
  if (depth > ctx.maxDepth) {
    if (!strongText && structurallyValid(payload, ctx.maxGuess)) ctx.depthLimited ??= issue('depth-limit', `messages nest deeper than ${ctx.maxDepth} levels`, base + start);
  } else if (structurallyValid(payload, ctx.maxGuess) && (!strongText || looksStructured(payload))) {
    const saved = ctx.count;
    const reader = Reader.create(payload);
    const level = readFields(reader, base + start, payload.length, depth, ctx, true, undefined);
    if (!level.error && level.fields.length > 0) return { kind: 'message', fields: level.fields };
    if (level.error === ctx.tooMany && ctx.tooMany) return { kind: 'message', fields: level.fields };
    ctx.count = saved;
  }
  if (text !== undefined && ratio >= ctx.minPrintable) return { kind: 'string', text };
  const value: PbValue = { kind: 'bytes', hex: Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('hex') };
  const packed = packedHints(payload);
  if (packed) value.packed = packed;
  return value;
}

/** Text that begins with a tag-like control byte, or that parses into length-delimited fields only. */
function looksStructured(payload: Uint8Array): boolean {
  if (payload[0]! < 0x20) return true;
  try {
    const r = Reader.create(payload);
    let n = 0;
    while (r.pos < r.len) {
      const tag = r.tag();
      if ((tag & 7) !== 2) return false;
      r.skip(r.uint32());
      n++;
    }
    return n > 0 && n <= 4;
  } catch {
    return false;
  }
}

/** A cheap walk (no recursion into payloads) that says whether the bytes parse as one message. */
function structurallyValid(payload: Uint8Array, maxField: number): boolean {
  const r = Reader.create(payload);
  const groups: number[] = [];
  try {
    while (r.pos < r.len) {
      const tag = r.tag();
      const field = tag >>> 3;
      const wire = tag & 7;
      if (field === 0 || field > maxField) return false;
      switch (wire) {
        case 0: {
          const s = r.pos;
          r.skip();
          if (r.pos - s > 10) return false;
          break;
        }
        case 1:
          r.skip(8);
          break;
        case 2:
          r.skip(r.uint32());
          break;
        case 5:
          r.skip(4);
          break;
        case 3:
          if (groups.length >= 64) return false;
          groups.push(field);
          break;
        case 4:
          if (groups.pop() !== field) return false;
          break;
        default:
          return false;
      }
    }
  } catch {
    return false;
  }
  return groups.length === 0 && r.pos === r.len;
}

function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** Share of characters that are printable (letters, marks, punctuation, space, tab, newline). */
export function printableRatio(text: string): number {
  if (text.length === 0) return 1;
  let bad = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 9 && c !== 10 && c !== 13) || c === 0x7f || (c >= 0x80 && c < 0xa0) || c === 0xfffd) bad++;
  }
  return (text.length - bad) / text.length;
}

function packedHints(payload: Uint8Array): PackedHints | undefined {
  if (payload.length > 4096) return undefined;
  const hints: PackedHints = {};
  const varints: PbInt[] = [];
  let pos = 0;
  let ok = true;
  while (pos < payload.length) {
    const start = pos;
    while (pos < payload.length && payload[pos]! & 0x80) pos++;
    if (pos >= payload.length || pos - start >= 10) {
      ok = false;
      break;
    }
    pos++;
    varints.push(varintValue(payload, start, pos).value);
  }
  if (ok && varints.length > 1) hints.varints = varints;
  if (payload.length % 4 === 0 && payload.length >= 8) {
    const dv = new DataView(payload.buffer, payload.byteOffset, payload.length);
    const floats: number[] = [];
    for (let i = 0; i < payload.length; i += 4) floats.push(Math.fround(dv.getFloat32(i, true)));
    if (floats.every(plausibleFloat)) hints.floats = floats;
  }
  if (payload.length % 8 === 0 && payload.length >= 8) {
    const dv = new DataView(payload.buffer, payload.byteOffset, payload.length);
    const doubles: number[] = [];
    for (let i = 0; i < payload.length; i += 8) doubles.push(dv.getFloat64(i, true));
    if (doubles.every(plausibleFloat)) hints.doubles = doubles;
  }
  return hints.varints || hints.floats || hints.doubles ? hints : undefined;
}

/** A float that a program plausibly stored (not a bit pattern of some other type). */
export function plausibleFloat(x: number): boolean {
  if (!Number.isFinite(x)) return false;
  const a = Math.abs(x);
  return a === 0 || (a >= 1e-9 && a <= 1e15);
}

const TWO_63 = 1n << 63n;
const TWO_64 = 1n << 64n;

function asPbInt(v: bigint): PbInt {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v.toString();
}

function varintValue(buf: Uint8Array, start: number, end: number): { kind: 'varint'; value: PbInt; signed?: PbInt; zigzag: PbInt } {
  if (end - start <= 7) {
    let v = 0;
    for (let i = end - 1; i >= start; i--) v = v * 128 + (buf[i]! & 0x7f);
    const zigzag = v % 2 === 0 ? v / 2 : -(v + 1) / 2;
    return { kind: 'varint', value: v, zigzag };
  }
  let v = 0n;
  for (let i = end - 1; i >= start; i--) v = (v << 7n) | BigInt(buf[i]! & 0x7f);
  v &= TWO_64 - 1n;
  const zigzag = (v & 1n) === 0n ? v >> 1n : -((v + 1n) >> 1n);
  const out: { kind: 'varint'; value: PbInt; signed?: PbInt; zigzag: PbInt } = { kind: 'varint', value: asPbInt(v), zigzag: asPbInt(zigzag) };
  if (v >= TWO_63) out.signed = asPbInt(v - TWO_64);
  return out;
}

function fixed64Value(buf: Uint8Array, pos: number): PbValue {
  const dv = new DataView(buf.buffer, buf.byteOffset + pos, 8);
  return { kind: 'fixed64', value: asPbInt(dv.getBigUint64(0, true)), signed: asPbInt(dv.getBigInt64(0, true)), double: dv.getFloat64(0, true) };
}

function fixed32Value(buf: Uint8Array, pos: number): PbValue {
  const dv = new DataView(buf.buffer, buf.byteOffset + pos, 4);
  return { kind: 'fixed32', value: dv.getUint32(0, true), signed: dv.getInt32(0, true), float: Math.fround(dv.getFloat32(0, true)) };
}

/** The first field with this number (for walking a decoded tree by field numbers). */
export function pbGet(fields: PbField[] | undefined, field: number): PbField | undefined {
  return fields?.find((f) => f.field === field);
}

/** All fields with this number, in order (repeated fields). */
export function pbAll(fields: PbField[] | undefined, field: number): PbField[] {
  return fields ? fields.filter((f) => f.field === field) : [];
}

export interface FlatField {
  field: number;
  wire: WireType;
  offset: number;
  /** Varint and fixed values (as unsigned numbers; exact below 2^53). */
  num?: number;
  /** Payload of a length-delimited field, raw bytes of a fixed field. */
  bytes?: Uint8Array;
}

/**
 * One level of fields without any guessing (for reading a message whose field numbers are known):
 * each length-delimited payload is left as bytes. Never throws; stops at the first problem.
 */
export function decodeFlat(bytes: Uint8Array): { fields: FlatField[]; error?: DecodeIssue } {
  const fields: FlatField[] = [];
  const r = Reader.create(bytes);
  let at = 0;
  try {
    while (r.pos < r.len) {
      at = r.pos;
      const tag = r.tag();
      const field = tag >>> 3;
      const wire = tag & 7;
      if (field === 0) return { fields, error: issue('invalid-tag', 'field number 0 is not allowed', at) };
      if (wire === 0) {
        const start = r.pos;
        r.skip();
        if (r.pos - start > 10) return { fields, error: issue('invalid-varint', `varint of field ${field} is longer than 64 bits`, start) };
        const v = varintValue(r.buf, start, r.pos).value;
        fields.push({ field, wire, offset: at, num: typeof v === 'number' ? v : Number(v) });
      } else if (wire === 2) {
        const size = r.uint32();
        if (size > r.len - r.pos) return { fields, error: issue('length-out-of-range', `field ${field} declares ${size} bytes but only ${r.len - r.pos} remain`, at) };
        fields.push({ field, wire, offset: at, bytes: bytes.subarray(r.pos, r.pos + size) });
        r.pos += size;
      } else if (wire === 1 || wire === 5) {
        const n = wire === 1 ? 8 : 4;
        if (r.len - r.pos < n) return { fields, error: issue('truncated', `fixed value of field ${field} runs past the end`, at) };
        const raw = bytes.subarray(r.pos, r.pos + n);
        const dv = new DataView(raw.buffer, raw.byteOffset, n);
        fields.push({ field, wire, offset: at, bytes: raw, num: wire === 1 ? Number(dv.getBigUint64(0, true)) : dv.getUint32(0, true) });
        r.pos += n;
      } else if (wire === 3) {
        r.skipType(3, 0, field);
      } else if (wire === 4) {
        return { fields, error: issue('unmatched-group', `end-group tag for field ${field} without a matching start`, at) };
      } else {
        return { fields, error: issue('invalid-wire-type', `wire type ${wire} (field ${field}) does not exist`, at) };
      }
    }
  } catch (e) {
    return { fields, error: readerIssue(e, 'invalid-tag', 'a field', at) };
  }
  return { fields };
}
