// Rendered report fragments, kept until the report is assembled in session order. They stay in
// memory up to a budget (a typical capture's whole log) and spill to a temporary file beyond
// it, so a 2 GB capture's report never holds its log in memory. Spilled fragments are written
// in batches and read back a batch of ids at a time with one read per run of nearby fragments
// (session order mostly follows file order), not one read per fragment.
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Spilled text is buffered up to this many characters before one write (small: held fragments would outlive the young generation). */
const WRITE_BATCH_CHARS = 64 << 10;
/** Fragments this close on disk are read together (the bytes between them are read and dropped). */
const READ_GAP_BYTES = 4 << 10;
/** One read never spans more than this (bounds the memory of one batch). */
const MAX_READ_BYTES = 1 << 20;

export class FragmentStore {
  private readonly inMemory = new Map<string, string>();
  /** Spilled fragments: id → slot in `spans` (offset, length pairs; one array, not one per fragment). */
  private readonly onDisk = new Map<string, number>();
  private spans = new Float64Array(1024);
  private slots = 0;
  private memoryChars = 0;
  private dir?: string;
  private file?: FileHandle;
  private pending: string[] = [];
  private pendingChars = 0;
  private written = 0;

  constructor(private readonly budgetChars = 8 * 1024 * 1024) {}

  /** The temporary directory while fragments are spilled (for diagnostics and tests). */
  get spillDir(): string | undefined {
    return this.dir;
  }

  async add(id: string, text: string): Promise<void> {
    if (this.memoryChars + text.length <= this.budgetChars) {
      this.inMemory.set(id, text);
      this.memoryChars += text.length;
      return;
    }
    if (!this.file) {
      this.dir = await mkdtemp(join(tmpdir(), 'agenttap-report-'));
      this.file = await open(join(this.dir, 'fragments'), 'w+');
    }
    const bytes = Buffer.byteLength(text);
    const slot = this.slots++;
    if (slot * 2 + 2 > this.spans.length) {
      const next = new Float64Array(this.spans.length * 2);
      next.set(this.spans);
      this.spans = next;
    }
    this.spans[slot * 2] = this.written;
    this.spans[slot * 2 + 1] = bytes;
    this.onDisk.set(id, slot);
    this.written += bytes;
    this.pending.push(text);
    this.pendingChars += text.length;
    if (this.pendingChars >= WRITE_BATCH_CHARS) await this.flushPending();
  }

  private async flushPending(): Promise<void> {
    if (!this.file || this.pending.length === 0) return;
    const text = this.pending.join('');
    this.pending = [];
    this.pendingChars = 0;
    await this.file.write(text);
  }

  /** Call once after the last add, before get. */
  async seal(): Promise<void> {
    await this.flushPending();
  }

  /** Fragments in the order given (missing ids give nothing); spilled ones read in runs of nearby fragments. */
  async get(ids: string[]): Promise<(string | Buffer)[]> {
    const out: (string | Buffer)[] = new Array(ids.length);
    const wanted: { at: number; offset: number; length: number }[] = [];
    for (let i = 0; i < ids.length; i++) {
      const text = this.inMemory.get(ids[i]!);
      if (text !== undefined) {
        out[i] = text;
        continue;
      }
      const slot = this.onDisk.get(ids[i]!);
      if (slot === undefined || !this.file) out[i] = '';
      else wanted.push({ at: i, offset: this.spans[slot * 2]!, length: this.spans[slot * 2 + 1]! });
    }
    if (wanted.length === 0) return out;
    wanted.sort((a, b) => a.offset - b.offset);
    const reads: Promise<void>[] = [];
    let first = 0;
    for (let i = 1; i <= wanted.length; i++) {
      const start = wanted[first]!.offset;
      const prevEnd = wanted[i - 1]!.offset + wanted[i - 1]!.length;
      const next = wanted[i];
      if (next && next.offset - prevEnd <= READ_GAP_BYTES && next.offset + next.length - start <= MAX_READ_BYTES) continue;
      reads.push(this.readRun(wanted.slice(first, i), start, prevEnd, out));
      first = i;
    }
    await Promise.all(reads);
    return out;
  }

  private async readRun(run: { at: number; offset: number; length: number }[], start: number, end: number, out: (string | Buffer)[]): Promise<void> {
    const buf = Buffer.allocUnsafe(end - start);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await this.file!.read(buf, got, buf.length - got, start + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    for (const w of run) out[w.at] = buf.subarray(w.offset - start, w.offset - start + w.length);
  }

  async close(): Promise<void> {
    this.pending = [];
    await this.file?.close().catch(() => undefined);
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
