// Streaming reader for capture files: yields records one at a time, so a 2 GB capture is read
// in constant memory. A malformed or torn line is reported as FILE:LINE: reason and skipped.
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { RECORD_VERSION, type CaptureRecord } from './record.js';

export interface BadLine {
  file: string;
  line: number;
  reason: string;
}

export interface ReadOptions {
  /** Called for each line that is not a valid record. Default: print `FILE:LINE: reason` on stderr. */
  onBadLine?: (bad: BadLine) => void;
  /** Byte offset to start at (must be the start of a line); line numbers then count from `startLine`. */
  start?: number;
  startLine?: number;
  /** Called with the bytes read so far, for progress displays. */
  onProgress?: (bytesRead: number) => void;
}

export interface ReadItem {
  record: CaptureRecord;
  /** 1-based line number in the file. */
  line: number;
  /** Byte offset of the line's first byte, so a viewer can load it again on demand. */
  offset: number;
  /** Length in bytes of the line (without the newline). */
  length: number;
}

export function printBadLine(bad: BadLine): void {
  process.stderr.write(`${bad.file}:${bad.line}: ${bad.reason}\n`);
}

/** Why a parsed value is not a v1 record, or undefined when it is one. */
export function recordProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const r = value as Partial<CaptureRecord>;
  if (r.v !== RECORD_VERSION) return `unsupported record version ${JSON.stringify(r.v)} (this reader knows v${RECORD_VERSION})`;
  if (typeof r.id !== 'string') return 'record has no id';
  if (r.kind !== 'http' && r.kind !== 'websocket' && r.kind !== 'tunnel') return `unknown record kind ${JSON.stringify(r.kind)}`;
  if (typeof r.server !== 'object' || r.server === null) return 'record has no server';
  return undefined;
}

/** Parses one line; returns the record or the reason it is bad. */
export function parseRecordLine(text: string): { record: CaptureRecord } | { reason: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { reason: `malformed JSON (${(e as Error).message})` };
  }
  const problem = recordProblem(value);
  return problem ? { reason: problem } : { record: value as CaptureRecord };
}

/** Splits a byte stream into lines with their offsets; the last line may lack a newline. */
export async function* readLines(
  stream: Readable,
  start = 0,
): AsyncGenerator<{ bytes: Buffer; offset: number; complete: boolean }> {
  let carry: Buffer | null = null;
  let carryOffset = start;
  let position = start;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    let from = 0;
    let nl = chunk.indexOf(10);
    while (nl !== -1) {
      const piece = chunk.subarray(from, nl);
      if (carry) {
        yield { bytes: Buffer.concat([carry, piece]), offset: carryOffset, complete: true };
        carry = null;
      } else {
        yield { bytes: piece, offset: position + from, complete: true };
      }
      from = nl + 1;
      nl = chunk.indexOf(10, from);
    }
    if (from < chunk.length) {
      const rest = chunk.subarray(from);
      if (carry) carry = Buffer.concat([carry, rest]);
      else {
        carry = Buffer.from(rest);
        carryOffset = position + from;
      }
    }
    position += chunk.length;
  }
  if (carry && carry.length > 0) yield { bytes: carry, offset: carryOffset, complete: false };
}

/** Yields every valid record of a capture file in order. */
export async function* readRecords(file: string, options: ReadOptions = {}): AsyncGenerator<ReadItem> {
  const onBad = options.onBadLine ?? printBadLine;
  const start = options.start ?? 0;
  const stream = createReadStream(file, { start, highWaterMark: 1 << 20 });
  let line = (options.startLine ?? 1) - 1;
  let read = 0;
  for await (const { bytes, offset, complete } of readLines(stream, start)) {
    line++;
    if (options.onProgress) {
      read = offset + bytes.length - start;
      options.onProgress(read);
    }
    let text = bytes.toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.trim() === '') continue;
    const parsed = parseRecordLine(text);
    if ('record' in parsed) yield { record: parsed.record, line, offset, length: bytes.length };
    else onBad({ file, line, reason: complete ? parsed.reason : `torn last line (no newline; ${parsed.reason})` });
  }
}

/** Reads a whole capture into memory (for small files and tests). */
export async function readAllRecords(file: string, options: ReadOptions = {}): Promise<CaptureRecord[]> {
  const out: CaptureRecord[] = [];
  for await (const item of readRecords(file, options)) out.push(item.record);
  return out;
}
