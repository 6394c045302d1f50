// Chaining to another proxy (corporate proxies, a second agenttap): `--upstream-proxy URL`, or
// the proxy process's own HTTPS_PROXY / HTTP_PROXY when the flag is absent, with NO_PROXY.
// Every upstream connection goes through the chained proxy as a CONNECT tunnel (for plain
// http targets too), so TLS, h2 and WebSocket work through it unchanged.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { DirectConnector, serverName, type ConnectPhases, type DirectConnectorOptions, type UpstreamConnector, type UpstreamTarget } from './upstream.js';

export interface UpstreamProxy {
  /** http: or https: (TLS to the proxy itself). */
  protocol: 'http:' | 'https:';
  host: string;
  port: number;
  /** `Proxy-Authorization` value (Basic), from user:pass in the URL. */
  authorization?: string;
  /** The URL with the password hidden, for logs and records. */
  display: string;
}

export interface UpstreamProxySettings {
  /** For https (and wss, and tunnelled) targets. */
  https?: UpstreamProxy;
  /** For plain http targets. */
  http?: UpstreamProxy;
  noProxy: string[];
  /** Where the settings came from, for the startup line. */
  source: 'flag' | 'env' | 'none';
}

export class UpstreamProxyError extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** The chained proxy's status when it answered the CONNECT with one. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'UpstreamProxyError';
  }
}

/** Parse `http(s)://[user:pass@]host:port`. Throws UpstreamProxyError code BAD_UPSTREAM_PROXY. */
export function parseUpstreamProxy(raw: string, from = '--upstream-proxy'): UpstreamProxy {
  let text = raw.trim();
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) text = `http://${text}`; // env values often omit the scheme
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw new UpstreamProxyError('BAD_UPSTREAM_PROXY', `${from}: "${raw}" is not a URL (expected http://[user:pass@]host:port)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new UpstreamProxyError('BAD_UPSTREAM_PROXY', `${from}: ${u.protocol.replace(':', '')} proxies are not supported (use http:// or https://)`);
  }
  if (!u.hostname) throw new UpstreamProxyError('BAD_UPSTREAM_PROXY', `${from}: "${raw}" has no host`);
  const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
  const proxy: UpstreamProxy = {
    protocol: u.protocol,
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port,
    display: `${u.protocol}//${u.username ? `${decodeURIComponent(u.username)}:***@` : ''}${u.host}`,
  };
  if (u.username || u.password) {
    const cred = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
    proxy.authorization = `Basic ${Buffer.from(cred).toString('base64')}`;
  }
  return proxy;
}

function envValue(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const v = env[name.toLowerCase()] ?? env[name.toUpperCase()];
  return v && v.trim() ? v.trim() : undefined;
}

export interface ResolveUpstreamProxyOptions {
  /** `--upstream-proxy`. */
  flag?: string;
  /** `--no-proxy` (comma-separated); NO_PROXY from the environment is added to it. */
  noProxy?: string;
  env?: NodeJS.ProcessEnv;
}

/** Settings from the flag, else from the environment. Throws UpstreamProxyError on a bad URL. */
export function resolveUpstreamProxy(opts: ResolveUpstreamProxyOptions): UpstreamProxySettings {
  const env = opts.env ?? process.env;
  const noProxy = [opts.noProxy, envValue(env, 'no_proxy')]
    .filter((v): v is string => !!v)
    .flatMap((v) => v.split(/[\s,]+/))
    .map((s) => s.trim())
    .filter(Boolean);
  if (opts.flag) {
    const p = parseUpstreamProxy(opts.flag);
    return { https: p, http: p, noProxy, source: 'flag' };
  }
  const https = envValue(env, 'https_proxy');
  const http = envValue(env, 'http_proxy');
  const settings: UpstreamProxySettings = { noProxy, source: https || http ? 'env' : 'none' };
  if (https) settings.https = parseUpstreamProxy(https, 'HTTPS_PROXY');
  if (http) settings.http = parseUpstreamProxy(http, 'HTTP_PROXY');
  return settings;
}

/**
 * Drop environment proxies that point at this very proxy (a shell that exported
 * HTTPS_PROXY=agenttap and then started agenttap): chaining to ourselves would loop.
 * Only our own listening addresses count; other loopback upstreams are fine.
 */
export function withoutSelf(settings: UpstreamProxySettings, own: { host: string; port: number }[]): UpstreamProxySettings {
  const isSelf = (p?: UpstreamProxy) =>
    !!p && own.some((a) => a.port === p.port && (sameHost(a.host, p.host) || (isLoopbackOrAny(a.host) && isLoopback(p.host))));
  const out = { ...settings };
  if (isSelf(out.https)) delete out.https;
  if (isSelf(out.http)) delete out.http;
  if (!out.https && !out.http) out.source = 'none';
  return out;
}

function sameHost(a: string, b: string): boolean {
  return a.toLowerCase().replace(/^\[|\]$/g, '') === b.toLowerCase().replace(/^\[|\]$/g, '');
}
function isLoopback(h: string): boolean {
  const x = h.toLowerCase().replace(/^\[|\]$/g, '');
  return x === 'localhost' || x === '::1' || x.startsWith('127.');
}
function isLoopbackOrAny(h: string): boolean {
  const x = h.replace(/^\[|\]$/g, '');
  return isLoopback(x) || x === '0.0.0.0' || x === '::';
}

/** NO_PROXY semantics as curl: `*`, `host`, `.domain` / `*.domain` (subdomains), `host:port`, IP literals. */
export function noProxyMatches(rules: string[], host: string, port: number): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  for (const raw of rules) {
    let r = raw.toLowerCase();
    if (r === '*') return true;
    let rulePort: number | undefined;
    const m = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(r);
    if (m) {
      r = m[1]!;
      rulePort = Number(m[2]);
    }
    if (rulePort !== undefined && rulePort !== port) continue;
    r = r.replace(/^\[|\]$/g, '').replace(/^\*?\./, '');
    if (!r) continue;
    if (h === r || h.endsWith(`.${r}`)) return true;
  }
  return false;
}

/** The chained proxy to use for a target, or undefined to connect directly. */
export function proxyFor(settings: UpstreamProxySettings | undefined, target: { host: string; port: number; tls: boolean }): UpstreamProxy | undefined {
  if (!settings) return undefined;
  const p = target.tls ? settings.https : (settings.http ?? settings.https);
  if (!p) return undefined;
  if (noProxyMatches(settings.noProxy, target.host, target.port)) return undefined;
  return p;
}

export interface ConnectViaProxyOptions {
  timeoutMs?: number;
  /** Verify the https proxy's own certificate (default true). */
  rejectUnauthorized?: boolean;
  /** Trusted roots for an https proxy (the same as for upstreams). */
  secureContext?: tls.SecureContext;
}

/**
 * Open a CONNECT tunnel to host:port through the chained proxy. Resolves with a socket whose
 * bytes go to the target (wrap it in TLS for an https target); rejects with
 * UpstreamProxyError (PROXY_CONNECT_REFUSED with the proxy's status, or PROXY_UNREACHABLE).
 */
export function connectViaProxy(proxy: UpstreamProxy, target: { host: string; port: number }, opts: ConnectViaProxyOptions = {}): Promise<net.Socket> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const socket: net.Socket =
      proxy.protocol === 'https:'
        ? tls.connect({ host: proxy.host, port: proxy.port, servername: net.isIP(proxy.host) ? undefined : proxy.host, ALPNProtocols: ['http/1.1'], rejectUnauthorized: opts.rejectUnauthorized ?? true, secureContext: opts.secureContext })
        : net.connect({ host: proxy.host, port: proxy.port });
    socket.setNoDelay(true);
    let settled = false;
    let head = Buffer.alloc(0);
    const fail = (err: UpstreamProxyError) => {
      if (settled) return;
      settled = true;
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onError = (e: NodeJS.ErrnoException) =>
      fail(new UpstreamProxyError(e.code ?? 'PROXY_UNREACHABLE', `upstream proxy ${proxy.display} unreachable: ${e.message}`));
    const onClose = () => fail(new UpstreamProxyError('PROXY_CLOSED', `upstream proxy ${proxy.display} closed the connection before answering CONNECT`));
    const onTimeout = () => fail(new UpstreamProxyError('PROXY_TIMEOUT', `upstream proxy ${proxy.display} did not answer CONNECT within ${timeoutMs} ms`));
    // Read the answer in paused mode ('readable'), so no tunnel byte can be emitted before the
    // caller listens; removing the listener hands the socket over in its default state.
    const onReadable = () => {
      let chunk: Buffer | null;
      while (!settled && (chunk = socket.read() as Buffer | null) !== null) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) {
          if (head.length > 64 * 1024) fail(new UpstreamProxyError('PROXY_PROTOCOL', `upstream proxy ${proxy.display} sent an oversized response head`));
          continue;
        }
        const statusLine = head.subarray(0, head.indexOf('\r\n')).toString('latin1');
        const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine);
        if (!m) return fail(new UpstreamProxyError('PROXY_PROTOCOL', `upstream proxy ${proxy.display} answered CONNECT with "${statusLine.slice(0, 80)}"`));
        const status = Number(m[1]);
        if (status < 200 || status > 299) {
          return fail(new UpstreamProxyError('PROXY_CONNECT_REFUSED', `upstream proxy ${proxy.display} refused CONNECT ${target.host}:${target.port}: ${status} ${m[2] ?? ''}`.trim(), status));
        }
        settled = true;
        cleanup();
        const rest = head.subarray(end + 4);
        if (rest.length) socket.unshift(rest);
        resolve(socket);
      }
    };
    const cleanup = () => {
      socket.off('readable', onReadable);
      socket.off('error', onError);
      socket.off('close', onClose);
      socket.off('timeout', onTimeout);
      socket.setTimeout(0);
    };
    socket.on('readable', onReadable);
    socket.on('error', onError);
    socket.on('close', onClose);
    socket.on('timeout', onTimeout);
    socket.setTimeout(timeoutMs);
    const authority = net.isIPv6(target.host) ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
    const lines = [`CONNECT ${authority} HTTP/1.1`, `Host: ${authority}`];
    if (proxy.authorization) lines.push(`Proxy-Authorization: ${proxy.authorization}`);
    socket.write(lines.join('\r\n') + '\r\n\r\n');
  });
}

export interface ChainingConnectorOptions extends DirectConnectorOptions {
  settings?: UpstreamProxySettings;
  /** How targets that skip the chained proxy are reached (default: a DirectConnector). */
  base?: UpstreamConnector;
}

/**
 * The engine's UpstreamConnector with chaining: targets that need the chained proxy get agents
 * whose sockets are CONNECT tunnels through it (TLS to the target on top for https); the rest
 * go through the base connector. `onDestroy` lets protocol modules (the h2 session pool) close
 * with the engine.
 */
export class ChainingConnector implements UpstreamConnector {
  private readonly direct: UpstreamConnector;
  private readonly tlsOptions: tls.ConnectionOptions;
  private readonly proxyTls: ConnectViaProxyOptions;
  private readonly agents = new Map<string, http.Agent>();
  private readonly destroyHooks: (() => void)[] = [];

  constructor(private readonly opts: ChainingConnectorOptions = {}) {
    this.opts = { ...opts };
    this.direct = opts.base ?? new DirectConnector(opts);
    // One shared context (a per-connection `ca` list would be rebuilt on every connection).
    const secureContext = tls.createSecureContext(opts.extraCa?.length ? { ca: [...tls.rootCertificates, ...opts.extraCa] } : {});
    this.tlsOptions = { rejectUnauthorized: !opts.insecure, secureContext };
    this.proxyTls = { rejectUnauthorized: !opts.insecure, secureContext };
  }

  get settings(): UpstreamProxySettings | undefined {
    return this.opts.settings;
  }

  /** Replace the chaining settings (e.g. after dropping a proxy that is this proxy itself). */
  setSettings(settings: UpstreamProxySettings | undefined): void {
    this.opts.settings = settings;
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }

  onDestroy(fn: () => void): void {
    this.destroyHooks.push(fn);
  }

  agentFor(target: UpstreamTarget): http.Agent {
    const proxy = proxyFor(this.opts.settings, target);
    if (!proxy) return this.direct.agentFor(target);
    const key = `${proxy.display}|${target.tls}`;
    let agent = this.agents.get(key);
    if (!agent) {
      const common = { keepAlive: true, maxSockets: this.opts.maxSockets ?? 256, maxFreeSockets: 256, scheduling: 'lifo' as const };
      const tlsOptions = this.tlsOptions;
      type Cb = (err: Error | null, s?: net.Socket) => void;
      type Opts = tls.ConnectionOptions & { host?: string; port?: number | string };
      const a = target.tls ? new https.Agent({ ...common, ...tlsOptions }) : new http.Agent(common);
      // Async createConnection (the callback form http.Agent supports): tunnel first, then TLS.
      (a as unknown as { createConnection(o: Opts, cb: Cb): undefined }).createConnection = (o, cb) => {
        connectViaProxy(proxy, { host: o.host ?? 'localhost', port: Number(o.port ?? (target.tls ? 443 : 80)) }, this.proxyTls).then(
          (raw) => cb(null, target.tls ? tls.connect({ ...o, ...tlsOptions, socket: raw, servername: o.servername || serverName(o.host ?? '') || undefined }) : raw),
          (e: Error) => cb(e),
        );
        return undefined;
      };
      agent = a;
      this.agents.set(key, agent);
    }
    return agent;
  }

  async connect(target: UpstreamTarget, alpn?: readonly string[], phases?: ConnectPhases): Promise<net.Socket> {
    const proxy = proxyFor(this.opts.settings, target);
    if (!proxy) {
      if (!this.direct.connect) throw new UpstreamProxyError('NO_CONNECT', 'this upstream connector cannot open raw connections');
      return this.direct.connect(target, alpn, phases);
    }
    const raw = await connectViaProxy(proxy, target, this.proxyTls);
    if (phases) phases.tcpAt = performance.now(); // the tunnel is this connection's TCP leg
    if (!target.tls) return raw;
    return new Promise((resolve, reject) => {
      const s = tls.connect({ ...this.tlsOptions, socket: raw, host: target.host, servername: serverName(target.host) || undefined, ALPNProtocols: alpn as string[] | undefined });
      s.once('secureConnect', () => {
        s.off('error', reject);
        resolve(s);
      });
      s.once('error', reject);
    });
  }

  destroy(): void {
    for (const fn of this.destroyHooks.splice(0)) fn();
    this.direct.destroy();
    for (const a of this.agents.values()) a.destroy();
    this.agents.clear();
  }
}
