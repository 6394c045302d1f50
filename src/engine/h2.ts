// HTTP/2 on both legs. Intercepted clients that pick `h2` by ALPN (and h2c prior-knowledge
// clients on plain listeners) are served by one http2 server that never listens itself; each
// stream goes upstream over a pooled h2 session when the origin offers h2, else over HTTP/1.1
// (the engine's pooled agents). Request and response bodies flow at the same time (Connect /
// gRPC bidi streams), trailers pass both ways, and resets are mapped to the other side.
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import type tls from 'node:tls';
import { performance } from 'node:perf_hooks';
import type { HeaderList, RecordError } from '../capture/record.js';
import { exchangeEnd, newExchange, since, type Exchange } from './exchange.js';
import type { ProxyServer } from './proxy.js';
import { h2ErrorName } from './h2-frame.js';
import { reverseTarget, routeRequest, RouteError, type ConnectionContext, type RequestRoute } from './request-route.js';
import { badGatewayText, serverName, upstreamFailure, type UpstreamConnector, type UpstreamTarget } from './upstream.js';

const { constants: C } = http2;

/** Headers that do not exist in HTTP/2 (RFC 9113 8.2.2); `host` becomes `:authority`. */
export const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings', 'host', 'proxy-authorization', 'proxy-authenticate']);

/** An RST_STREAM / GOAWAY code by its RFC 9113 name (the same names nghttp2 uses). */
export const rstName = h2ErrorName;

/** Flat h2 headers (rawHeaders) → pairs without pseudo-headers (the record keeps regular headers in wire order). */
export function regularPairs(raw: readonly string[]): HeaderList {
  const out: HeaderList = [];
  for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i]!.charCodeAt(0) !== 58 /* ':' */) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}

/** Named in `Connection` (h1 side): those go too. Undefined when there is no Connection header. */
function connectionNamed(raw: readonly string[]): Set<string> | undefined {
  let named: Set<string> | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const k = raw[i]!;
    if (k.length === 10 && k.toLowerCase() === 'connection') for (const t of raw[i + 1]!.split(',')) (named ??= new Set()).add(t.trim().toLowerCase());
  }
  return named;
}

/** Header pairs → an http2 headers object (duplicates as arrays, order per name kept). */
function h2Object(pairs: Iterable<[string, string]>, base: http2.OutgoingHttpHeaders = {}): http2.OutgoingHttpHeaders {
  const out = base;
  for (const [k0, v] of pairs) {
    const k = k0.toLowerCase();
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else if (Array.isArray(prev)) prev.push(v);
    else out[k] = [String(prev), v];
  }
  return out;
}

/** h1 → h2: drop connection-specific headers; `te` survives only as "trailers". */
function toH2Pairs(raw: readonly string[]): [string, string][] {
  const out: [string, string][] = [];
  forEachH2Header(raw, (k, v) => out.push([k, v]));
  return out;
}

/** The headers of `raw` (either side) that may cross into HTTP/2, lower-cased, in wire order. */
function forEachH2Header(raw: readonly string[], each: (name: string, value: string) => void): void {
  const named = connectionNamed(raw);
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const k = raw[i]!.toLowerCase();
    if (k.charCodeAt(0) === 58 /* ':' */ || CONNECTION_SPECIFIC.has(k) || named?.has(k)) continue;
    if (k === 'te' && raw[i + 1]!.trim().toLowerCase() !== 'trailers') continue;
    each(k, raw[i + 1]!);
  }
}

/**
 * `toH2Pairs` straight into an http2 headers object on top of `base` (duplicates as arrays, order
 * per name kept), without the intermediate pairs: this runs for every request and response.
 */
function toH2Object(raw: readonly string[], base: http2.OutgoingHttpHeaders): http2.OutgoingHttpHeaders {
  const named = connectionNamed(raw);
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const k = raw[i]!.toLowerCase();
    if (k.charCodeAt(0) === 58 /* ':' */ || CONNECTION_SPECIFIC.has(k) || named?.has(k)) continue;
    const v = raw[i + 1]!;
    if (k === 'te' && v.trim().toLowerCase() !== 'trailers') continue;
    const prev = base[k];
    if (prev === undefined) base[k] = v;
    else if (Array.isArray(prev)) prev.push(v);
    else base[k] = [String(prev), v];
  }
  return base;
}

/** h2 → h1 request headers: Host first from :authority, cookies joined (RFC 9113 8.2.3). */
function toH1Raw(raw: readonly string[], host: string): string[] {
  const out: string[] = ['Host', host];
  const cookies: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const k = raw[i]!;
    const lk = k.toLowerCase();
    if (lk.startsWith(':') || CONNECTION_SPECIFIC.has(lk)) continue;
    if (lk === 'cookie') {
      cookies.push(raw[i + 1]!);
      continue;
    }
    out.push(k, raw[i + 1]!);
  }
  if (cookies.length) out.push('cookie', cookies.join('; '));
  return out;
}

/** A connection-level window wider than the 64 KiB default, so big bodies are not throttled. */
function widenWindow(session: http2.Http2Session): void {
  try {
    if (!session.destroyed) session.setLocalWindowSize(8 * 1024 * 1024);
  } catch {
    // the session went away meanwhile
  }
}

/**
 * RST_STREAM with `code`. Node's stream.close() first ends the writable side (END_STREAM), so
 * the peer would see a clean end before the reset; marking the side as ending skips that.
 */
export function resetStream(stream: http2.Http2Stream, code: number): void {
  if (stream.destroyed || stream.closed) return;
  const ws = (stream as unknown as { _writableState?: { ending: boolean } })._writableState;
  if (ws && !ws.ending) ws.ending = true;
  stream.close(code === C.NGHTTP2_NO_ERROR ? C.NGHTTP2_INTERNAL_ERROR : code);
}

/**
 * The client broke HTTP/2 (a malformed frame, a bad preface) and got a GOAWAY: the record and the
 * log line say why. Its streams in flight end as client aborts, each with its own record.
 */
export function recordClientH2Error(ctx: ConnectionContext, client: { ip: string; port: number }, code: string, reason: string, proxy: ProxyServer, log?: (line: string) => void): void {
  const server = ctx.connect ? { ...ctx.connect } : ctx.reverse ? { ...reverseTarget(ctx.reverse.base), listener: ctx.reverse.listener } : { host: '', port: 0, tls: false };
  const ex = newExchange({ kind: 'http', mode: ctx.mode, client, server, request: { method: '', url: '', httpVersion: '2', headers: [] } });
  proxy.emit('start', ex);
  proxy.emit('abort', ex, { phase: 'protocol', code, message: `malformed HTTP/2 from the client: ${reason}` }, {});
  log?.(`agenttap: ${server.host}:${server.port}: malformed HTTP/2 from the client (${reason}); connection closed`);
}

/** A pooled upstream session with what the pool noted on it. */
type PooledSession = http2.ClientHttp2Session & { goawayed?: boolean; lastError?: Error; remoteIp?: string };

function sessionDead(s: PooledSession): boolean {
  return s.closed || s.destroyed || s.goawayed === true;
}

/** Pooled upstream h2 sessions, one per origin, and what each origin speaks. */
export class H2UpstreamPool {
  private readonly sessions = new Map<string, PooledSession>();
  private readonly pending = new Map<string, Promise<Upstream>>();
  /** Origins that answered ALPN without h2 (served over HTTP/1.1 from then on). */
  private readonly h1Origins = new Set<string>();
  /** Origins that refused HTTP/1.1 (h1 clients reach them over h2: h1-to-h2.ts); plain ones speak h2c. */
  private readonly h2OnlyOrigins = new Set<string>();
  /** TLS origins that negotiated h2: their next h2 clients go over raw sockets (h2-wire.ts). */
  private readonly h2Origins = new Set<string>();

  constructor(private readonly connector: UpstreamConnector) {}

  /** Remember for the proxy's lifetime that this origin speaks only h2 (h2c when plain). */
  markH2Only(target: UpstreamTarget): void {
    const key = `${target.host}:${target.port}`;
    this.h2OnlyOrigins.add(key);
    this.h1Origins.delete(key);
  }

  /** The origin is known to speak h2 (h2 by ALPN, or h2c prior knowledge when plain). */
  speaksH2(target: UpstreamTarget): boolean {
    const key = `${target.host}:${target.port}`;
    return target.tls ? this.h2Origins.has(key) : this.h2OnlyOrigins.has(key);
  }

  /** What a connection to the origin negotiated (the raw-socket path learns here too). */
  noteAlpn(target: UpstreamTarget, h2: boolean): void {
    const key = `${target.host}:${target.port}`;
    if (h2) {
      this.h2Origins.add(key);
      this.h1Origins.delete(key);
    } else {
      this.h2Origins.delete(key);
      this.h1Origins.add(key);
      this.h2OnlyOrigins.delete(key);
    }
  }

  /** The origin answered ALPN without h2. */
  knownH1(target: UpstreamTarget): boolean {
    return this.h1Origins.has(`${target.host}:${target.port}`);
  }

  isH2Only(target: UpstreamTarget): boolean {
    return this.h2OnlyOrigins.size > 0 && this.h2OnlyOrigins.has(`${target.host}:${target.port}`);
  }

  /**
   * The way to reach an origin when it is already known (h1, or a live pooled session), without
   * a promise and its microtask; undefined when a connection has to be made first (use get()).
   */
  ready(target: UpstreamTarget): Upstream | undefined {
    const key = `${target.host}:${target.port}`;
    if ((!target.tls && !this.isH2Only(target)) || !this.connector.connect || this.h1Origins.has(key)) return H1_UPSTREAM;
    const s = this.sessions.get(key);
    if (s && !sessionDead(s)) return { kind: 'h2', session: s, fresh: false, ip: s.remoteIp };
    return undefined;
  }

  /** The way to reach a TLS origin: an h2 session when it offers h2, else "h1". */
  get(target: UpstreamTarget, ex: Exchange): Promise<Upstream> {
    const known = this.ready(target);
    if (known) return Promise.resolve(known);
    const key = `${target.host}:${target.port}`;
    const p = this.pending.get(key);
    if (p) return p;
    // ready() answered h1 for a connector without raw connections.
    const connect = this.connector.connect!.bind(this.connector);
    const t0 = performance.now();
    const started = (async (): Promise<Upstream> => {
      let socket: tls.TLSSocket;
      try {
        socket = (await connect(target, ['h2', 'http/1.1'])) as tls.TLSSocket;
      } catch (e) {
        // A connector without raw connections (some capture modes) serves over its h1 agents.
        if ((e as NodeJS.ErrnoException).code === 'NO_CONNECT') {
          this.h1Origins.add(key);
          this.h2OnlyOrigins.delete(key);
          return { kind: 'h1' };
        }
        throw e;
      }
      const tlsDone = since(ex);
      if (target.tls && socket.alpnProtocol !== 'h2') {
        this.noteAlpn(target, false);
        socket.destroy();
        return { kind: 'h1' };
      }
      if (target.tls) this.noteAlpn(target, true);
      const session: PooledSession = http2.connect(`${target.tls ? 'https' : 'http'}://${net.isIPv6(target.host) ? `[${target.host}]` : target.host}:${target.port}`, {
        createConnection: () => socket,
        settings: { initialWindowSize: 4 * 1024 * 1024, enablePush: false },
        // Node's 10 MB default refuses new streams (ENHANCE_YOUR_CALM) once many concurrent
        // streams with big bodies are in flight on one pooled session; the client side allows 64.
        maxSessionMemory: 64,
      });
      // Read once: session.socket is a Proxy, too slow to ask for every stream.
      session.remoteIp = socket.remoteAddress;
      session.once('connect', () => widenWindow(session));
      session.on('error', (e: Error) => (session.lastError ??= e));
      session.on('goaway', () => {
        if (this.sessions.get(key) === session) this.sessions.delete(key);
        session.goawayed = true;
      });
      session.on('close', () => {
        if (this.sessions.get(key) === session) this.sessions.delete(key);
      });
      // Idle sessions go away after a minute; an active one never times out.
      session.setTimeout(60_000, () => session.close());
      socket.unref?.();
      this.sessions.set(key, session);
      return { kind: 'h2', session, fresh: true, ip: socket.remoteAddress, connectMs: Math.round((performance.now() - t0) * 1000) / 1000, tlsAt: tlsDone };
    })();
    this.pending.set(key, started);
    const clear = () => this.pending.delete(key);
    started.then(clear, clear);
    return started;
  }

  destroy(): void {
    for (const s of this.sessions.values()) s.destroy();
    this.sessions.clear();
  }
}

type Upstream =
  | { kind: 'h1' }
  | { kind: 'h2'; session: http2.ClientHttp2Session; fresh: boolean; ip?: string; connectMs?: number; tlsAt?: number };

const H1_UPSTREAM: Upstream = { kind: 'h1' };

/** What the front knows about one client connection. */
interface SessionInfo {
  ctx: ConnectionContext;
  proxy: ProxyServer;
  clientIp: string;
  clientPort: number;
}

/** One shared no-op 'error' listener instead of a closure per stream. */
function ignore(): void {}

export interface H2Options {
  /** Pool of upstream sessions; shares the proxy's connector. */
  pool: H2UpstreamPool;
  log?(line: string): void;
}

/**
 * The client-facing HTTP/2 side. `serve` takes a decrypted TLS socket that negotiated h2, or a
 * plain socket that opened with the h2c preface; `proxy` supplies routing, connector and events.
 */
export class H2Front {
  private readonly server: http2.Http2Server;
  private readonly ctxBySession = new WeakMap<http2.Http2Session, SessionInfo>();
  private pendingCtx?: SessionInfo;

  constructor(private readonly opts: H2Options) {
    this.server = http2.createServer({
      settings: { initialWindowSize: 4 * 1024 * 1024, enableConnectProtocol: false },
      maxSessionMemory: 64,
    });
    this.server.on('session', (session: http2.ServerHttp2Session) => {
      const info = this.pendingCtx;
      if (info) this.ctxBySession.set(session, info);
      setImmediate(() => widenWindow(session));
      session.on('error', (err: NodeJS.ErrnoException) => {
        if (info) recordClientH2Error(info.ctx, { ip: info.clientIp, port: info.clientPort }, err.code ?? 'ERR_HTTP2_ERROR', err.message, info.proxy, this.opts.log);
      });
    });
    this.server.on('sessionError', () => {});
    this.server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, _flags: number, rawHeaders: unknown) => {
      const info = this.ctxBySession.get(stream.session as http2.ServerHttp2Session);
      if (!info) return void stream.close(C.NGHTTP2_INTERNAL_ERROR);
      info.proxy.http2Counts.node++;
      this.onStream(stream, headers, rawHeaders as unknown as string[], info);
    });
  }

  serve(socket: net.Socket, ctx: ConnectionContext, proxy: ProxyServer): void {
    // A server-side TLSSocket made by hand keeps secureConnecting true after its handshake; the
    // http2 session would wait for a 'secureConnect' that never comes.
    const t = socket as net.Socket & { secureConnecting?: boolean };
    if (t.secureConnecting) t.secureConnecting = false;
    // Sockets from the proxy's http server allow half-open; h2 has no use for it, and the
    // session would otherwise linger after the client's FIN.
    socket.allowHalfOpen = false;
    // The client address is read once per connection, not per stream (session.socket is a Proxy).
    this.pendingCtx = { ctx, proxy, clientIp: socket.remoteAddress ?? '', clientPort: socket.remotePort ?? 0 };
    try {
      this.server.emit('connection', socket);
    } finally {
      this.pendingCtx = undefined;
    }
  }

  private onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, rawHeaders: string[], info: SessionInfo): void {
    const { ctx, proxy } = info;
    stream.on('error', ignore);
    const method = String(headers[':method'] ?? 'GET');
    const path = String(headers[':path'] ?? '/');
    const authority = String(headers[':authority'] ?? headers.host ?? '');
    const client = { ip: info.clientIp, port: info.clientPort };
    if (method === 'CONNECT') {
      // Extended CONNECT (WebSocket over h2) is not offered (enableConnectProtocol: false).
      stream.respond({ ':status': 501, 'content-type': 'text/plain; charset=utf-8' });
      stream.end('agenttap: CONNECT inside HTTP/2 is not supported\n');
      return;
    }
    let route: RequestRoute;
    try {
      route = routeRequest(path, authority, ctx, proxy.options.mapRemote);
    } catch (e) {
      const status = e instanceof RouteError ? e.status : 400;
      stream.respond({ ':status': status, 'content-type': 'text/plain; charset=utf-8' });
      stream.end(`agenttap: ${(e as Error).message}\n`);
      return;
    }
    const ex = newExchange({
      kind: 'http',
      mode: route.mode,
      client,
      server: route.server,
      request: { method, url: route.url, httpVersion: '2', headers: regularPairs(rawHeaders) },
    });
    new H2Exchange(ex, stream, rawHeaders, authority, route, proxy, this.opts.pool).run();
  }
}

/** One client stream forwarded upstream (h2 or h1), events emitted along the way. */
class H2Exchange {
  /** `start` was emitted: after the request went upstream, so observers never delay it. */
  private started = false;
  private done = false;
  private responded = false;
  private upstreamEnded = false;
  private clientTrailers?: HeaderList;
  private upstreamTrailers?: HeaderList;
  private upstreamAbort?: () => void;

  constructor(
    private readonly ex: Exchange,
    private readonly stream: http2.ServerHttp2Stream,
    private readonly rawHeaders: string[],
    private readonly authority: string,
    private readonly route: RequestRoute,
    private readonly proxy: ProxyServer,
    private readonly pool: H2UpstreamPool,
  ) {}

  /** The client asked for trailers (`te: trailers`): keep the response open for them. */
  private get wantsTrailers(): boolean {
    return this.ex.request.headers.some(([k, v]) => k.toLowerCase() === 'te' && /trailers/i.test(v));
  }

  /** The client announced request trailers (a `Trailer` header, or gRPC). */
  private get requestTrailersAnnounced(): boolean {
    return this.ex.request.headers.some(([k, v]) => k.toLowerCase() === 'trailer' || (k.toLowerCase() === 'content-type' && /^application\/grpc/i.test(v)));
  }

  run(): void {
    const { stream, ex } = this;
    // A request that ended with its headers (GET, most small calls) has no body or trailers:
    // nothing to pause, read or listen for on its readable side.
    if (!stream.endAfterHeaders) {
      stream.pause();
      stream.on('trailers', (_h: unknown, _f: unknown, raw: string[]) => (this.clientTrailers = regularPairs(raw)));
    }
    stream.on('close', () => {
      if (this.done) return;
      if (this.upstreamEnded && this.responded) return this.finish(null);
      // The client reset the stream (or its connection went) before the response ended.
      this.upstreamAbort?.();
      const code = stream.rstCode ?? C.NGHTTP2_CANCEL;
      this.finish({ phase: 'client-abort', code: `RST_STREAM ${rstName(code)}`, message: 'client cancelled the stream before the response ended' });
    });
    // A pooled session (or a known h1 origin) is used at once: no promise, no extra microtask.
    const known = this.pool.ready(this.route.target);
    if (known) return this.forward(known);
    this.pool.get(this.route.target, ex).then(
      (up) => {
        if (this.done || stream.destroyed) return;
        this.forward(up);
      },
      (err: NodeJS.ErrnoException) => this.failBeforeResponse(upstreamFailure(err, false)),
    );
  }

  private begin(): void {
    if (this.started) return;
    this.started = true;
    this.proxy.emit('start', this.ex);
  }

  private forward(up: Upstream): void {
    if (up.kind === 'h2') this.viaH2(up);
    else this.viaH1();
  }

  private finish(error: RecordError | null): void {
    if (this.done) return;
    this.begin();
    this.done = true;
    this.ex.timing.totalMs ??= since(this.ex);
    const end = exchangeEnd(this.upstreamTrailers, this.clientTrailers);
    if (error) this.proxy.emit('abort', this.ex, error, end);
    else this.proxy.emit('end', this.ex, end);
  }

  private failBeforeResponse(error: RecordError): void {
    if (this.done) return;
    this.finish(error);
    const { stream } = this;
    if (stream.destroyed || stream.closed) return;
    if (!stream.headersSent) {
      stream.respond({ ':status': 502, 'content-type': 'text/plain; charset=utf-8' });
      stream.end(badGatewayText(error, this.route.target));
    } else resetStream(stream, C.NGHTTP2_INTERNAL_ERROR);
  }

  /**
   * Request body client → upstream, with backpressure; trailers after the last byte. A request
   * that ended with its headers just says so (its end already went upstream with the headers).
   */
  private pumpRequest(upstream: Writable, end: () => void): void {
    const { stream, ex, proxy } = this;
    if (stream.endAfterHeaders) {
      proxy.emit('request-end', ex, since(ex));
      return end();
    }
    const resume = () => stream.resume();
    stream.on('data', (chunk: Buffer) => {
      // Written on first, then shown to observers (with its arrival time): recording never
      // delays a byte.
      const t = since(ex);
      if (!upstream.write(chunk)) {
        stream.pause();
        upstream.once('drain', resume);
      }
      proxy.emit('request-chunk', ex, chunk, t);
    });
    stream.on('end', () => {
      proxy.emit('request-end', ex, since(ex));
      end();
    });
    stream.resume();
  }

  /** One response chunk to the client; upstream paused until the client's side drains. */
  private forwardChunk(chunk: Buffer, upstream: Readable): void {
    const t = since(this.ex);
    if (!this.stream.write(chunk)) {
      upstream.pause();
      this.stream.once('drain', () => upstream.resume());
    }
    this.proxy.emit('response-chunk', this.ex, chunk, t);
  }

  /** The response head to the client, from the upstream's raw headers (h2 or h1). */
  private respond(status: number, raw: readonly string[]): boolean {
    const { stream } = this;
    if (stream.destroyed || stream.closed) return false;
    const headers = toH2Object(raw, { ':status': status });
    // Waiting for trailers costs a frame and a loop turn per response: only when they can come
    // (gRPC, a Trailer header, or a client that asked with `te: trailers`).
    const trailersPossible = headers.trailer !== undefined || /^application\/grpc/i.test(String(headers['content-type'] ?? '')) || this.wantsTrailers;
    try {
      stream.respond(headers, { waitForTrailers: trailersPossible });
    } catch (e) {
      this.finish({ phase: 'protocol', code: (e as NodeJS.ErrnoException).code ?? 'BAD_RESPONSE_HEADERS', message: (e as Error).message });
      resetStream(stream, C.NGHTTP2_INTERNAL_ERROR);
      return false;
    }
    this.responded = true;
    if (!trailersPossible) return true;
    stream.on('wantTrailers', () => {
      const t = this.upstreamTrailers;
      try {
        stream.sendTrailers(t?.length ? h2Object(toH2Pairs(t.flat())) : {});
      } catch {
        stream.close();
      }
    });
    return true;
  }

  private viaH2(up: Extract<Upstream, { kind: 'h2' }>): void {
    const { ex, stream, route, proxy } = this;
    ex.server.alpn = 'h2';
    ex.server.ip = up.ip ?? up.session.socket?.remoteAddress;
    if (up.fresh && up.connectMs !== undefined) ex.timing.connectMs = up.connectMs;
    const authority = route.hostHeader ?? this.authority;
    const headers = toH2Object(this.rawHeaders, {
      ':method': ex.request.method,
      ':path': route.path,
      ':authority': authority,
      ':scheme': route.target.tls ? 'https' : 'http',
    });
    let upReq: http2.ClientHttp2Stream;
    // endStream as the client sent it: Node would otherwise end GET/DELETE on its own (dropping
    // a body) and an explicit end() afterwards costs an extra frame.
    const endStream = stream.endAfterHeaders;
    const waitForTrailers = !endStream && this.requestTrailersAnnounced;
    try {
      upReq = up.session.request(headers, { endStream, waitForTrailers });
    } catch (e) {
      return this.failBeforeResponse({ phase: 'upstream-connect', code: (e as NodeJS.ErrnoException).code ?? 'ERR_HTTP2', message: (e as Error).message });
    }
    this.begin();
    this.upstreamAbort = () => {
      resetStream(upReq, C.NGHTTP2_CANCEL);
    };
    if (waitForTrailers) {
      upReq.on('wantTrailers', () => {
        const t = this.clientTrailers;
        try {
          upReq.sendTrailers(t?.length ? h2Object(toH2Pairs(t.flat())) : {});
        } catch {
          upReq.close();
        }
      });
    }
    this.pumpRequest(upReq, () => {
      if (!upReq.writableEnded) upReq.end();
    });
    upReq.on('response', (h: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader, _flags: number, raw: string[]) => {
      const t = since(ex);
      ex.timing.ttfbMs = t;
      const status = Number(h[':status'] ?? 502);
      // The head goes to the client first; observers after.
      this.respond(status, raw);
      proxy.emit('response-head', ex, { status, httpVersion: '2', headers: regularPairs(raw) }, t);
    });
    upReq.on('trailers', (_h: unknown, _f: unknown, raw: string[]) => (this.upstreamTrailers = regularPairs(raw)));
    upReq.on('data', (chunk: Buffer) => this.forwardChunk(chunk, upReq));
    upReq.on('end', () => {
      // A reset also ends the readable side; that is not a clean end (the close handler resets).
      if (upReq.rstCode) return;
      this.upstreamEnded = true;
      ex.timing.totalMs = since(ex);
      if (!stream.destroyed) stream.end();
    });
    upReq.on('error', ignore);
    upReq.on('close', () => {
      if (this.done) return;
      // The session's own 'error' (why it died) comes after its streams close: look a tick later.
      if (!this.responded) return void setImmediate(() => this.upstreamClosed(upReq, up));
      this.upstreamClosed(upReq, up);
    });
  }

  private upstreamClosed(upReq: http2.ClientHttp2Stream, up: Extract<Upstream, { kind: 'h2' }>): void {
    const { stream } = this;
    if (this.done) return;
    const code = upReq.rstCode ?? C.NGHTTP2_NO_ERROR;
    if (this.upstreamEnded && code === C.NGHTTP2_NO_ERROR) return;
    const session = up.session as http2.ClientHttp2Session & { goawayed?: boolean };
    const goaway = session.goawayed || session.closed || session.destroyed;
    const how = goaway ? `GOAWAY/${rstName(code)}` : `RST_STREAM ${rstName(code)}`;
    const sessionError = (up.session as unknown as { lastError?: NodeJS.ErrnoException }).lastError;
    if (!this.responded && sessionError) {
      // The upstream never spoke h2 properly (HTTP/1.1 behind an h2 ALPN, garbage): a 502 with
      // the reason, as for any upstream that cannot be talked to.
      return this.failBeforeResponse({ phase: 'protocol', code: sessionError.code ?? 'ERR_HTTP2_ERROR', message: `upstream did not speak HTTP/2 after offering it: ${sessionError.message}` });
    }
    if (!this.responded) {
      const phase = code === C.NGHTTP2_PROTOCOL_ERROR || code === C.NGHTTP2_COMPRESSION_ERROR || code === C.NGHTTP2_FRAME_SIZE_ERROR ? 'protocol' : 'upstream-reset';
      this.finish({ phase, code: how, message: `upstream reset the stream before responding (${how})` });
      resetStream(stream, code);
      return;
    }
    this.finish({ phase: code === C.NGHTTP2_PROTOCOL_ERROR ? 'protocol' : 'upstream-reset', code: how, message: `upstream reset the stream mid-response (${how})` });
    // Never a fake clean end: the client's stream is reset with the same code.
    resetStream(stream, code);
  }

  private viaH1(): void {
    const { ex, stream, route, proxy } = this;
    const target = route.target;
    let connected = false;
    const host = route.hostHeader ?? this.authority;
    const upReq = (target.tls ? https : http).request({
      agent: proxy.connector.agentFor(target),
      host: target.host,
      port: target.port,
      method: ex.request.method,
      path: route.path,
      headers: toH1Raw(this.rawHeaders, host) as unknown as http.OutgoingHttpHeaders,
      ...(target.tls ? { servername: serverName(target.host) } : {}),
    });
    this.begin();
    this.upstreamAbort = () => upReq.destroy();
    upReq.on('socket', (s: net.Socket) => {
      const note = () => {
        connected = true;
        ex.server.ip = s.remoteAddress;
        if (target.tls) ex.server.alpn = (s as tls.TLSSocket).alpnProtocol || 'http/1.1';
      };
      if (!s.connecting) return note();
      s.once('connect', () => {
        ex.timing.connectMs = since(ex);
        connected = true;
        ex.server.ip = s.remoteAddress;
      });
      if (target.tls) s.once('secureConnect', note);
    });
    this.pumpRequest(upReq, () => {
      if (this.clientTrailers?.length) upReq.addTrailers(this.clientTrailers);
      upReq.end();
    });
    let upRes: http.IncomingMessage | undefined;
    upReq.on('error', (err: NodeJS.ErrnoException) => {
      if (this.done) return;
      if (!upRes) return this.failBeforeResponse(upstreamFailure(err, connected));
      this.upstreamReset(err);
    });
    upReq.on('response', (r: http.IncomingMessage) => {
      upRes = r;
      const t = since(ex);
      ex.timing.ttfbMs = t;
      if (!this.respond(r.statusCode ?? 502, r.rawHeaders)) {
        upReq.destroy();
        return;
      }
      proxy.emit('response-head', ex, { status: r.statusCode ?? 0, statusText: r.statusMessage, httpVersion: r.httpVersion, headers: regularPairs(r.rawHeaders) }, t);
      r.on('data', (chunk: Buffer) => this.forwardChunk(chunk, r));
      r.on('end', () => {
        this.upstreamEnded = true;
        ex.timing.totalMs = since(ex);
        if (r.rawTrailers.length) this.upstreamTrailers = regularPairs(r.rawTrailers);
        if (!stream.destroyed) stream.end();
      });
      r.on('aborted', () => this.upstreamReset());
      r.on('error', (e: NodeJS.ErrnoException) => this.upstreamReset(e));
      r.on('close', () => {
        if (!r.complete) this.upstreamReset();
      });
    });
  }

  private upstreamReset(err?: NodeJS.ErrnoException): void {
    if (this.done || this.upstreamEnded) return;
    this.finish({ phase: 'upstream-reset', code: err?.code ?? 'ECONNRESET', message: err?.message ?? 'upstream closed the connection before the response ended' });
    resetStream(this.stream, C.NGHTTP2_INTERNAL_ERROR);
  }
}

/** The h2c connection preface (RFC 9113 3.4) a prior-knowledge client opens with. */
export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export function startsWithH2Preface(first: Buffer): boolean {
  const n = Math.min(first.length, H2_PREFACE.length);
  return n >= 4 && first.subarray(0, n).equals(H2_PREFACE.subarray(0, n));
}
