// Records of one byte range of a capture, for parallel analysis: the lines that *start* in
// [start, end) (a line crossing `end` is read to its newline; one crossing `start` belongs to the
// range before). Same rules as capture/reader.ts readRecords — CR stripped, BOM only on the
// file's first line, blank lines skipped, a bad line reported with its reason, an unterminated
// last line reported as torn — but line numbers are relative to the range (1 = its first line),
// since the lines before it are counted elsewhere.
import { isAscii, isUtf8 } from 'node:buffer';
import { fstatSync, readSync } from 'node:fs';
import { parseRecordLine } from '../capture/reader.js';
import type { CaptureRecord } from '../capture/record.js';

export interface ChunkRecord {
  record: CaptureRecord;
  /** 1-based line number within the range. */
  line: number;
  /** Byte offset of the line in the file. */
  offset: number;
  length: number;
}

export interface ChunkBadLine {
  line: number;
  reason: string;
}

export interface ChunkLines {
  /** Lines that start in the range (blank and bad ones included). */
  lines: number;
  /** File offset just past the range's last line. */
  stop: number;
}

const STEP = 1 << 20;
/** A line is blank when it trims to nothing; \S is the complement of what trim() removes, and stops at the first character of a record. */
const NOT_BLANK = /\S/;

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got === length ? buf : buf.subarray(0, got);
}

/** Read past a range's end to finish its last line, in one read with the range (most lines are shorter); a quarter of the range up to this. */
const TAIL = 256 << 10;

/**
 * Reads ranges into one reused buffer (a fresh multi-megabyte buffer per range costs page faults
 * and copies); the bytes it returns are valid until the next read.
 */
export class RangeReader {
  private buf = Buffer.allocUnsafe(0);
  private readonly size: number;

  constructor(private readonly fd: number) {
    this.size = fstatSync(fd).size;
  }

  private into(at: number, position: number, length: number): number {
    if (this.buf.length < at + length) {
      const next = Buffer.allocUnsafe(Math.max(at + length, this.buf.length * 2));
      this.buf.copy(next, 0, 0, at);
      this.buf = next;
    }
    let got = 0;
    while (got < length) {
      const n = readSync(this.fd, this.buf, at + got, length - got, position + got);
      if (n === 0) break;
      got += n;
    }
    return got;
  }

  /** The bytes of the lines starting in [start, end), plus the file offset they begin at. */
  read(start: number, end: number): { bytes: Buffer; begin: number } {
    const size = this.size;
    end = Math.min(end, size);
    if (start >= end) return { bytes: this.buf.subarray(0, 0), begin: end };
    // One read from the byte before the range (is it a newline?) to a little past its end.
    const base = start > 0 ? start - 1 : 0;
    let got = this.into(0, base, Math.min(size, end + Math.min(TAIL, Math.max(4096, (end - start) >> 2))) - base);
    let first = 0;
    if (start > 0) {
      // The line containing byte start-1 belongs to the range before, unless start-1 is its newline.
      const nl = this.buf.subarray(0, got).indexOf(10);
      if (nl < 0 || base + nl + 1 >= end) return { bytes: this.buf.subarray(0, 0), begin: end };
      first = nl + 1;
    }
    // Finish the last line: up to the first newline at or after `end` - 1 (or the end of the file).
    let from = end - 1 - base;
    for (;;) {
      const nl = this.buf.subarray(0, got).indexOf(10, from);
      if (nl >= 0) return { bytes: this.buf.subarray(first, nl + 1), begin: base + first };
      if (base + got >= size) return { bytes: this.buf.subarray(first, got), begin: base + first };
      from = got;
      got += this.into(got, base + got, Math.min(STEP, Math.max(65536, got), size - base - got));
    }
  }
}

/**
 * UTF-8 text of bytes[from, to), decoded fast: ASCII bytes give the same string decoded as
 * Latin-1, which is several times faster than UTF-8 decoding, and capture lines are ASCII but
 * for a few characters (the redaction marker's "…", non-English text). So the line is halved
 * until each piece is ASCII or short, cutting only before the first byte of a character; pieces
 * of valid UTF-8 cut that way decode to the same characters. Invalid UTF-8 is decoded whole.
 */
export function decodeLine(bytes: Buffer, from: number, to: number): string {
  const piece = bytes.subarray(from, to);
  if (isAscii(piece)) return bytes.toString('latin1', from, to);
  if (to - from <= 512 || !isUtf8(piece)) return bytes.toString('utf8', from, to);
  return decodeHalves(bytes, from, to);
}

function decodeHalves(bytes: Buffer, from: number, to: number): string {
  if (isAscii(bytes.subarray(from, to))) return bytes.toString('latin1', from, to);
  if (to - from <= 512) return bytes.toString('utf8', from, to);
  let mid = (from + to) >>> 1;
  while (mid < to && (bytes[mid]! & 0xc0) === 0x80) mid++;
  return decodeHalves(bytes, from, mid) + decodeHalves(bytes, mid, to);
}

/**
 * Calls onRecord for each valid record of the lines in `bytes` (which start at file offset
 * `begin`), onBad for each bad one; returns how many lines there were.
 */
export function eachChunkRecord(bytes: Buffer, begin: number, onRecord: (r: ChunkRecord) => void, onBad: (b: ChunkBadLine) => void): ChunkLines {
  const ascii = isAscii(bytes);
  let line = 0;
  let from = 0;
  while (from < bytes.length) {
    let nl = bytes.indexOf(10, from);
    const complete = nl >= 0;
    if (!complete) nl = bytes.length;
    line++;
    const length = nl - from;
    let text = ascii ? bytes.toString('latin1', from, nl) : decodeLine(bytes, from, nl);
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (begin === 0 && line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (NOT_BLANK.test(text)) {
      const parsed = parseRecordLine(text);
      if ('record' in parsed) onRecord({ record: parsed.record, line, offset: begin + from, length });
      else onBad({ line, reason: complete ? parsed.reason : `torn last line (no newline; ${parsed.reason})` });
    }
    from = nl + 1;
  }
  return { lines: line, stop: begin + bytes.length };
}

/** One line of a capture read again by its offset and length (for work a worker left to the main thread). */
export function recordAt(fd: number, offset: number, length: number, firstLine: boolean): CaptureRecord | undefined {
  let text = readAt(fd, offset, length).toString('utf8');
  if (text.endsWith('\r')) text = text.slice(0, -1);
  if (firstLine && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const parsed = parseRecordLine(text);
  return 'record' in parsed ? parsed.record : undefined;
}
