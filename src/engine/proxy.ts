// The capture proxy's listeners: the forward proxy (absolute-form HTTP and CONNECT with TLS
// interception), and reverse listeners. Each request is handed to the HTTP/1.1 forwarder;
// extensions (h2, WebSocket, tunnels, chained proxies) plug in at the marked seams.
import { EventEmitter } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { RecordClient } from '../capture/record.js';
import type { CertificateAuthority } from './cert-authority.js';
import { headerPairs, newExchange, type ExchangeEvents } from './exchange.js';
import { forwardHttp1 } from './h1.js';
import { Http1Pool } from './h1-pool.js';
import { serveHttp1Wire, type WireDeps } from './h1-wire.js';
import type { H1ToH2Bridge } from './h1-to-h2.js';
import type { MapRemoteRule } from './map-remote.js';
import { parseAuthority, routeRequest, RouteError, type ConnectionContext, type RequestRoute } from './request-route.js';
import { DirectConnector, type UpstreamConnector } from './upstream.js';

export interface ReverseSpec {
  /** Port to listen on (0 = ephemeral). */
  port: number;
  host?: string;
  /** Upstream base URL, e.g. https://api.anthropic.com */
  target: string;
}

export interface ConnectTarget {
  host: string;
  port: number;
}

export type TunnelReason = 'passthrough' | 'learned' | 'not-tls';
export type ConnectDecision = { action: 'intercept' } | { action: 'tunnel'; reason: TunnelReason };

/** Seams for the protocol modules (h2, WebSocket, tunnels); the core works without any. */
export interface ProxyExtensions {
  /** ALPN protocols offered to intercepted TLS clients, in preference order. Default ["http/1.1"]. */
  alpnProtocols?: string[];
  /** Per CONNECT: decrypt (default) or tunnel untouched. */
  routeConnect?(target: ConnectTarget, client: RecordClient): ConnectDecision;
  /** Serves a tunnel. Called after the client got "200 Connection Established"; `head` holds bytes already read. */
  tunnel?(client: net.Socket, head: Buffer, target: ConnectTarget, reason: TunnelReason, proxy: ProxyServer): void;
  /**
   * A decrypted client connection negotiated `protocol` by ALPN (anything but http/1.1).
   * Return true when the extension took the socket; otherwise it is served as HTTP/1.1.
   */
  alpnConnection?(protocol: string, socket: tls.TLSSocket, ctx: ConnectionContext, proxy: ProxyServer): boolean;
  /** First bytes of a plain connection (reverse listener or tunnel): e.g. h2c prior knowledge. Return true when taken. */
  plainConnection?(socket: net.Socket, first: Buffer, ctx: ConnectionContext, proxy: ProxyServer): boolean;
  /** HTTP Upgrade requests (WebSocket). Return true when handled; otherwise the client gets 501. */
  upgrade?(req: http.IncomingMessage, socket: net.Socket, head: Buffer, route: RequestRoute, proxy: ProxyServer): boolean;
  /** The client aborted our TLS handshake (e.g. it rejected our certificate). */
  onClientTlsError?(target: ConnectTarget, err: Error): void;
  /** HTTP/1.1 requests to origins that speak only HTTP/2 go over h2 through this. */
  h2Upstream?: H1ToH2Bridge;
}

export interface ProxyOptions {
  ca: CertificateAuthority;
  /** Forward proxy listener. Default 127.0.0.1:8080; port 0 = ephemeral; `false` = no forward listener. */
  port?: number | false;
  host?: string;
  reverse?: ReverseSpec[];
  mapRemote?: MapRemoteRule[];
  /** Skip upstream certificate verification (--insecure-upstream). */
  insecureUpstream?: boolean;
  /** Extra upstream roots (tests; in production NODE_EXTRA_CA_CERTS does this). */
  upstreamCa?: string[];
  /** How upstreams are reached (default: direct, pooled). A chained-proxy connector replaces it. */
  connector?: UpstreamConnector;
  extensions?: ProxyExtensions;
  /**
   * HTTP/1.1 on raw sockets (h1-wire.ts) for decrypted and reverse connections: default true.
   * false serves every request with Node's http server and h1.ts.
   */
  wire?: boolean;
}

export interface ListenerAddress {
  host: string;
  port: number;
  /** "http://127.0.0.1:8080" */
  url: string;
}

export interface ReverseListener extends ListenerAddress {
  target: string;
}

export class ProxyStartError extends Error {
  constructor(
    readonly code: 'PORT_IN_USE' | 'LISTEN_FAILED' | 'BAD_REVERSE',
    message: string,
  ) {
    super(message);
    this.name = 'ProxyStartError';
  }
}

export class ProxyServer extends EventEmitter<ExchangeEvents> {
  readonly connector: UpstreamConnector;
  readonly extensions: ProxyExtensions;
  /** The forward listener (undefined when started with port: false). */
  address?: ListenerAddress;
  readonly reverseListeners: ReverseListener[] = [];
  private readonly servers: net.Server[] = [];
  private readonly sockets = new Set<net.Socket>();
  private readonly contexts = new WeakMap<net.Socket, ConnectionContext>();
  /** Serves decrypted and tunnelled-plain connections; never listens itself. */
  private readonly inner: http.Server;
  private readonly innerWire: WireDeps | undefined;
  /** Upstream connections of the raw-socket HTTP/1.1 path. */
  private readonly h1Pool: Http1Pool;
  /** Plain origins seen answering in HTTP/1.1 (the raw-socket path reaches only those). */
  private readonly knownH1 = new Set<string>();
  /** HTTP/1.1 requests served by the raw-socket path and by Node's http server (tests, diagnostics). */
  readonly http1Counts = { raw: 0, node: 0 };
  /** h2 streams served on raw sockets (h2-wire.ts) and by Node's http2 (h2.ts). */
  readonly http2Counts = { raw: 0, node: 0 };

  constructor(readonly options: ProxyOptions) {
    super();
    this.connector = options.connector ?? new DirectConnector({ insecure: options.insecureUpstream, extraCa: options.upstreamCa });
    this.extensions = options.extensions ?? {};
    this.h1Pool = new Http1Pool(this.connector);
    this.inner = this.httpServer({ mode: 'forward' });
    this.innerWire = this.wireDeps(this.inner);
  }

  /** The raw-socket path's dependencies, handing over to `server` (undefined when it is off). */
  private wireDeps(server: http.Server): WireDeps | undefined {
    if (this.options.wire === false) return undefined;
    return {
      events: this,
      pool: this.h1Pool,
      mapRemote: this.options.mapRemote,
      h2Upstream: this.extensions.h2Upstream,
      knownH1: this.knownH1,
      counts: this.http1Counts,
      handover: (socket, unread) => serveWithNode(server, socket, unread),
    };
  }

  /** An HTTP/1.1 client connection: the raw-socket path when on, else Node's server directly. */
  private serveConnection(socket: net.Socket, ctx: ConnectionContext, wire: WireDeps | undefined, server: http.Server, first?: Buffer): void {
    this.contexts.set(socket, ctx);
    if (wire) return serveHttp1Wire(socket, ctx, wire, first);
    serveWithNode(server, socket, first);
  }

  /** Route a request as the engine would (for extensions handling their own protocol). */
  route(req: http.IncomingMessage, ctx?: ConnectionContext): RequestRoute {
    return routeRequest(req.url ?? '/', req.headers.host, ctx ?? this.contextOf(req.socket) ?? { mode: 'forward' }, this.options.mapRemote);
  }

  contextOf(socket: net.Socket): ConnectionContext | undefined {
    return this.contexts.get(socket);
  }

  /** Serve a connection as HTTP/1.1 with the given context (e.g. an h2 extension falling back). */
  serveHttp1(socket: net.Socket, ctx: ConnectionContext): void {
    this.contexts.set(socket, ctx);
    this.inner.emit('connection', socket);
  }

  private httpServer(defaultCtx: ConnectionContext): http.Server {
    const server = http.createServer({ requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 30_000, noDelay: true });
    server.timeout = 0;
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
      const ctx = this.contexts.get(req.socket) ?? defaultCtx;
      res.sendDate = false;
      let route: RequestRoute;
      try {
        route = routeRequest(req.url ?? '/', req.headers.host, ctx, this.options.mapRemote);
      } catch (e) {
        const status = e instanceof RouteError ? e.status : 400;
        res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`agenttap: ${(e as Error).message}\n`);
        return;
      }
      this.http1Counts.node++;
      forwardHttp1(req, res, route, { events: this, connector: this.connector, h2Upstream: this.extensions.h2Upstream, knownH1: this.knownH1 });
    });
    server.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => this.onConnect(req, socket, head));
    server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      socket.on('error', () => {});
      const ctx = this.contexts.get(req.socket) ?? defaultCtx;
      let route: RequestRoute | undefined;
      try {
        route = routeRequest(req.url ?? '/', req.headers.host, ctx, this.options.mapRemote);
      } catch {
        route = undefined;
      }
      if (route && this.extensions.upgrade?.(req, socket, head, route, this)) return;
      socket.end('HTTP/1.1 501 Not Implemented\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nagenttap: protocol upgrades are not supported here\n');
    });
    server.on('clientError', (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: net.Socket) => this.onClientError(err, socket, this.contexts.get(socket) ?? defaultCtx));
    return server;
  }

  /** A request we could not parse: 400 to the client and a record saying why. */
  private onClientError(err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: net.Socket, ctx: ConnectionContext): void {
    const code = err.code ?? 'HPE_INVALID';
    if (!code.startsWith('HPE_') || socket.destroyed) {
      socket.destroy();
      return;
    }
    const line = err.rawPacket ? err.rawPacket.subarray(0, Math.max(0, err.rawPacket.indexOf('\r\n'))).toString('latin1').slice(0, 300) : '';
    const [method, target] = line.split(' ');
    const ex = newExchange({
      kind: 'http',
      mode: ctx.mode,
      client: { ip: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 },
      server: ctx.connect ? { ...ctx.connect } : ctx.reverse ? { host: ctx.reverse.base.hostname, port: Number(ctx.reverse.base.port) || 0, tls: ctx.reverse.base.protocol === 'https:', listener: ctx.reverse.listener } : { host: '', port: 0, tls: false },
      request: { method: method && /^[A-Z]+$/.test(method) ? method : '', url: target ?? '', httpVersion: '1.1', headers: [] },
    });
    this.emit('start', ex);
    if (socket.writable) {
      socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain; charset=utf-8\r\nconnection: close\r\n\r\nagenttap: malformed request (${err.message})\n`);
    }
    this.emit('abort', ex, { phase: 'protocol', code, message: `malformed client request: ${err.message}` }, {});
  }

  private onConnect(req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
    socket.on('error', () => {});
    // CONNECT takes authority-form only: host:port with the port spelled out (RFC 9110 9.3.6).
    const target = /:\d+$/.test(req.url ?? '') ? parseAuthority(req.url ?? '', 443) : undefined;
    if (!target) {
      socket.end('HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nagenttap: CONNECT needs host:port\n');
      return;
    }
    socket.setNoDelay(true);
    socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
    const client: RecordClient = { ip: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    const decision = this.extensions.routeConnect?.(target, client) ?? { action: 'intercept' };
    if (decision.action === 'tunnel' && this.extensions.tunnel) {
      this.extensions.tunnel(socket, head, target, decision.reason, this);
      return;
    }
    const withFirst = (first: Buffer): void => {
      if (first[0] === 0x16) this.intercept(socket, first, target);
      else this.plainInTunnel(socket, first, target);
    };
    if (head.length) withFirst(head);
    else socket.once('data', (d: Buffer) => {
      socket.pause();
      withFirst(d);
    });
  }

  /** TLS interception: present a leaf for the SNI name (or the CONNECT host for IP literals). */
  private intercept(socket: net.Socket, first: Buffer, target: ConnectTarget): void {
    socket.pause();
    socket.unshift(first);
    const ca = this.options.ca;
    ca.secureContextFor(target.host).then(
      (secureContext) => {
        if (socket.destroyed) return;
        const alpn = this.extensions.alpnProtocols ?? ['http/1.1', 'http/1.0'];
        const tlsSocket = new tls.TLSSocket(socket, {
          isServer: true,
          secureContext,
          ALPNProtocols: alpn,
          SNICallback: (name, cb) => {
            if (name.toLowerCase() === target.host.toLowerCase()) return cb(null, secureContext);
            ca.secureContextFor(name).then((c) => cb(null, c), (e: Error) => cb(e, undefined));
          },
        });
        const ctx: ConnectionContext = { mode: 'forward', connect: { host: target.host, port: target.port, tls: true } };
        this.contexts.set(tlsSocket, ctx);
        let established = false;
        tlsSocket.once('secure', () => (established = true));
        tlsSocket.on('error', (err: Error) => {
          // Only handshake failures say something about our certificate.
          if (!established) this.extensions.onClientTlsError?.(target, err);
        });
        const alpnHook = this.extensions.alpnConnection;
        if (alpnHook && alpn.some((p) => p !== 'http/1.1' && p !== 'http/1.0')) {
          tlsSocket.once('secure', () => {
            const p = tlsSocket.alpnProtocol;
            if (p && p !== 'http/1.1' && p !== 'http/1.0' && alpnHook(p, tlsSocket, ctx, this)) return;
            this.serveConnection(tlsSocket, ctx, this.innerWire, this.inner);
          });
        } else this.serveConnection(tlsSocket, ctx, this.innerWire, this.inner);
      },
      () => socket.destroy(),
    );
  }

  /** Plain bytes inside a CONNECT: HTTP is served in clear; anything else is tunnelled when possible. */
  private plainInTunnel(socket: net.Socket, first: Buffer, target: ConnectTarget): void {
    const ctx: ConnectionContext = { mode: 'forward', connect: { host: target.host, port: target.port, tls: false } };
    if (this.extensions.plainConnection?.(socket, first, ctx, this)) return;
    if (/^[A-Z]{3,10} /.test(first.subarray(0, 11).toString('latin1'))) return this.serveConnection(socket, ctx, this.innerWire, this.inner, first);
    if (this.extensions.tunnel) this.extensions.tunnel(socket, first, target, 'not-tls', this);
    else socket.destroy();
  }

  async listen(): Promise<void> {
    const o = this.options;
    if (o.port !== false) {
      const server = this.httpServer({ mode: 'forward' });
      this.address = await this.listenOn(server, o.port ?? 8080, o.host ?? '127.0.0.1', undefined, '--port');
    }
    for (const spec of o.reverse ?? []) {
      let base: URL;
      try {
        base = new URL(spec.target);
      } catch {
        throw new ProxyStartError('BAD_REVERSE', `--reverse ${spec.port}=${spec.target}: "${spec.target}" is not a URL`);
      }
      const ctx: ConnectionContext = { mode: 'reverse', reverse: { base, listener: '' } };
      const server = this.httpServer(ctx);
      const front = this.extensions.plainConnection || this.options.wire !== false ? this.front(server, ctx) : server;
      const addr = await this.listenOn(front, spec.port, spec.host ?? o.host ?? '127.0.0.1', ctx, `--reverse ${spec.port}`);
      ctx.reverse!.listener = addr.url;
      this.reverseListeners.push({ ...addr, target: spec.target });
    }
  }

  /**
   * A reverse listener: connections show their first bytes to the extensions (h2c prior
   * knowledge) before HTTP/1.1 gets them, on raw sockets or through Node's `server`.
   */
  private front(server: http.Server, ctx: ConnectionContext): net.Server {
    const wire = this.wireDeps(server);
    const peek = this.extensions.plainConnection;
    return net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
      if (!peek) return this.serveConnection(socket, ctx, wire, server);
      socket.once('data', (first: Buffer) => {
        socket.pause();
        if (peek(socket, first, ctx, this)) return;
        this.serveConnection(socket, ctx, wire, server, first);
      });
    });
  }

  private listenOn(server: net.Server, port: number, host: string, ctx: ConnectionContext | undefined, flag: string): Promise<ListenerAddress> {
    server.on('connection', (s: net.Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => {});
      if (ctx) this.contexts.set(s, ctx);
    });
    return new Promise((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'EADDRINUSE') reject(new ProxyStartError('PORT_IN_USE', `port ${port} on ${host} is in use: pass ${flag.startsWith('--reverse') ? 'another --reverse port' : '--port with another port'} or stop the other process`));
        else reject(new ProxyStartError('LISTEN_FAILED', `cannot listen on ${host}:${port} (${flag}): ${e.message}`));
      });
      server.listen(port, host, () => {
        this.servers.push(server);
        server.on('error', () => {});
        const a = server.address() as net.AddressInfo;
        const h = net.isIPv6(a.address) ? `[${a.address}]` : a.address;
        resolve({ host: a.address, port: a.port, url: `http://${h}:${a.port}` });
      });
    });
  }

  /** Stop listening and drop every open connection. */
  async close(): Promise<void> {
    // Sockets go first: server.close() waits for open connections (tunnels, streams).
    const closed = Promise.all(this.servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    // FIN first, then a short grace: bytes a client sends meanwhile (an h2 GOAWAY) would turn an
    // immediate destroy into a TCP reset, which the client reports as ECONNRESET.
    for (const s of this.sockets) {
      s.end();
      setTimeout(() => s.destroy(), 100).unref();
    }
    this.sockets.clear();
    this.h1Pool.destroy();
    await closed;
    this.connector.destroy();
  }
}

/** Node's http server serves `socket` from here on; `unread` (bytes already read) goes back first. */
function serveWithNode(server: http.Server, socket: net.Socket, unread: Buffer | undefined): void {
  if (unread) socket.unshift(unread);
  server.emit('connection', socket);
  socket.resume();
}

export async function startProxy(options: ProxyOptions): Promise<ProxyServer> {
  const proxy = new ProxyServer(options);
  try {
    await proxy.listen();
  } catch (e) {
    await proxy.close();
    throw e;
  }
  return proxy;
}

export { headerPairs };
