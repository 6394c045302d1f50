// `agenttap proxy --hosts-redirect HOST`: a marked block in the hosts file sends HOST to loopback,
// where agenttap listens on 443 with a certificate for HOST. The real upstream is resolved with DNS
// directly (dns.Resolver → the system's nameservers), since the hosts file now lies about HOST.
import { readFileSync, writeFileSync } from 'node:fs';
import { Resolver } from 'node:dns/promises';

export const BLOCK_START = '# >>> agenttap hosts-redirect';
export const BLOCK_END = '# <<< agenttap hosts-redirect';

export class HostsFileError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** The hosts file of this OS; AGENTTAP_HOSTS_FILE overrides it (tests, chroots). */
export function hostsFilePath(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env['AGENTTAP_HOSTS_FILE']) return env['AGENTTAP_HOSTS_FILE'];
  if (platform === 'win32') return `${env['SystemRoot'] ?? 'C:\\Windows'}\\System32\\drivers\\etc\\hosts`;
  return '/etc/hosts';
}

const HOST_RE = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/i;

export function validateHost(host: string): string {
  const h = host.trim().toLowerCase();
  if (!HOST_RE.test(h)) throw new HostsFileError(`--hosts-redirect needs a host name like api.openai.com, got "${host}"`, 'bad-host');
  return h;
}

/** The file text without agenttap's block (pure). */
export function removeBlock(text: string): string {
  const lines = text.split(/\r?\n/);
  const out: string[] = [];
  let inside = false;
  for (const line of lines) {
    if (line.startsWith(BLOCK_START)) inside = true;
    else if (line.startsWith(BLOCK_END)) inside = false;
    else if (!inside) out.push(line);
  }
  while (out.length > 1 && out[out.length - 1] === '' && out[out.length - 2] === '') out.pop();
  return out.join(text.includes('\r\n') ? '\r\n' : '\n');
}

/** The file text with one block mapping `hosts` to 127.0.0.1 (replacing an old block; pure). */
export function withBlock(text: string, hosts: readonly string[], note = 'remove with: agenttap proxy --revert'): string {
  const eol = text.includes('\r\n') ? '\r\n' : '\n';
  let base = removeBlock(text);
  if (base && !base.endsWith(eol)) base += eol;
  const block = [`${BLOCK_START} (${note})`, ...hosts.map((h) => `127.0.0.1 ${h}`), BLOCK_END, ''];
  return base + block.join(eol);
}

/** Hosts listed in agenttap's block (pure). */
export function blockHosts(text: string): string[] {
  const hosts: string[] = [];
  let inside = false;
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith(BLOCK_START)) inside = true;
    else if (line.startsWith(BLOCK_END)) inside = false;
    else if (inside) {
      const f = line.trim().split(/\s+/);
      if (f.length >= 2 && !f[0]!.startsWith('#')) hosts.push(...f.slice(1));
    }
  }
  return hosts;
}

function rewrite(path: string, transform: (t: string) => string): { before: string; after: string } {
  let before: string;
  try {
    before = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') before = '';
    else throw explain(e as NodeJS.ErrnoException, path);
  }
  const after = transform(before);
  if (after === before) return { before, after };
  try {
    // In place, not rename: /etc/hosts is often a bind mount (containers) that cannot be replaced.
    writeFileSync(path, after);
  } catch (e) {
    throw explain(e as NodeJS.ErrnoException, path);
  }
  return { before, after };
}

function explain(e: NodeJS.ErrnoException, path: string): HostsFileError {
  if (e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS') {
    return new HostsFileError(
      `cannot write ${path} (${e.code}): editing the hosts file needs root — run with sudo, or capture with agenttap run (no system change needed)`,
      'hosts-not-writable',
    );
  }
  return new HostsFileError(`cannot update ${path}: ${e.message}`, e.code ?? 'hosts-io');
}

export function addRedirects(path: string, hosts: readonly string[]): void {
  rewrite(path, (t) => withBlock(t, [...new Set([...blockHosts(t), ...hosts])]));
}

/** Remove agenttap's block; returns the hosts that were redirected (empty when there was none). */
export function removeRedirects(path: string): string[] {
  let removed: string[] = [];
  rewrite(path, (t) => {
    removed = blockHosts(t);
    return removed.length || t.includes(BLOCK_START) ? removeBlock(t) : t;
  });
  return removed;
}

/**
 * The real address of HOST, asking DNS servers directly (not getaddrinfo, which reads the hosts
 * file we just changed). IPv4 first, then IPv6.
 */
export async function resolveBypassingHosts(host: string, servers?: string[]): Promise<string> {
  const r = new Resolver({ timeout: 3000, tries: 2 });
  if (servers?.length) r.setServers(servers);
  try {
    const v4 = await r.resolve4(host);
    if (v4[0]) return v4[0];
  } catch {
    // fall through to AAAA
  }
  try {
    const v6 = await r.resolve6(host);
    if (v6[0]) return v6[0];
  } catch (e) {
    throw new HostsFileError(`cannot resolve ${host} through DNS (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): check the network or pass --map-remote ${host}=https://IP`, 'dns-failed');
  }
  throw new HostsFileError(`DNS has no address for ${host}`, 'dns-failed');
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | { address: string; family: number }[], family?: number) => void;

/**
 * A `lookup` for net/tls/http agents: redirected hosts are resolved through DNS (the hosts file
 * now points them at us), every other host the usual way (getaddrinfo).
 */
export function lookupBypassingHosts(hosts: readonly string[]): (hostname: string, options: { all?: boolean } | number, callback: LookupCallback) => void {
  const redirected = new Set(hosts.map((h) => h.toLowerCase()));
  const cache = new Map<string, { address: string; expires: number }>();
  return (hostname, options, callback) => {
    const all = typeof options === 'object' && options?.all === true;
    if (!redirected.has(hostname.toLowerCase())) {
      void import('node:dns').then((dns) => dns.lookup(hostname, typeof options === 'number' ? { family: options } : { ...options, all } as never, callback as never));
      return;
    }
    const hit = cache.get(hostname);
    const done = (address: string): void => {
      const family = address.includes(':') ? 6 : 4;
      if (all) callback(null, [{ address, family }]);
      else callback(null, address, family);
    };
    if (hit && hit.expires > Date.now()) return done(hit.address);
    resolveBypassingHosts(hostname).then(
      (address) => {
        cache.set(hostname, { address, expires: Date.now() + 60_000 });
        done(address);
      },
      (e: Error) => callback(Object.assign(new Error(e.message), { code: 'ENOTFOUND' }) as NodeJS.ErrnoException, ''),
    );
  };
}
