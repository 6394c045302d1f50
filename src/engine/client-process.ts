// Which local process owns a client connection: the proxy sees a loopback peer (ip, port); the OS
// knows which socket has that local port and which process holds the socket.
// Linux: /proc/net/tcp{,6} → socket inode → /proc/<pid>/fd/* → pid, /proc/<pid>/comm.
// macOS: lsof. Cheap and cached: the inode→pid map is rebuilt only on a miss, at most every
// `rescanMs`, and pids named as "preferred" (run's child tree) are searched first.
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

export interface ClientProcess {
  pid: number;
  /** Short process name (/proc/<pid>/comm, or lsof's command). */
  process: string;
}

export interface ClientProcessResolver {
  /**
   * The process whose socket has local port `clientPort` connected to our port `serverPort`.
   * Off the event loop: reading /proc/net/tcp costs milliseconds of kernel time per read (it walks
   * the whole connection hash), so it runs on libuv's thread pool. `ipv6`: look in tcp6 first.
   */
  lookup(clientPort: number, serverPort: number, ipv6?: boolean): Promise<ClientProcess | undefined>;
  /** Same, synchronously (Linux only; blocks for a few ms): for low-volume callers like `run`. */
  lookupSync(clientPort: number, serverPort: number, ipv6?: boolean): ClientProcess | undefined;
  /** Parent pid of a process (Linux /proc), undefined when gone or elsewhere. */
  parentOf(pid: number): number | undefined;
}

export interface ResolverOptions {
  /** Pids whose descriptors are searched before a full /proc scan (e.g. `run`'s child tree). */
  preferredPids?: () => number[];
  rescanMs?: number;
  /** For tests: another /proc root. */
  procRoot?: string;
  platform?: NodeJS.Platform;
}

/** Parse one /proc/net/tcp{,6} table into (localPort, remotePort) → inode. Pure. */
export function parseProcNetTcp(text: string): { localPort: number; remotePort: number; inode: number }[] {
  const rows: { localPort: number; remotePort: number; inode: number }[] = [];
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i]!.trim().split(/\s+/);
    if (f.length < 10) continue;
    const local = f[1]!;
    const remote = f[2]!;
    const inode = Number(f[9]);
    const lp = parseInt(local.slice(local.lastIndexOf(':') + 1), 16);
    const rp = parseInt(remote.slice(remote.lastIndexOf(':') + 1), 16);
    if (Number.isFinite(lp) && Number.isFinite(rp) && inode > 0) rows.push({ localPort: lp, remotePort: rp, inode });
  }
  return rows;
}

/** Parse `lsof -F pcn` output: the pid/command holding a socket with local port `clientPort` to `serverPort`. */
export function parseLsof(text: string, clientPort: number, serverPort: number): ClientProcess | undefined {
  let pid = 0;
  let cmd = '';
  for (const line of text.split('\n')) {
    const tag = line[0];
    const val = line.slice(1);
    if (tag === 'p') pid = Number(val);
    else if (tag === 'c') cmd = val;
    else if (tag === 'n') {
      const m = /:(\d+)->.*:(\d+)$/.exec(val);
      if (m && Number(m[1]) === clientPort && Number(m[2]) === serverPort && pid) return { pid, process: cmd };
    }
  }
  return undefined;
}

export function createClientProcessResolver(opts: ResolverOptions = {}): ClientProcessResolver {
  const proc = opts.procRoot ?? '/proc';
  const platform = opts.platform ?? process.platform;
  const rescanMs = opts.rescanMs ?? 250;
  let inodeToPid = new Map<number, number>();
  let lastScan = 0;
  const names = new Map<number, string>();

  const socketInodes = (pid: number, into: Map<number, number>): void => {
    let fds: string[];
    try {
      fds = readdirSync(`${proc}/${pid}/fd`);
    } catch {
      return; // gone, or not ours to read
    }
    for (const fd of fds) {
      try {
        const link = readlinkSync(`${proc}/${pid}/fd/${fd}`);
        if (link.startsWith('socket:[')) into.set(Number(link.slice(8, -1)), pid);
      } catch {
        // fd closed meanwhile
      }
    }
  };

  const fullScan = (): void => {
    const next = new Map<number, number>();
    let pids: string[] = [];
    try {
      pids = readdirSync(proc).filter((d) => /^\d+$/.test(d));
    } catch {
      return;
    }
    for (const p of pids) socketInodes(Number(p), next);
    inodeToPid = next;
    lastScan = Date.now();
  };

  const nameOf = (pid: number): string => {
    const cached = names.get(pid);
    if (cached) return cached;
    let n = '';
    try {
      n = readFileSync(`${proc}/${pid}/comm`, 'utf8').trim();
    } catch {
      n = '';
    }
    if (n) names.set(pid, n);
    return n;
  };

  const tables = (ipv6: boolean): string[] => (ipv6 ? ['tcp6', 'tcp'] : ['tcp', 'tcp6']);
  const findInode = (text: string, clientPort: number, serverPort: number): number | undefined =>
    parseProcNetTcp(text).find((r) => r.localPort === clientPort && r.remotePort === serverPort)?.inode;

  const inodeFor = (clientPort: number, serverPort: number, ipv6: boolean): number | undefined => {
    for (const table of tables(ipv6)) {
      let text: string;
      try {
        text = readFileSync(`${proc}/net/${table}`, 'utf8');
      } catch {
        continue;
      }
      const inode = findInode(text, clientPort, serverPort);
      if (inode !== undefined) return inode;
    }
    return undefined;
  };

  const inodeForAsync = async (clientPort: number, serverPort: number, ipv6: boolean): Promise<number | undefined> => {
    for (const table of tables(ipv6)) {
      let text: string;
      try {
        text = await readFile(`${proc}/net/${table}`, 'utf8');
      } catch {
        continue;
      }
      const inode = findInode(text, clientPort, serverPort);
      if (inode !== undefined) return inode;
    }
    return undefined;
  };

  /** inode → pid: the cache, then the preferred pids, then (rate-limited) every process. */
  const pidFor = (inode: number): number | undefined => {
    let pid = inodeToPid.get(inode);
    if (pid === undefined && opts.preferredPids) {
      const m = new Map<number, number>();
      for (const p of opts.preferredPids()) socketInodes(p, m);
      for (const [k, v] of m) inodeToPid.set(k, v);
      pid = m.get(inode);
    }
    if (pid === undefined && Date.now() - lastScan >= rescanMs) {
      fullScan();
      pid = inodeToPid.get(inode);
    }
    return pid;
  };

  const linuxLookup = (clientPort: number, serverPort: number, ipv6: boolean): ClientProcess | undefined => {
    const inode = inodeFor(clientPort, serverPort, ipv6);
    if (inode === undefined) return undefined;
    const pid = pidFor(inode);
    return pid === undefined ? undefined : { pid, process: nameOf(pid) };
  };

  const linuxLookupAsync = async (clientPort: number, serverPort: number, ipv6: boolean): Promise<ClientProcess | undefined> => {
    const inode = await inodeForAsync(clientPort, serverPort, ipv6);
    if (inode === undefined) return undefined;
    const pid = pidFor(inode);
    return pid === undefined ? undefined : { pid, process: nameOf(pid) };
  };

  const lsofLookup = (clientPort: number, serverPort: number): Promise<ClientProcess | undefined> =>
    new Promise((resolve) => {
      execFile('lsof', ['-nP', `-iTCP:${clientPort}`, '-sTCP:ESTABLISHED', '-Fpcn'], { timeout: 2000 }, (err, stdout) => {
        resolve(err && !stdout ? undefined : parseLsof(String(stdout), clientPort, serverPort));
      });
    });

  const parentOf = (pid: number): number | undefined => {
    if (platform !== 'linux') return undefined;
    try {
      const stat = readFileSync(`${proc}/${pid}/stat`, 'utf8');
      // "pid (comm with spaces) state ppid …": split after the last ')'.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ppid = Number(rest[1]);
      return Number.isFinite(ppid) ? ppid : undefined;
    } catch {
      return undefined;
    }
  };

  return {
    lookup: async (clientPort, serverPort, ipv6 = false) => {
      if (platform === 'linux') return linuxLookupAsync(clientPort, serverPort, ipv6);
      if (platform === 'darwin') return lsofLookup(clientPort, serverPort);
      return undefined;
    },
    lookupSync: (clientPort, serverPort, ipv6 = false) => (platform === 'linux' ? linuxLookup(clientPort, serverPort, ipv6) : undefined),
    parentOf,
  };
}

/** The record fields pid attribution fills (kept structural: the engine knows no capture types). */
interface Attributable {
  client?: { ip: string; port: number; pid?: number; process?: string };
}

export interface PidAnnotatorOptions {
  /**
   * Synchronous lookups allowed per second (each blocks the event loop for a few ms: reading
   * /proc/net/tcp walks the kernel's whole connection table). Within the budget the pid is known
   * at once, even for an exchange that ends a millisecond later; beyond it, lookups run on the
   * thread pool and land if they finish before the exchange ends. Default 20; `run` (one agent,
   * few connections) passes Infinity.
   */
  syncPerSecond?: number;
}

/**
 * A recorder `annotate` hook that fills client.pid / client.process, looked up when the exchange
 * starts (the client is connected then). `ports` are our listening ports (forward, reverse,
 * redirect), read lazily since they are known only once the proxy listens. Results are cached per
 * client port for a few seconds: a keep-alive connection carries many exchanges.
 */
export function pidAnnotator(resolver: ClientProcessResolver, ports: () => readonly number[], o: PidAnnotatorOptions = {}): (record: Attributable, phase: 'start' | 'end') => void {
  type Entry = { hit: ClientProcess | undefined; at: number; pending?: Promise<void> };
  const cache = new Map<number, Entry>();
  const perSecond = o.syncPerSecond ?? 20;
  let windowStart = 0;
  let used = 0;
  const budget = (): boolean => {
    const now = Date.now();
    if (now - windowStart >= 1000) {
      windowStart = now;
      used = 0;
    }
    return used++ < perSecond;
  };
  const fresh = (e: Entry | undefined): boolean => !!e && Date.now() - e.at <= 3000;
  const apply = (c: NonNullable<Attributable['client']>, hit: ClientProcess | undefined): void => {
    if (!hit) return;
    c.pid = hit.pid;
    if (hit.process) c.process = hit.process;
  };
  const remember = (port: number, e: Entry): void => {
    if (cache.size > 4096) cache.clear();
    cache.set(port, e);
  };
  return (record, phase) => {
    const c = record.client;
    if (!c || c.pid !== undefined || !c.port) return;
    const ipv6 = c.ip.includes(':') && !c.ip.startsWith('::ffff:');
    const entry = cache.get(c.port);
    if (entry && (entry.pending || (entry.hit && fresh(entry)))) return apply(c, entry.hit);
    if (phase === 'end') return; // an async lookup that has not landed: the record goes without
    if (budget()) {
      let hit: ClientProcess | undefined;
      for (const sp of ports()) {
        hit = resolver.lookupSync(c.port, sp, ipv6);
        if (hit) break;
      }
      remember(c.port, { hit, at: Date.now() });
      return apply(c, hit);
    }
    const e: Entry = { hit: undefined, at: Date.now() };
    e.pending = (async () => {
      for (const sp of ports()) {
        const hit = await resolver.lookup(c.port, sp, ipv6).catch(() => undefined);
        if (hit) {
          e.hit = hit;
          break;
        }
      }
      e.at = Date.now();
      delete e.pending;
    })();
    remember(c.port, e);
  };
}

/** True when `pid` is `root` or one of its descendants (walks parents; bounded). */
export function isInTree(resolver: ClientProcessResolver, pid: number, root: number): boolean {
  let p: number | undefined = pid;
  for (let i = 0; i < 64 && p !== undefined && p > 1; i++) {
    if (p === root) return true;
    p = resolver.parentOf(p);
  }
  return false;
}

/** Descendants of `root` (Linux /proc walk), for the resolver's preferred pids. */
export function processTree(root: number, procRoot = '/proc'): number[] {
  const children = new Map<number, number[]>();
  let pids: string[] = [];
  try {
    pids = readdirSync(procRoot).filter((d) => /^\d+$/.test(d));
  } catch {
    return [root];
  }
  for (const p of pids) {
    try {
      const stat = readFileSync(`${procRoot}/${p}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(p));
      children.set(ppid, list);
    } catch {
      // exited
    }
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length && out.length < 10_000) {
    const p = queue.shift()!;
    out.push(p);
    queue.push(...(children.get(p) ?? []));
  }
  return out;
}
