// Rendered report fragments, kept until the report is assembled in session order. They stay in
// memory up to a budget (a typical capture's whole log) and spill to a temporary file beyond
// it, so a 2 GB capture's report never holds its log in memory.
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class FragmentStore {
  private readonly inMemory = new Map<string, string>();
  private readonly onDisk = new Map<string, [offset: number, length: number]>();
  private memoryChars = 0;
  private dir?: string;
  private file?: WriteStream;
  private written = 0;
  private reader?: FileHandle;

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
      this.file = createWriteStream(join(this.dir, 'fragments'), { highWaterMark: 1 << 20 });
    }
    const bytes = Buffer.byteLength(text);
    this.onDisk.set(id, [this.written, bytes]);
    this.written += bytes;
    if (!this.file.write(text)) await once(this.file, 'drain');
  }

  /** Call once after the last add, before get. */
  async seal(): Promise<void> {
    if (!this.file) return;
    this.file.end();
    await once(this.file, 'finish');
    this.reader = await open(join(this.dir!, 'fragments'), 'r');
  }

  /** Fragments in the order given (missing ids give nothing), read in parallel when on disk. */
  async get(ids: string[]): Promise<(string | Buffer)[]> {
    return Promise.all(
      ids.map(async (id) => {
        const text = this.inMemory.get(id);
        if (text !== undefined) return text;
        const at = this.onDisk.get(id);
        if (!at || !this.reader) return '';
        const buf = Buffer.allocUnsafe(at[1]);
        await this.reader.read(buf, 0, at[1], at[0]);
        return buf;
      }),
    );
  }

  async close(): Promise<void> {
    this.file?.destroy();
    await this.reader?.close().catch(() => undefined);
    if (this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
