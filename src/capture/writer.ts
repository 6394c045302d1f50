// Append-only JSONL capture writer. Each record is serialized to one line and written with a
// single write(2) on an O_APPEND descriptor, so several agenttap processes can append to the
// same file without interleaving. `rotate: 'daily'` writes <name>-YYYY-MM-DD.jsonl.
import { closeSync, mkdirSync, openSync, writev as fsWritev, writeSync, constants as fsc } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { releaseBigBody } from './release-memory.js';
import { escapedTextOf, escapeJsonBytes, utf8PartsOf } from './lazy-text.js';
import type { CaptureRecord, RecordBody } from './record.js';

/** Lines at least this big hand their memory back once written. */
const RELEASE_OVER = 1 << 20;
/** Small lines are batched up to this size and written synchronously; bigger lines go alone, asynchronously. */
const SYNC_BYTES = 64 * 1024;

/** Body texts longer than this are escaped into the line slice by slice (see serializeLine). */
const SLICED_TEXT_OVER = 1 << 20;
/** UTF-16 units per slice: each escaped slice stays a small, young-generation string. */
const SLICE = 32 * 1024;
/** Stands in for a big body text while the rest of the record is stringified; no record holds it. */
const MARKER = `\u0000agenttap-${randomBytes(8).toString('hex')}-`;

/** What is left of `parts` after the first `written` bytes. */
function remainder(parts: Buffer[], written: number): Buffer[] {
  const out: Buffer[] = [];
  for (const p of parts) {
    if (written >= p.length) written -= p.length;
    else {
      out.push(written ? p.subarray(written) : p);
      written = 0;
    }
  }
  return out;
}

/** A JSON text as a line. */
function lineOf(json: string): Buffer {
  const buf = Buffer.allocUnsafe(Buffer.byteLength(json, 'utf8') + 1);
  buf.write(json, 0, 'utf8');
  buf[buf.length - 1] = 0x0a;
  return buf;
}

/** A body whose text goes into the line piece by piece: escaped already, its UTF-8 bytes, or a big string. */
interface BigText {
  body: RecordBody;
  escaped?: Buffer[];
  parts?: Buffer[];
  text?: string;
}

/**
 * A record as one JSONL line, byte for byte what `JSON.stringify(record) + "\n"` gives. See
 * lineParts; this joins them (the writer itself writes the parts with one writev).
 */
export function serializeLine(record: CaptureRecord): Buffer {
  const parts = lineParts(record);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/**
 * A record's line as buffers to write in order. A small record is one buffer, sized exactly and
 * filled in place (no flattened `json + "\n"` copy, not the 3×-length scratch buffer Node
 * allocates to write a string). A big body's text goes into the line without ever being a string:
 * a body escaped as it arrived is written from its own buffer (no copy at all), a lazy body's
 * bytes are JSON-escaped into one buffer, a big string is escaped slice by slice; so a 16 MB body
 * is not also held as a 16 MB JSON string until the next major GC.
 */
export function lineParts(record: CaptureRecord, big = bigTexts(record)): Buffer[] {
  if (!big.length) return [lineOf(JSON.stringify(record))];
  // The record with a marker in place of each big text (the original is left untouched).
  const stand = { ...record };
  big.forEach((b, i) => {
    const part = stand.request?.body === b.body ? 'request' : 'response';
    const body: Record<string, unknown> = { text: MARKER + i };
    for (const k of Object.keys(b.body)) if (k !== 'text') body[k] = (b.body as unknown as Record<string, unknown>)[k];
    stand[part] = { ...stand[part]!, body: body as unknown as RecordBody } as never;
  });
  const json = JSON.stringify(stand);
  // The line is: outside[0] "text0" outside[1] "text1" … outside[n] \n, quotes kept with the outsides.
  const out: Buffer[] = [];
  let from = 0;
  big.forEach((b, i) => {
    const m = JSON.stringify(MARKER + i);
    const at = json.indexOf(m, from);
    out.push(Buffer.from(json.slice(from, at + 1), 'utf8'), ...escapedContent(b));
    from = at + m.length - 1;
  });
  out.push(Buffer.from(json.slice(from) + '\n', 'utf8'));
  return out;
}

/** A big text, JSON-escaped without its quotes. */
function escapedContent(b: BigText): Buffer[] {
  if (b.escaped) return b.escaped;
  if (b.parts) return escapeJsonBytes(b.parts);
  let size = 0;
  for (const s of escapedSlices(b.text!)) size += Buffer.byteLength(s, 'utf8') - 2;
  const buf = Buffer.allocUnsafe(size);
  let off = 0;
  for (const s of escapedSlices(b.text!)) off += buf.write(s.slice(1, -1), off, 'utf8');
  return [buf];
}

/** The bodies whose text goes into the line piece by piece. */
function bigTexts(record: CaptureRecord): BigText[] {
  const out: BigText[] = [];
  for (const body of [record.request?.body, record.response?.body]) {
    if (!body) continue;
    const escaped = escapedTextOf(body);
    if (escaped) {
      out.push({ body, escaped });
      continue;
    }
    const parts = utf8PartsOf(body);
    if (parts) out.push({ body, parts });
    else if (body.text && body.text.length > SLICED_TEXT_OVER) out.push({ body, text: body.text });
  }
  return out;
}

/** JSON.stringify of `text`, slice by slice (quotes included); never splits a surrogate pair. */
function* escapedSlices(text: string): Generator<string> {
  for (let i = 0; i < text.length; ) {
    let j = Math.min(text.length, i + SLICE);
    const last = text.charCodeAt(j - 1);
    if (j < text.length && last >= 0xd800 && last <= 0xdbff) j--;
    yield JSON.stringify(text.slice(i, j));
    i = j;
  }
}

export class CaptureWriterError extends Error {
  readonly code = 'OUTPUT_UNWRITABLE';
}

export interface CaptureWriterOptions {
  /** The capture file (with rotation: the base name; the date is inserted before .jsonl). */
  file: string;
  rotate?: 'daily';
  /** Clock for rotation (tests move it forward). */
  now?: () => Date;
}

/** YYYY-MM-DD in local time. */
export function localDate(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** `dir/name.jsonl` → `dir/name-YYYY-MM-DD.jsonl`. */
export function rotatedName(file: string, date: string): string {
  const ext = path.extname(file);
  const stem = ext ? file.slice(0, -ext.length) : file;
  return `${stem}-${date}${ext || '.jsonl'}`;
}

function openAppend(file: string): number {
  try {
    mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    return openSync(file, fsc.O_WRONLY | fsc.O_APPEND | fsc.O_CREAT, 0o600);
  } catch (e) {
    throw new CaptureWriterError(`cannot write the capture file ${file}: ${(e as Error).message} (pass --out with a writable path)`);
  }
}

/** Small lines wait at most this long to share a write (the live view gets records at once: only the file lags). */
const FLUSH_MS = 5;

const openWriters = new Set<CaptureWriter>();
let exitHooked = false;

function flushOpenWriters(): void {
  for (const w of openWriters) w.flushSync();
  openWriters.clear();
}

export class CaptureWriter {
  private fd: number;
  private date: string;
  private file: string;
  /**
   * Small lines are encoded straight into this reused buffer and written together: no Buffer per
   * record, and their JSON strings die young. Allocated at the first record.
   */
  private batch?: Buffer;
  private batchLen = 0;
  /** Whole lines (big ones, as their parts, and batches sealed behind them) waiting for their turn, in order. */
  private queue: (Buffer | Buffer[])[] = [];
  private writing = false;
  /** The pending write of the batch (small lines wait up to FLUSH_MS to share it). */
  private timer?: NodeJS.Timeout;
  private idle: (() => void)[] = [];
  private closed = false;
  records = 0;
  bytes = 0;
  /** The last write error (disk full…); the proxy keeps forwarding. */
  lastError?: Error;

  constructor(private readonly options: CaptureWriterOptions) {
    this.date = localDate(this.now());
    this.file = options.rotate === 'daily' ? rotatedName(options.file, this.date) : options.file;
    this.fd = openAppend(this.file);
    if (!exitHooked) process.on('exit', flushOpenWriters);
    exitHooked = true;
    openWriters.add(this);
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  /** The file records currently go to. */
  get currentFile(): string {
    return this.file;
  }

  write(record: CaptureRecord): void {
    if (this.closed) return;
    this.records++;
    const big = bigTexts(record);
    if (big.length) this.enqueue(lineParts(record, big));
    else {
      const json = JSON.stringify(record);
      // At most 3 UTF-8 bytes per UTF-16 unit: a line that might not fit the batch goes alone.
      const most = json.length * 3 + 1;
      if (most > SYNC_BYTES) this.enqueue(lineOf(json));
      else {
        if (this.batchLen + most > SYNC_BYTES) this.sealBatch();
        const batch = (this.batch ??= Buffer.allocUnsafe(SYNC_BYTES));
        this.batchLen += batch.write(json, this.batchLen, 'utf8');
        batch[this.batchLen++] = 0x0a;
      }
    }
    // Records finishing within a few ms share one write; a big line goes at once.
    if (!this.writing && !this.timer) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (!this.writing) this.drain();
      }, this.queue.length ? 0 : FLUSH_MS);
    }
  }

  /** A whole line goes after everything written so far (the batch so far goes first). */
  private enqueue(line: Buffer | Buffer[]): void {
    this.sealBatch();
    this.queue.push(line);
  }

  /** The batch so far becomes a queued line of its own (copied: the batch buffer is reused). */
  private sealBatch(): void {
    if (!this.batchLen) return;
    this.queue.push(Buffer.from(this.batch!.subarray(0, this.batchLen)));
    this.batchLen = 0;
  }

  private rotateIfDue(): void {
    if (this.options.rotate !== 'daily') return;
    const today = localDate(this.now());
    if (today === this.date) return;
    const next = rotatedName(this.options.file, today);
    try {
      const fd = openAppend(next);
      closeSync(this.fd);
      this.fd = fd;
      this.file = next;
      this.date = today;
    } catch (e) {
      this.lastError = e as Error;
    }
  }

  private drain(): void {
    this.writing = true;
    this.rotateIfDue();
    for (let line = this.queue.shift(); line; line = this.queue.shift()) {
      if (Array.isArray(line)) return this.writeAll(line); // continues with drain() when done
      if (line.length > SYNC_BYTES) return this.writeAll([line]);
      this.writeNow(line, line.length);
    }
    if (this.batchLen) {
      // One write(2) of whole lines is as safe for concurrent appenders as one per line.
      this.writeNow(this.batch!, this.batchLen);
      this.batchLen = 0;
    }
    this.writing = false;
    for (const r of this.idle.splice(0)) r();
  }

  /**
   * Small writes happen on the spot: a page-cache write costs less than a round trip through
   * libuv's thread pool, which competes with the proxy for the CPU.
   */
  private writeNow(buf: Buffer, length: number): void {
    try {
      let off = 0;
      while (off < length) off += writeSync(this.fd, buf, off, length - off);
      this.bytes += length;
    } catch (e) {
      this.lastError = e as Error;
    }
  }

  private writeAll(parts: Buffer[]): void {
    // One writev(2) per line: atomic for O_APPEND like one write. A short write (rare: signal,
    // disk full) continues where it stopped.
    const total = parts.reduce((n, p) => n + p.length, 0);
    fsWritev(this.fd, parts, null, (err, n) => {
      if (err) {
        this.lastError = err;
        return this.drain();
      }
      this.bytes += n;
      if (n < total) return this.writeAll(remainder(parts, n));
      // The line (and the body it was built from) are garbage now: see release-memory.ts.
      if (total >= RELEASE_OVER) releaseBigBody(2 * total);
      this.drain();
    });
  }

  /** Resolves once every queued line is on disk (in the kernel). */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      if (!this.writing) this.drain();
    }
    if (!this.writing && !this.queue.length && !this.batchLen) return Promise.resolve();
    return new Promise((r) => this.idle.push(r));
  }

  /** At process exit (no event loop left): whatever waits is written now, in order. */
  flushSync(): void {
    if (this.closed) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    for (const line of this.queue.splice(0)) {
      const b = Array.isArray(line) ? Buffer.concat(line) : line;
      this.writeNow(b, b.length);
    }
    if (this.batchLen) this.writeNow(this.batch!, this.batchLen);
    this.batchLen = 0;
  }

  async close(): Promise<void> {
    await this.flush();
    if (this.closed) return;
    this.closed = true;
    openWriters.delete(this);
    closeSync(this.fd);
  }
}
