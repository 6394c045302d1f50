// The inspector's store: a compact row per exchange (all of them), the full records of only the
// most recent `bufferSize` in memory, and everything older loaded on demand from the capture
// file by byte offset. So a 100,000-exchange capture opens and a long live session stays bounded.
import { EventEmitter } from 'node:events';
import { open } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import type { CaptureRecord } from '../capture/record.js';
import { readLines, readRecords, parseRecordLine, type BadLine } from '../capture/reader.js';
import { llmFactsOf, type LlmFacts, type LlmLayer } from '../analysis/llm-layer.js';
import { rowOf } from './row-summary.js';
import type { Row } from './protocol.js';


export interface StoreOptions {
  /** How many full records stay in memory (the ring). */
  bufferSize: number;
  llm: LlmLayer | undefined;
  /**
   * The capture file backing this store: the opened file, or the live proxy's output (a function
   * when the writer rotates files: exchanges are then looked up in the file current at the time).
   */
  file?: string | (() => string | undefined);
  /** Whether ids carry annotations (for the row's note flag). */
  hasNote?: (id: string) => boolean;
}

export interface StoreEvents {
  new: [Row];
  update: [Row];
  clear: [];
  bad: [BadLine[]];
}

interface Location {
  file: string;
  offset: number;
  length: number;
}

const MAX_BAD_LINES = 1000;

export class ExchangeStore extends EventEmitter<StoreEvents> {
  private rows: Row[] = [];
  /** seq of rows[0]; grows on clear so seqs stay unique. */
  private base = 0;
  private bySeqId = new Map<string, number>();
  private ring = new Map<string, CaptureRecord>();
  private locations = new Map<string, Location>();
  private liveIds = new Set<string>();
  /** How far the backing file has been indexed (live mode indexes lazily). */
  private scanned = { file: '', offset: 0, line: 1 };
  readonly bad: BadLine[] = [];
  badCount = 0;
  private searchGen = 0;

  constructor(readonly options: StoreOptions) {
    super();
  }

  get file(): string | undefined {
    const f = this.options.file;
    return typeof f === 'function' ? f() : f;
  }

  get size(): number {
    return this.rows.length;
  }

  get firstSeq(): number {
    return this.base;
  }

  /** Reads the whole backing file, keeping rows and offsets; full records only for the tail. */
  async loadFile(onProgress?: (bytes: number) => void): Promise<void> {
    const file = this.file;
    if (!file) return;
    let n = 0;
    let lastYield = performance.now();
    for await (const item of readRecords(file, {
      onBadLine: (b) => this.noteBad(b),
      ...(onProgress ? { onProgress } : {}),
    })) {
      this.locations.set(item.record.id, { file, offset: item.offset, length: item.length });
      this.scanned = { file, offset: item.offset + item.length + 1, line: item.line + 1 };
      this.put(item.record, false, false);
      // Let the server answer (page load, snapshot, progress) while a big file is indexed.
      if ((++n & 63) === 0 && performance.now() - lastYield > 20) {
        await new Promise((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
    }
  }

  private noteBad(b: BadLine): void {
    this.badCount++;
    if (this.bad.length < MAX_BAD_LINES) this.bad.push(b);
    this.emit('bad', [b]);
  }

  private facts(record: CaptureRecord): LlmFacts {
    return llmFactsOf(this.options.llm, record);
  }

  private remember(record: CaptureRecord): void {
    this.ring.delete(record.id);
    this.ring.set(record.id, record);
    if (this.ring.size <= this.options.bufferSize) return;
    for (const id of this.ring.keys()) {
      if (this.ring.size <= this.options.bufferSize) break;
      // An exchange in flight stays in memory; without a backing file an evicted one is gone
      // (its row stays), which keeps memory bounded either way.
      if (this.liveIds.has(id)) continue;
      this.ring.delete(id);
    }
  }

  private put(record: CaptureRecord, live: boolean, emit: boolean): Row {
    const known = this.bySeqId.get(record.id);
    if (live) this.liveIds.add(record.id);
    else this.liveIds.delete(record.id);
    if (record.replayOf === undefined) {
      // A replay sent by this inspector carries its origin in a header (see replay.ts).
      const h = record.request?.headers.find(([k]) => k.toLowerCase() === 'x-agenttap-replay-of');
      if (h && /^[0-9a-f-]{36}$/i.test(h[1])) record.replayOf = h[1];
    }
    const seq = known ?? this.base + this.rows.length;
    const row = rowOf(record, seq, this.facts(record), live);
    if (this.options.hasNote?.(record.id)) row.note = true;
    this.remember(record);
    if (known !== undefined) {
      this.rows[known - this.base] = row;
      if (emit) this.emit('update', row);
    } else {
      this.bySeqId.set(record.id, seq);
      this.rows.push(row);
      if (emit) this.emit('new', row);
    }
    return row;
  }

  /** A finished record (live proxy or replay). */
  add(record: CaptureRecord): Row {
    return this.put(record, false, true);
  }

  /** An in-flight exchange's partial record: its row shows as live until `add` finishes it. */
  update(partial: CaptureRecord): Row | undefined {
    // A late partial must not turn a finished exchange back into a live one.
    const known = this.rowById(partial.id);
    if (known && known.state !== 'live') return undefined;
    return this.put(partial, true, true);
  }

  /** Marks the annotation flag of a row and tells the clients. */
  touchNote(id: string, has: boolean): void {
    const seq = this.bySeqId.get(id);
    if (seq === undefined) return;
    const row = this.rows[seq - this.base];
    if (!row) return;
    if (has) row.note = true;
    else delete row.note;
    this.emit('update', row);
  }

  clear(): void {
    this.base += this.rows.length;
    this.rows = [];
    this.bySeqId.clear();
    this.ring.clear();
    this.liveIds.clear();
    this.emit('clear');
  }

  rowById(id: string): Row | undefined {
    const seq = this.bySeqId.get(id);
    return seq === undefined ? undefined : this.rows[seq - this.base];
  }

  /** The newest `limit` rows before seq `before` (default: the end). */
  rowsBefore(before: number | undefined, limit: number): Row[] {
    const end = Math.min(this.rows.length, before === undefined ? this.rows.length : Math.max(0, before - this.base));
    return this.rows.slice(Math.max(0, end - limit), end);
  }

  allRows(): readonly Row[] {
    return this.rows;
  }

  /** The full record: from memory, else read back from the capture file by its offset. */
  async get(id: string): Promise<CaptureRecord | undefined> {
    const inRing = this.ring.get(id);
    if (inRing) return inRing;
    if (!this.bySeqId.has(id) || !this.file) return undefined;
    const loc = this.locations.get(id) ?? (await this.locate(id));
    if (!loc) return undefined;
    const fh = await open(loc.file, 'r');
    try {
      const buf = Buffer.alloc(loc.length);
      await fh.read(buf, 0, loc.length, loc.offset);
      const parsed = parseRecordLine(buf.toString('utf8').replace(/\r$/, ''));
      return 'record' in parsed && parsed.record.id === id ? parsed.record : undefined;
    } finally {
      await fh.close();
    }
  }

  /** Live mode: index the writer's output lazily, from where the last scan stopped. */
  private async locate(id: string): Promise<Location | undefined> {
    const file = this.file;
    if (!file) return undefined;
    if (this.scanned.file !== file) this.scanned = { file, offset: 0, line: 1 };
    try {
      for await (const item of readRecords(file, { start: this.scanned.offset, startLine: this.scanned.line, onBadLine: () => {} })) {
        this.locations.set(item.record.id, { file, offset: item.offset, length: item.length });
        this.scanned = { file, offset: item.offset + item.length + 1, line: item.line + 1 };
        if (item.record.id === id) break;
      }
    } catch {
      return undefined;
    }
    return this.locations.get(id);
  }

  /**
   * Exchanges whose request or response mention `query` (case-insensitive), in bodies, URL or
   * headers. Scans the capture file's raw lines (no JSON parse unless a line matches) plus the
   * in-memory records the file does not hold yet.
   */
  async search(query: string, limit = 100_000): Promise<number[] | undefined> {
    // A newer search (the user typed on) abandons this one: it resolves undefined.
    const gen = ++this.searchGen;
    const q = query.toLowerCase();
    if (!q) return [];
    const escaped = JSON.stringify(q).slice(1, -1);
    const found = new Set<number>();
    const checked = new Set<string>();
    const file = this.file;
    if (file) {
      const byOffset = new Map<number, string>();
      for (const [id, loc] of this.locations) if (loc.file === file) byOffset.set(loc.offset, id);
      try {
        const stream = createReadStream(file, { highWaterMark: 1 << 20 });
        for await (const { bytes, offset } of readLines(stream)) {
          if (this.searchGen !== gen) {
            stream.destroy();
            return undefined;
          }
          const text = bytes.toString('utf8');
          let id = byOffset.get(offset);
          if (id) checked.add(id);
          const lower = text.toLowerCase();
          if (!lower.includes(q) && !lower.includes(escaped)) continue;
          if (!id) {
            const parsed = parseRecordLine(text);
            if (!('record' in parsed)) continue;
            id = parsed.record.id;
            checked.add(id);
          }
          const seq = this.bySeqId.get(id);
          if (seq !== undefined) found.add(seq);
          if (found.size >= limit) break;
        }
      } catch {
        /* the file may be gone (live mode before the first write) */
      }
    }
    for (const [id, record] of this.ring) {
      if (checked.has(id)) continue;
      if (JSON.stringify(record).toLowerCase().includes(escaped)) {
        const seq = this.bySeqId.get(id);
        if (seq !== undefined) found.add(seq);
      }
    }
    return [...found].sort((a, b) => a - b);
  }
}
