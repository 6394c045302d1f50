// Which hosts are tunnelled without decryption: the user's `--passthrough` globs, plus hosts
// learned when a client rejected our certificate (certificate pinning, its own CA store),
// kept in $AGENTTAP_HOME/passthrough.json so every later run tunnels them too.
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type PassthroughReason = 'passthrough' | 'learned';

export interface LearnedHost {
  host: string;
  learnedAt: string;
  /** What the client said, e.g. "tlsv1 alert unknown ca". */
  why: string;
}

interface LearnedFile {
  version: 1;
  hosts: LearnedHost[];
}

export const PASSTHROUGH_FILE = 'passthrough.json';

/**
 * Host glob with an optional port: `*`, `*.openai.com`, `api.anthropic.com:443`, `10.0.0.*`.
 * `*` matches any run of characters (dots included); hosts compare case-insensitively.
 */
export function hostPatternMatches(pattern: string, host: string, port: number): boolean {
  let hostPart = pattern.trim().toLowerCase();
  let portPart: string | undefined;
  const m = /^(.*):(\d+|\*)$/.exec(hostPart);
  if (m && !hostPart.endsWith(']') && (hostPart.match(/:/g)?.length ?? 0) === 1) {
    hostPart = m[1]!;
    portPart = m[2];
  } else if (/^\[.*\]:(\d+)$/.test(hostPart)) {
    const i = hostPart.lastIndexOf(':');
    portPart = hostPart.slice(i + 1);
    hostPart = hostPart.slice(0, i);
  }
  if (portPart && portPart !== '*' && Number(portPart) !== port) return false;
  hostPart = hostPart.replace(/^\[|\]$/g, '');
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  const re = new RegExp('^' + hostPart.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
  return re.test(h);
}

export function validatePassthroughPattern(pattern: string): string | undefined {
  if (!pattern.trim()) return 'empty pattern';
  if (/[\s/]/.test(pattern.trim())) return `"${pattern}" is not a host glob (expected e.g. "*.example.com" or "host:443")`;
  return undefined;
}

export interface PassthroughPolicyOptions {
  /** `--passthrough` globs. */
  patterns?: string[];
  /** $AGENTTAP_HOME: where passthrough.json lives; without it nothing is learned or loaded. */
  home?: string;
  /** Learn hosts whose clients reject our certificate (default true; `--no-learn` turns it off). */
  learn?: boolean;
}

export class PassthroughPolicy {
  private readonly patterns: string[];
  private readonly file?: string;
  readonly learnEnabled: boolean;
  private learned = new Map<string, LearnedHost>();
  private mtimeMs = -1;
  private checkedAt = 0;

  constructor(opts: PassthroughPolicyOptions = {}) {
    this.patterns = opts.patterns ?? [];
    this.file = opts.home ? join(opts.home, PASSTHROUGH_FILE) : undefined;
    this.learnEnabled = (opts.learn ?? true) && !!this.file;
    this.reload(true);
  }

  /** Why this host is tunnelled, or undefined when it is intercepted. */
  match(host: string, port: number): PassthroughReason | undefined {
    for (const p of this.patterns) if (hostPatternMatches(p, host, port)) return 'passthrough';
    this.reload(false);
    if (this.learned.has(host.toLowerCase())) return 'learned';
    return undefined;
  }

  learnedHosts(): LearnedHost[] {
    this.reload(true);
    return [...this.learned.values()];
  }

  /**
   * Remember a host whose client rejected our certificate. Returns true when it is new.
   * The file is merged with what other agenttap processes wrote and replaced atomically.
   */
  learn(host: string, why: string): boolean {
    if (!this.learnEnabled || !this.file) return false;
    const key = host.toLowerCase();
    this.reload(true);
    if (this.learned.has(key)) return false;
    const entry: LearnedHost = { host: key, learnedAt: new Date().toISOString(), why };
    this.learned.set(key, entry);
    const data: LearnedFile = { version: 1, hosts: [...this.learned.values()] };
    try {
      mkdirSync(join(this.file, '..'), { recursive: true, mode: 0o700 });
      const tmp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(data, null, 2) + '\n');
      renameSync(tmp, this.file);
      this.mtimeMs = statSync(this.file).mtimeMs;
    } catch {
      // Still tunnelled for this process's lifetime; the file is best effort.
    }
    return true;
  }

  /** Re-read passthrough.json when it changed (another process may have learned a host). */
  private reload(force: boolean): void {
    if (!this.file) return;
    const now = Date.now();
    if (!force && now - this.checkedAt < 1000) return;
    this.checkedAt = now;
    let mtime: number;
    try {
      mtime = statSync(this.file).mtimeMs;
    } catch {
      return;
    }
    if (mtime === this.mtimeMs) return;
    try {
      const parsed = JSON.parse(readFileSync(this.file, 'utf8')) as Partial<LearnedFile>;
      const next = new Map(this.learned);
      for (const h of Array.isArray(parsed.hosts) ? parsed.hosts : []) {
        if (h && typeof h.host === 'string') next.set(h.host.toLowerCase(), { host: h.host.toLowerCase(), learnedAt: String(h.learnedAt ?? ''), why: String(h.why ?? '') });
      }
      this.learned = next;
      this.mtimeMs = mtime;
    } catch {
      // A broken file is ignored (and replaced on the next learn) rather than stopping the proxy.
      this.mtimeMs = mtime;
    }
  }
}

/**
 * Does this TLS handshake error mean the client refused our certificate? OpenSSL-based clients
 * (curl, Python, Go) send an alert such as unknown_ca or bad_certificate before giving up.
 */
export function isCertificateRejection(err: unknown): string | undefined {
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === 'string' ? e.code : '';
  const msg = typeof e?.message === 'string' ? e.message : '';
  const m = /(?:tlsv1|sslv3) alert (unknown ca|bad certificate|certificate unknown|certificate expired|unsupported certificate|certificate revoked|access denied|decrypt error)/i.exec(msg);
  if (m) return m[0]!.toLowerCase();
  if (/^ERR_SSL_(TLSV1|SSLV3)_ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN)$/.test(code)) return code;
  return undefined;
}
