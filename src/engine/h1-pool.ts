// Keep-alive upstream connections for the raw-socket HTTP/1.1 forwarder (h1-wire.ts): one idle
// list per origin, newest first, each connection carrying one exchange at a time. Listeners are
// bound once per connection and report to whichever exchange uses it now.
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import { HTTP1_ALPN } from './h1-to-h2.js';
import type { ConnectPhases, UpstreamConnector, UpstreamTarget } from './upstream.js';

/** What a connection reports to the exchange using it. */
export interface UpstreamUser {
  onUpstreamData(chunk: Buffer): void;
  onUpstreamDrain(): void;
  /** The connection is gone; `eof` when the upstream ended it cleanly (FIN, no error). */
  onUpstreamClose(error: NodeJS.ErrnoException | undefined, eof: boolean): void;
}

/** Idle connections older than this are closed (unless the upstream's Keep-Alive says less). */
const IDLE_MS = 30_000;
const MAX_IDLE_PER_ORIGIN = 256;

export class UpstreamConnection {
  user: UpstreamUser | undefined;
  /** Exchanges finished on this connection. */
  uses = 0;
  idleSince = 0;
  idleLimit = IDLE_MS;
  private error: NodeJS.ErrnoException | undefined;
  private eof = false;

  constructor(
    readonly socket: net.Socket,
    readonly key: string,
    pool: Http1Pool,
  ) {
    socket.on('data', (d: Buffer) => {
      if (this.user) this.user.onUpstreamData(d);
      else socket.destroy(); // bytes nobody asked for: the connection is out of step
    });
    socket.on('drain', () => this.user?.onUpstreamDrain());
    socket.on('end', () => (this.eof = true));
    socket.on('error', (e: NodeJS.ErrnoException) => (this.error ??= e));
    socket.on('close', () => {
      pool.forget(this);
      const user = this.user;
      this.user = undefined;
      user?.onUpstreamClose(this.error, this.eof && !this.error);
    });
  }
}

export function originKey(t: UpstreamTarget): string {
  return `${t.tls ? 'https' : 'http'}|${t.host}|${t.port}`;
}

export class Http1Pool {
  private readonly idle = new Map<string, UpstreamConnection[]>();
  private readonly open = new Set<UpstreamConnection>();
  private sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly connector: UpstreamConnector) {}

  /** The connector can open raw connections (every built-in one can). */
  get usable(): boolean {
    return typeof this.connector.connect === 'function';
  }

  /** An idle connection to this origin, or undefined. */
  take(key: string): UpstreamConnection | undefined {
    const list = this.idle.get(key);
    if (!list?.length) return undefined;
    const now = performance.now();
    while (list.length) {
      const c = list.pop()!;
      if (!c.socket.destroyed && c.socket.writable && now - c.idleSince <= c.idleLimit) return c;
      c.socket.destroy();
    }
    return undefined;
  }

  async connect(target: UpstreamTarget, key: string, phases: ConnectPhases): Promise<UpstreamConnection> {
    const socket = await this.connector.connect!(target, HTTP1_ALPN, phases);
    socket.setNoDelay(true);
    const c = new UpstreamConnection(socket, key, this);
    this.open.add(c);
    return c;
  }

  /** Back to the idle list; `keepAliveSeconds` is the upstream's Keep-Alive timeout hint. */
  release(c: UpstreamConnection, keepAliveSeconds?: number): void {
    c.user = undefined;
    c.uses++;
    c.idleSince = performance.now();
    // Given a hint, stop a second before the upstream would, so a reuse never races its close
    // (as Node's agent does); a hint of a second or less means the connection is not worth keeping.
    c.idleLimit = keepAliveSeconds === undefined ? IDLE_MS : Math.min(IDLE_MS, (keepAliveSeconds - 1) * 1000);
    if (c.idleLimit <= 0) {
      c.socket.destroy();
      return;
    }
    let list = this.idle.get(c.key);
    if (!list) this.idle.set(c.key, (list = []));
    if (list.length >= MAX_IDLE_PER_ORIGIN) list.shift()!.socket.destroy();
    list.push(c);
    this.sweeper ??= setInterval(() => this.sweep(), 1000).unref();
  }

  forget(c: UpstreamConnection): void {
    this.open.delete(c);
    const list = this.idle.get(c.key);
    const i = list ? list.indexOf(c) : -1;
    if (i >= 0) list!.splice(i, 1);
  }

  private sweep(): void {
    const now = performance.now();
    for (const list of this.idle.values()) {
      for (const c of list.slice()) if (now - c.idleSince > c.idleLimit) c.socket.destroy();
    }
  }

  destroy(): void {
    if (this.sweeper) clearInterval(this.sweeper);
    this.sweeper = undefined;
    for (const c of this.open) c.socket.destroy();
    this.open.clear();
    this.idle.clear();
  }
}
