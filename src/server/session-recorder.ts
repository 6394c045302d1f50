// Named session recordings: between start and stop, every exchange the inspector sees is
// collected; stop writes them as a capture file `$AGENTTAP_HOME/sessions/<id>.jsonl` with a
// `<id>.json` meta beside it, so a session can be listed, reopened and exported later.
import { mkdir, readdir, readFile, writeFile, appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { uuidv7 } from '../capture/ids.js';
import type { ExchangeStore } from './exchange-store.js';
import { SESSION_ID_PATTERN } from './path-params.js';
import type { RecordingState, Row, SessionMeta } from './protocol.js';


export class SessionError extends Error {
  constructor(
    readonly code: 'bad-id' | 'not-found' | 'already-recording' | 'not-recording',
    message: string,
  ) {
    super(message);
    this.name = 'SessionError';
  }
}

export class SessionRecorder {
  private current: (RecordingState & { ids: string[] }) | undefined;
  private readonly onNew = (row: Row): void => {
    if (this.current) {
      this.current.ids.push(row.id);
      this.current.count = this.current.ids.length;
    }
  };

  constructor(
    readonly dir: string,
    private readonly store: ExchangeStore,
  ) {}

  get state(): RecordingState | undefined {
    if (!this.current) return undefined;
    const { id, name, startedAt, count } = this.current;
    return { id, name, startedAt, count };
  }

  start(name: string): RecordingState {
    if (this.current) throw new SessionError('already-recording', `already recording session "${this.current.name}"`);
    const clean = name.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 200);
    const id = uuidv7();
    this.current = { id, name: clean || `session ${new Date().toISOString().slice(0, 19).replace('T', ' ')}`, startedAt: new Date().toISOString(), count: 0, ids: [] };
    this.store.on('new', this.onNew);
    return this.state!;
  }

  /** Writes the collected exchanges and the meta; returns the meta. */
  async stop(): Promise<SessionMeta> {
    const cur = this.current;
    if (!cur) throw new SessionError('not-recording', 'no session is being recorded');
    this.store.off('new', this.onNew);
    this.current = undefined;
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const file = join(this.dir, `${cur.id}.jsonl`);
    await writeFile(file, '', { mode: 0o600 });
    let lines: string[] = [];
    let count = 0;
    for (const id of cur.ids) {
      const record = await this.store.get(id);
      if (!record) continue;
      lines.push(JSON.stringify(record));
      count++;
      if (lines.length >= 500) {
        await appendFile(file, lines.join('\n') + '\n');
        lines = [];
      }
    }
    if (lines.length) await appendFile(file, lines.join('\n') + '\n');
    const meta: SessionMeta = { id: cur.id, name: cur.name, startedAt: cur.startedAt, endedAt: new Date().toISOString(), count };
    await writeFile(join(this.dir, `${cur.id}.json`), JSON.stringify(meta, null, 2) + '\n', { mode: 0o600 });
    return meta;
  }

  async list(): Promise<SessionMeta[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const out: SessionMeta[] = [];
    for (const n of names) {
      const id = n.endsWith('.json') ? n.slice(0, -5) : '';
      if (!SESSION_ID_PATTERN.test(id)) continue;
      try {
        const meta = JSON.parse(await readFile(join(this.dir, n), 'utf8')) as SessionMeta;
        if (meta.id === id && typeof meta.name === 'string') out.push(meta);
      } catch {
        /* a half-written meta is skipped */
      }
    }
    return out.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  }

  /** The capture file of a saved session, after checking the id is one of ours. */
  fileOf(id: string): string {
    if (!SESSION_ID_PATTERN.test(id)) throw new SessionError('bad-id', 'not a session id');
    return join(this.dir, `${id}.jsonl`);
  }

  async metaOf(id: string): Promise<SessionMeta> {
    if (!SESSION_ID_PATTERN.test(id)) throw new SessionError('bad-id', 'not a session id');
    try {
      return JSON.parse(await readFile(join(this.dir, `${id}.json`), 'utf8')) as SessionMeta;
    } catch {
      throw new SessionError('not-found', `no saved session ${id}`);
    }
  }

  dispose(): void {
    this.store.off('new', this.onNew);
    this.current = undefined;
  }
}
