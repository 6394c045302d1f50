// Records of one byte range of a capture, for parallel analysis: the lines that *start* in
// [start, end) (a line crossing `end` is read to its newline; one crossing `start` belongs to the
// range before). Same rules as capture/reader.ts readRecords — CR stripped, BOM only on the
// file's first line, blank lines skipped, a bad line reported with its reason, an unterminated
// last line reported as torn — but line numbers are relative to the range (1 = its first line),
// since the lines before it are counted elsewhere.
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

/** The bytes of the lines starting in [start, end), plus the file offset they begin at. */
export function chunkBytes(fd: number, start: number, end: number): { bytes: Buffer; begin: number; atEof: boolean } {
  const size = fstatSync(fd).size;
  end = Math.min(end, size);
  let begin = start;
  if (start > 0) {
    // The line containing byte start-1 belongs to the range before, unless start-1 is its newline.
    let pos = start - 1;
    begin = -1;
    while (pos < end) {
      const probe = readAt(fd, pos, Math.min(STEP, end - pos));
      const nl = probe.indexOf(10);
      if (nl >= 0) {
        begin = pos + nl + 1;
        break;
      }
      pos += probe.length;
      if (probe.length === 0) break;
    }
    if (begin < 0 || begin >= end) return { bytes: Buffer.alloc(0), begin: end, atEof: end >= size };
  }
  if (begin >= end) return { bytes: Buffer.alloc(0), begin, atEof: end >= size };
  const parts: Buffer[] = [readAt(fd, begin, end - begin)];
  let total = parts[0]!.length;
  // Finish the last line: read on to its newline (or the end of the file).
  if (parts[0]![total - 1] !== 10) {
    let pos = begin + total;
    while (pos < size) {
      const more = readAt(fd, pos, Math.min(STEP, size - pos));
      if (more.length === 0) break;
      const nl = more.indexOf(10);
      if (nl >= 0) {
        parts.push(more.subarray(0, nl + 1));
        total += nl + 1;
        break;
      }
      parts.push(more);
      total += more.length;
      pos += more.length;
    }
  }
  const bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
  return { bytes, begin, atEof: begin + bytes.length >= size };
}

/**
 * Calls onRecord for each valid record of the lines in `bytes` (which start at file offset
 * `begin`), onBad for each bad one; returns how many lines there were.
 */
export function eachChunkRecord(bytes: Buffer, begin: number, onRecord: (r: ChunkRecord) => void, onBad: (b: ChunkBadLine) => void): ChunkLines {
  let line = 0;
  let from = 0;
  while (from < bytes.length) {
    let nl = bytes.indexOf(10, from);
    const complete = nl >= 0;
    if (!complete) nl = bytes.length;
    line++;
    const length = nl - from;
    let text = bytes.toString('utf8', from, nl);
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (begin === 0 && line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.trim() !== '') {
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
