// Where one request goes and which URL its record keeps (DESIGN.md "Which URL a record keeps").
import net from 'node:net';
import type { RecordMode, RecordServer } from '../capture/record.js';
import { findMapRemote, type MapRemoteRule } from './map-remote.js';
import type { UpstreamTarget } from './upstream.js';

/** What the engine knows about a client connection before its first request. */
export interface ConnectionContext {
  mode: RecordMode;
  /** Forward mode inside a CONNECT tunnel: the tunnel's target. */
  connect?: { host: string; port: number; tls: boolean };
  /** Reverse listener: the upstream base URL and the listener's own URL. */
  reverse?: { base: URL; listener: string };
}

export interface RequestRoute {
  mode: RecordMode;
  /** The URL the record keeps. */
  url: string;
  /** Origin-form path sent upstream. */
  path: string;
  target: UpstreamTarget;
  server: RecordServer;
  /** Host header value to send instead of the client's (reverse mode). */
  hostHeader?: string;
}

export class RouteError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function authority(host: string, port: number, tls: boolean): string {
  const h = net.isIPv6(host) ? `[${host}]` : host;
  return port === (tls ? 443 : 80) ? h : `${h}:${port}`;
}

/** Split `host:port` / `[v6]:port`; the port defaults to `defaultPort`. */
export function parseAuthority(text: string, defaultPort: number): { host: string; port: number } | undefined {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(text) ?? /^([^:[\]]+)(?::(\d+))?$/.exec(text);
  if (!m) return undefined;
  const port = m[2] ? Number(m[2]) : defaultPort;
  if (!(port > 0 && port < 65536)) return undefined;
  return { host: m[1]!, port };
}

/** Where a reverse listener's base URL points (IPv6 brackets off, the scheme's default port). */
export function reverseTarget(base: URL): UpstreamTarget {
  const tls = base.protocol === 'https:';
  return { host: base.hostname.replace(/^\[|\]$/g, ''), port: base.port ? Number(base.port) : tls ? 443 : 80, tls };
}

export function routeRequest(reqUrl: string, hostHeader: string | undefined, ctx: ConnectionContext, mapRemote?: readonly MapRemoteRule[]): RequestRoute {
  let route: RequestRoute;
  if (ctx.reverse) {
    const base = ctx.reverse.base;
    const { host, port, tls } = reverseTarget(base);
    const prefix = base.pathname.replace(/\/+$/, '');
    const path = prefix + (reqUrl.startsWith('/') ? reqUrl : `/${reqUrl}`);
    route = {
      mode: 'reverse',
      url: `${base.protocol}//${base.host}${path}`,
      path,
      target: { host, port, tls },
      server: { host, port, tls, listener: ctx.reverse.listener },
      hostHeader: base.host,
    };
  } else if (ctx.connect) {
    const { host, port, tls } = ctx.connect;
    if (!reqUrl.startsWith('/') && reqUrl !== '*') {
      // Absolute-form inside a tunnel: unusual but legal; keep the client's URL.
      const u = safeUrl(reqUrl);
      if (!u) throw new RouteError(400, `malformed request target ${JSON.stringify(reqUrl.slice(0, 200))}`);
      reqUrl = u.pathname + u.search;
    }
    route = {
      mode: ctx.mode,
      url: `${tls ? 'https' : 'http'}://${hostHeader || authority(host, port, tls)}${reqUrl}`,
      path: reqUrl,
      target: { host, port, tls },
      server: { host, port, tls },
    };
  } else {
    // Plain forward proxy: absolute-form request target (HTTP_PROXY).
    const u = reqUrl.startsWith('/') ? undefined : safeUrl(reqUrl);
    if (!u) {
      throw new RouteError(400, 'agenttap is a proxy: send requests through it (HTTP_PROXY/HTTPS_PROXY) or use a --reverse listener');
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new RouteError(400, `unsupported scheme ${u.protocol}`);
    const tls = u.protocol === 'https:';
    const host = u.hostname.replace(/^\[|\]$/g, '');
    const port = u.port ? Number(u.port) : tls ? 443 : 80;
    route = { mode: ctx.mode, url: u.href, path: u.pathname + u.search, target: { host, port, tls }, server: { host, port, tls } };
  }
  const rule = findMapRemote(mapRemote, route.target.host, route.target.port);
  if (rule) {
    route.target = { host: rule.host, port: rule.port, tls: rule.protocol === 'https:' };
    route.server = { ...route.server, mappedTo: rule.origin };
  }
  return route;
}

function safeUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
