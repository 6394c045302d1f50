// HTTP/2 on raw sockets, both legs (h2-conn.ts), for clients whose origin speaks h2: each client
// stream becomes one stream on a pooled upstream connection, frames relayed as they come (full
// duplex, trailers both ways, resets mapped), bytes out before the exchange is built and observers
// see it. An origin not seen yet is connected to (probed) as the client's connection arrives.
// Node's http2 (h2.ts) serves the rest: origins without h2 (translated to HTTP/1.1), map-remote
// rules, and `wire: false`.
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import type tls from 'node:tls';
import type { HeaderList, RecordError } from '../capture/record.js';
import { exchangeEnd, newExchange, since, type Exchange } from './exchange.js';
import { H2Connection, RESOLVED, type H2Stream, type StreamReset } from './h2-conn.js';
import { H2_ERROR, h2ErrorName, type H2ConnectionError } from './h2-frame.js';
import { CONNECTION_SPECIFIC, recordClientH2Error, regularPairs, type H2UpstreamPool } from './h2.js';
import type { ProxyServer } from './proxy.js';
import { reverseTarget, routeRequest, RouteError, type ConnectionContext, type RequestRoute } from './request-route.js';
import { badGatewayText, upstreamFailure, type UpstreamConnector, type UpstreamTarget } from './upstream.js';

/** Upstream connections idle this long are closed (an active one never is). */
const IDLE_MS = 60_000;

interface UpstreamConn {
  conn: H2Connection;
  ip: string | undefined;
  /** The socket error or connection error that ended it, for the 502 text. */
  lastError?: Error;
  /** Connect time of a connection made before any stream used it (probe): the first one's. */
  unclaimedConnectMs?: number;
}

/** A stream waiting for a slot on an upstream connection; called synchronously when one is free. */
interface SlotWaiter {
  ready(up: UpstreamConn, connectMs: number | undefined): void;
  fail(err: NodeJS.ErrnoException): void;
  /** The client stream went away meanwhile: skip it. */
  gone(): boolean;
}

/** Upstream connections per origin at most; past that, streams wait for a free slot. */
const MAX_CONNECTIONS_PER_ORIGIN = 8;

/**
 * Pooled raw h2 connections to upstreams, per origin. A stream takes a free slot at once; when
 * every connection is at the upstream's MAX_CONCURRENT_STREAMS it waits for one (or a new
 * connection, up to MAX_CONNECTIONS_PER_ORIGIN), in order. Slots are handed out synchronously so
 * the stream is open before the next waiter looks.
 */
export class H2WirePool {
  private readonly conns = new Map<string, UpstreamConn[]>();
  private readonly connecting = new Map<string, number>();
  private readonly waiters = new Map<string, SlotWaiter[]>();
  private readonly probes = new Map<string, Promise<void>>();
  /** Whether each origin is TLS (h2) or plain (h2c), for connections opened from serveWaiters. */
  private readonly tlsOf = new Map<string, boolean>();

  constructor(
    private readonly connector: UpstreamConnector,
    private readonly origins: H2UpstreamPool,
  ) {}

  /** A live connection with a free stream slot, if there is one now. */
  ready(target: UpstreamTarget): UpstreamConn | undefined {
    const list = this.conns.get(`${target.host}:${target.port}`);
    if (list) for (const u of list) if (u.conn.canOpen()) return u;
    return undefined;
  }

  /** `w.ready` once a slot is free (maybe now), or `w.fail` when no connection can be made. */
  request(target: UpstreamTarget, w: SlotWaiter): void {
    const key = `${target.host}:${target.port}`;
    const queue = this.waiters.get(key);
    if (!queue?.length) {
      const up = this.ready(target);
      if (up) {
        const ms = up.unclaimedConnectMs;
        up.unclaimedConnectMs = undefined;
        return w.ready(up, ms);
      }
    }
    if (queue) queue.push(w);
    else this.waiters.set(key, [w]);
    const open = (this.conns.get(key)?.length ?? 0) + (this.connecting.get(key) ?? 0);
    if (!this.connecting.get(key) && open < MAX_CONNECTIONS_PER_ORIGIN) this.connect(target, key).catch(() => {});
  }

  /** Connect ahead of any stream (the client's first request will use this connection). */
  probe(target: UpstreamTarget): Promise<void> {
    const key = `${target.host}:${target.port}`;
    const p = this.probes.get(key) ?? this.connect(target, key).then(() => {});
    this.probes.set(key, p);
    const clear = () => this.probes.delete(key);
    p.then(clear, clear);
    return p;
  }

  /** Hand free slots of the origin's connections to waiters, in order. */
  private serveWaiters(key: string): void {
    const queue = this.waiters.get(key);
    const list = this.conns.get(key);
    if (!queue || !list) return;
    while (queue.length) {
      if (queue[0]!.gone()) {
        queue.shift();
        continue;
      }
      const up = list.find((u) => u.conn.canOpen());
      if (!up) break;
      const ms = up.unclaimedConnectMs;
      up.unclaimedConnectMs = undefined;
      queue.shift()!.ready(up, ms);
    }
    if (!queue.length) return void this.waiters.delete(key);
    // Every connection is full: one more, up to the cap (past it, wait for a slot).
    if (!this.connecting.get(key) && list.length < MAX_CONNECTIONS_PER_ORIGIN) {
      const [host, port] = [key.slice(0, key.lastIndexOf(':')), Number(key.slice(key.lastIndexOf(':') + 1))];
      this.connect({ host, port, tls: this.tlsOf.get(key) ?? true }, key).catch(() => {});
    }
  }

  private failWaiters(key: string, err: NodeJS.ErrnoException): void {
    // Other connections may still serve them; only when there are none do they fail.
    if (this.conns.get(key)?.length || this.connecting.get(key)) return;
    const queue = this.waiters.get(key) ?? [];
    this.waiters.delete(key);
    for (const w of queue) if (!w.gone()) w.fail(err);
  }

  private async connect(target: UpstreamTarget, key: string): Promise<UpstreamConn> {
    this.tlsOf.set(key, target.tls);
    this.connecting.set(key, (this.connecting.get(key) ?? 0) + 1);
    const t0 = performance.now();
    let socket: net.Socket;
    try {
      socket = await this.connector.connect!(target, target.tls ? ['h2', 'http/1.1'] : undefined);
      if (target.tls && (socket as tls.TLSSocket).alpnProtocol !== 'h2') {
        socket.destroy();
        this.origins.noteAlpn(target, false);
        throw Object.assign(new Error(`the origin no longer offers HTTP/2 (ALPN ${(socket as tls.TLSSocket).alpnProtocol || 'none'}); later connections use HTTP/1.1`), { code: 'H2_NOT_OFFERED' });
      }
    } catch (e) {
      this.connecting.set(key, this.connecting.get(key)! - 1);
      this.failWaiters(key, e as NodeJS.ErrnoException);
      throw e;
    }
    this.connecting.set(key, this.connecting.get(key)! - 1);
    // Later clients of this origin come straight here, without a probe.
    if (target.tls) this.origins.noteAlpn(target, true);
    const up: UpstreamConn = { conn: undefined as unknown as H2Connection, ip: socket.remoteAddress, unclaimedConnectMs: Math.round((performance.now() - t0) * 1000) / 1000 };
    const drop = () => {
      const list = this.conns.get(key);
      const i = list?.indexOf(up) ?? -1;
      if (i >= 0) list!.splice(i, 1);
      if (list && !list.length) this.conns.delete(key);
      // Streams still waiting go to another connection, or a new one.
      if (this.waiters.get(key)?.length) {
        if (this.ready(target)) this.serveWaiters(key);
        else if (!this.connecting.get(key)) this.connect(target, key).catch(() => {});
      }
    };
    up.conn = new H2Connection(socket, {
      role: 'client',
      onError: (err) => (up.lastError ??= err),
      onGoaway: drop,
      onClose: drop,
      onCapacity: () => this.serveWaiters(key),
    });
    socket.on('error', (e: Error) => (up.lastError ??= e));
    socket.setTimeout(IDLE_MS, () => {
      if (!up.conn.activeStreams) up.conn.destroySoon();
    });
    // Pooled upstream connections must not keep the process alive.
    socket.unref();
    const list = this.conns.get(key);
    if (list) list.push(up);
    else this.conns.set(key, [up]);
    this.serveWaiters(key);
    return up;
  }

  destroy(): void {
    // GOAWAY and FIN, not a reset: the upstream sees a clean close.
    for (const list of this.conns.values()) for (const u of list) u.conn.fail(H2_ERROR.NO_ERROR, '');
    this.conns.clear();
  }
}

interface FrontInfo {
  ctx: ConnectionContext;
  proxy: ProxyServer;
  pool: H2WirePool;
  client: { ip: string; port: number };
  log?(line: string): void;
}

/** The client-facing side on raw sockets. */
export class H2WireFront {
  constructor(
    private readonly pool: H2WirePool,
    private readonly origins: H2UpstreamPool,
    private readonly log?: (line: string) => void,
  ) {}

  /**
   * Serve a client h2 connection here when its origin speaks h2, else `fallback` (Node's h2).
   * An origin not seen yet is connected to first: its ALPN answer decides. Nothing has been
   * read from the socket meanwhile, so either side can take it.
   */
  route(socket: net.Socket, ctx: ConnectionContext, proxy: ProxyServer, fallback: () => void): void {
    if (proxy.options.wire === false || proxy.options.mapRemote?.length || !proxy.connector.connect) return fallback();
    const target = ctx.connect ?? (ctx.reverse ? reverseTarget(ctx.reverse.base) : undefined);
    if (!target) return fallback();
    if (this.origins.speaksH2(target)) return this.serve(socket, ctx, proxy);
    if (!target.tls || this.origins.knownH1(target)) return fallback();
    this.pool.probe(target).then(
      () => {
        if (!socket.destroyed) this.serve(socket, ctx, proxy);
      },
      () => {
        if (!socket.destroyed) fallback();
      },
    );
  }

  serve(socket: net.Socket, ctx: ConnectionContext, proxy: ProxyServer): void {
    socket.allowHalfOpen = false;
    const info: FrontInfo = { ctx, proxy, pool: this.pool, client: { ip: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 }, log: this.log };
    new H2Connection(socket, {
      role: 'server',
      onStream: (stream, headers, endStream) => startExchange(stream, headers, endStream, info),
      onError: (err, byPeer) => {
        if (!byPeer) recordClientH2Error(ctx, info.client, h2ErrorName(err.h2code), err.message, proxy, this.log);
      },
    });
  }
}

/**
 * Observer events wait for this turn's writes: those flush in a microtask queued at the first
 * write, before this one, so recording never holds a frame back. Flat [proxy, name, a, b, c].
 */
let later: unknown[] = [];
let drainQueued = false;
let drainHopped = false;

function emitLater(proxy: ProxyServer, name: string, a: unknown, b?: unknown, c?: unknown): void {
  later.push(proxy, name, a, b, c);
  if (!drainQueued) {
    drainQueued = true;
    RESOLVED.then(drainLater);
  }
}

function drainLater(): void {
  // One more hop: flushes queued after the first event of this turn run first.
  if (!drainHopped) {
    drainHopped = true;
    return void RESOLVED.then(drainLater);
  }
  drainHopped = false;
  const batch = later;
  later = [];
  drainQueued = false;
  for (let i = 0; i < batch.length; i += 5) (batch[i] as { emit(name: string, ...args: unknown[]): boolean }).emit(batch[i + 1] as string, batch[i + 2], batch[i + 3], batch[i + 4]);
}

/** Pairs → a flat list without connection-specific fields, for the other leg. */
function forwardable(pairs: HeaderList, into: string[]): string[] {
  for (const [k, v] of pairs) {
    if (CONNECTION_SPECIFIC.has(k)) continue;
    if (k === 'te' && v.trim().toLowerCase() !== 'trailers') continue;
    into.push(k, v);
  }
  return into;
}

const BAD_VALUE = /[\0\r\n]/;

interface RequestHead {
  method: string;
  path: string;
  authority: string;
  scheme: string;
  regular: HeaderList;
}

/** The request's pseudo-headers and fields, or why it is malformed (RFC 9113 8.2, 8.3). */
function parseRequestHead(flat: readonly string[]): RequestHead | string {
  let method = '';
  let path = '';
  let authority = '';
  let scheme = '';
  let host = '';
  const regular: HeaderList = [];
  const seen: string[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const k = flat[i]!;
    const v = flat[i + 1]!;
    // NUL, CR and LF never belong in a value (RFC 9113 8.2.1): an HTTP/1.1 hop behind the
    // upstream could read them as a header or request boundary.
    if (BAD_VALUE.test(v)) return `control character in the value of ${k}`;
    if (k.charCodeAt(0) === 58) {
      if (regular.length) return `pseudo-header ${k} after regular fields`;
      if (seen.includes(k)) return `duplicate pseudo-header ${k}`;
      seen.push(k);
      if (k === ':method') method = v;
      else if (k === ':path') path = v;
      else if (k === ':authority') authority = v;
      else if (k === ':scheme') scheme = v;
      else return `unknown pseudo-header ${k}`;
      continue;
    }
    if (!k.length) return 'empty field name';
    for (let j = 0; j < k.length; j++) {
      const c = k.charCodeAt(j);
      if (c >= 65 && c <= 90) return `upper-case field name ${k}`;
      if (c <= 0x20 || c >= 0x7f || c === 58) return `invalid character in field name ${JSON.stringify(k)}`;
    }
    if (k === 'connection' || k === 'keep-alive' || k === 'proxy-connection' || k === 'transfer-encoding' || k === 'upgrade') return `connection-specific field ${k}`;
    if (k === 'te' && v !== 'trailers') return `te: ${v}`;
    if (k === 'host') host = v;
    regular.push([k, v]);
  }
  if (!method) return 'no :method';
  if (method !== 'CONNECT' && (!path || !scheme)) return 'no :path or :scheme';
  return { method, path, authority: authority || host, scheme, regular };
}

function startExchange(cs: H2Stream, flat: string[], endStream: boolean, info: FrontInfo): void {
  const { ctx, proxy } = info;
  const head = parseRequestHead(flat);
  if (typeof head === 'string') {
    cs.reset(H2_ERROR.PROTOCOL_ERROR);
    info.log?.(`agenttap: malformed HTTP/2 request from the client (${head}); stream reset`);
    return;
  }
  if (head.method === 'CONNECT') {
    // Extended CONNECT (WebSocket over h2) is not offered, as on Node's path.
    return plainResponse(cs, 501, 'agenttap: CONNECT inside HTTP/2 is not supported\n');
  }
  let route: RequestRoute;
  try {
    route = routeRequest(head.path, head.authority, ctx, proxy.options.mapRemote);
  } catch (e) {
    return plainResponse(cs, e instanceof RouteError ? e.status : 400, `agenttap: ${(e as Error).message}\n`);
  }
  proxy.http2Counts.raw++;
  new WireExchange(cs, head, endStream, route, info).run();
}

function plainResponse(cs: H2Stream, status: number, text: string): void {
  cs.sendHeaders([':status', String(status), 'content-type', 'text/plain; charset=utf-8'], false);
  cs.sendData(Buffer.from(text), true);
}

/** Request body read and dropped after the upstream's early end, before the client is reset. */
const UNWANTED_BODY = 1024 * 1024;

const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** One client stream relayed to one upstream stream, events emitted along the way. */
class WireExchange implements SlotWaiter {
  private started = false;
  private requestEndEmitted = false;
  /** Request DATA went upstream (a refused stream can then no longer be retried). */
  private bodySent = false;
  /** The client's request ended (END_STREAM or trailers) after the upstream stream opened. */
  private clientEnded = false;
  /** Request trailers that went upstream (sent again if a refused stream is retried). */
  private trailersSent: string[] | undefined;
  private retries = 0;
  /** Request bytes that came after the upstream stream was done. */
  private unwanted = 0;
  private done = false;
  private responded = false;
  private upstreamEnded = false;
  private up?: UpstreamConn;
  private us?: H2Stream;
  /** Request DATA (with arrival times) that came before the upstream stream was open. */
  private early: Array<{ chunk: Buffer; t: number }> | undefined;
  /** When the request ended, if it did before the upstream stream was open. */
  private earlyEndAt: number | undefined;
  private earlyTrailers: string[] | undefined;
  private clientTrailers?: HeaderList;
  private upstreamTrailers?: HeaderList;
  /**
   * Built once the request went upstream (or has to wait): the id, timestamps and record
   * objects are bookkeeping, kept off the request's path. Backdated to its arrival.
   */
  private ex!: Exchange;
  private readonly arrived = { wall: Date.now(), mono: performance.now() };
  /** The request head's never-indexed names (cs.neverIndexed moves on to its trailers). */
  private readonly headNeverIndexed: readonly string[] | undefined;
  private earlyTrailersNeverIndexed: readonly string[] | undefined;

  constructor(
    private readonly cs: H2Stream,
    private readonly head: RequestHead,
    private readonly endStream: boolean,
    private readonly route: RequestRoute,
    private readonly info: FrontInfo,
  ) {
    this.headNeverIndexed = cs.neverIndexed;
  }

  run(): void {
    const { cs } = this;
    cs.onData = (chunk, end) => this.requestData(chunk, end);
    cs.onTrailers = (flat) => this.requestTrailers(flat);
    cs.onClose = (reset) => this.clientClosed(reset);
    // Request bytes that come before the upstream stream is open wait here (not credited).
    this.early = [];
    this.info.pool.request(this.route.target, this);
    this.exchange();
  }

  private exchange(): Exchange {
    if (this.ex) return this.ex;
    const { route, head } = this;
    this.ex = newExchange({ kind: 'http', mode: route.mode, client: this.info.client, server: route.server, request: { method: head.method, url: route.url, httpVersion: '2', headers: head.regular } }, this.arrived);
    return this.ex;
  }

  // SlotWaiter: the pool calls these synchronously.
  ready(up: UpstreamConn, connectMs: number | undefined): void {
    this.open(up, connectMs);
  }

  fail(err: NodeJS.ErrnoException): void {
    if (err.code !== 'H2_NOT_OFFERED') return this.failBeforeResponse(upstreamFailure(err, false));
    this.failBeforeResponse({ phase: 'protocol', code: err.code, message: err.message });
    // The origin went back to HTTP/1.1: the client's next connection is served by Node's http2,
    // which translates. GOAWAY tells it to make one (streams in flight still finish).
    this.cs.conn.goaway(H2_ERROR.NO_ERROR, 'origin no longer offers h2');
  }

  gone(): boolean {
    return this.done || this.cs.closed;
  }

  private begin(): void {
    if (this.started) return;
    this.started = true;
    emitLater(this.info.proxy, 'start', this.exchange());
  }

  private open(up: UpstreamConn, connectMs: number | undefined): void {
    const { route, head } = this;
    this.up = up;
    const flat = [':method', head.method, ':scheme', route.target.tls ? 'https' : 'http', ':authority', route.hostHeader ?? head.authority, ':path', route.path];
    forwardable(head.regular, flat);
    const early = this.early;
    this.early = undefined;
    const earlyEnd = this.earlyEndAt !== undefined || this.clientEnded;
    const endNow = this.endStream || (earlyEnd && !early?.length && !this.earlyTrailers);
    const us = up.conn.open(flat, endNow, this.headNeverIndexed);
    // The last frame of the client's read: the request goes now, the bookkeeping after it.
    if (!this.cs.conn.midRead) up.conn.flushNow();
    const ex = this.exchange();
    ex.server.alpn = 'h2';
    ex.server.ip = up.ip;
    if (connectMs !== undefined) ex.timing.connectMs = connectMs;
    this.us = us;
    us.onHeaders = (h, end) => this.responseHead(h, end);
    us.onData = (chunk, end) => this.responseData(chunk, end);
    us.onTrailers = (h) => this.responseTrailers(h);
    us.onClose = (reset) => this.upstreamClosed(reset);
    // Request bytes credited to the client as they reach the upstream socket.
    us.onSent = (n) => this.cs.consumed(n);
    // Response bytes credited to the upstream as they reach the client's socket.
    this.cs.onSent = (n) => us.consumed(n);
    if (early) for (let i = 0; i < early.length; i++) us.sendData(early[i]!.chunk, earlyEnd && !this.earlyTrailers && i === early.length - 1);
    if (this.earlyTrailers) us.sendTrailers(this.earlyTrailers, this.earlyTrailersNeverIndexed);
    if (early?.length) this.bodySent = true;
    this.begin();
    if (this.endStream) this.requestEnd(since(ex));
    else this.emitEarly(early);
  }

  private requestEnd(t: number): void {
    if (this.requestEndEmitted) return;
    this.requestEndEmitted = true;
    emitLater(this.info.proxy, 'request-end', this.ex, t);
  }

  /** Request events that waited for `start` (the body came before the upstream was ready). */
  private emitEarly(early: Array<{ chunk: Buffer; t: number }> | undefined): void {
    const { ex, info } = this;
    if (early) for (const e of early) emitLater(info.proxy, 'request-chunk', ex, e.chunk, e.t);
    if (this.earlyEndAt !== undefined) this.requestEnd(this.earlyEndAt);
  }

  private requestData(chunk: Buffer, end: boolean): void {
    const { ex, us } = this;
    const t = since(ex);
    if (!us) {
      if (chunk.length) this.early?.push({ chunk, t });
      if (end) this.earlyEndAt = t;
      return;
    }
    // Events are queued before the send: a send that ends the exchange queues its `end`.
    if (chunk.length) {
      this.bodySent = true;
      emitLater(this.info.proxy, 'request-chunk', ex, chunk, t);
    }
    if (end) {
      this.clientEnded = true;
      this.requestEnd(since(ex));
    }
    if (!us.closed) return us.sendData(chunk, end);
    // The upstream is done with this stream (a whole response, then RST_STREAM NO_ERROR): the
    // rest of the body is recorded and dropped, so a record keeps what the client sent. Past
    // UNWANTED_BODY the client is told to stop, as the upstream meant (RFC 9113 8.1).
    this.cs.consumed(chunk.length);
    this.unwanted += chunk.length;
    if (this.unwanted > UNWANTED_BODY && !this.cs.closed) {
      this.finish(null);
      if (!this.cs.hasQueued) this.cs.reset(H2_ERROR.NO_ERROR);
    }
  }

  private requestTrailers(flat: string[]): void {
    this.clientTrailers = regularPairs(flat);
    const fwd = forwardable(this.clientTrailers, []);
    if (!this.us) {
      this.earlyTrailers = fwd;
      this.earlyTrailersNeverIndexed = this.cs.neverIndexed;
      this.earlyEndAt = since(this.ex);
      return;
    }
    this.clientEnded = true;
    this.trailersSent = fwd;
    this.earlyTrailersNeverIndexed = this.cs.neverIndexed;
    this.requestEnd(since(this.ex));
    this.us.sendTrailers(fwd, this.cs.neverIndexed);
  }

  private responseHead(flat: string[], end: boolean): void {
    const { ex, cs } = this;
    const status = Number(flat[1]);
    const out = [':status', flat[1]!];
    const regular = regularPairs(flat);
    forwardable(regular, out);
    if (status < 200) {
      // 1xx (103 Early Hints, 100 Continue) pass on; the record keeps the final head.
      if (status !== 101) cs.sendHeaders(out, false);
      return;
    }
    const t = since(ex);
    ex.timing.ttfbMs = t;
    this.responded = true;
    if (end) {
      this.upstreamEnded = true;
      ex.timing.totalMs = t;
    }
    // Queued before the send, which may end the exchange (and queue `end`).
    emitLater(this.info.proxy, 'response-head', ex, { status, httpVersion: '2', headers: regular }, t);
    cs.sendHeaders(out, end, this.us!.neverIndexed);
    if (end && !this.us!.conn.midRead) cs.conn.flushNow();
  }

  private responseData(chunk: Buffer, end: boolean): void {
    const { ex, cs } = this;
    const t = since(ex);
    if (end) {
      this.upstreamEnded = true;
      ex.timing.totalMs = t;
    }
    if (chunk.length) emitLater(this.info.proxy, 'response-chunk', ex, chunk, t);
    cs.sendData(chunk, end);
    // The response's last frame, at the end of a read: to the client now, bookkeeping after.
    if (end && !this.us!.conn.midRead) cs.conn.flushNow();
  }

  private responseTrailers(flat: string[]): void {
    this.upstreamTrailers = regularPairs(flat);
    this.upstreamEnded = true;
    this.ex.timing.totalMs = since(this.ex);
    this.cs.sendTrailers(forwardable(this.upstreamTrailers, []), this.us!.neverIndexed);
  }

  private finish(error: RecordError | null): void {
    if (this.done) return;
    this.exchange();
    this.begin();
    this.done = true;
    this.ex.timing.totalMs ??= since(this.ex);
    const end = exchangeEnd(this.upstreamTrailers, this.clientTrailers);
    if (error) emitLater(this.info.proxy, 'abort', this.ex, error, end);
    else emitLater(this.info.proxy, 'end', this.ex, end);
  }

  private failBeforeResponse(error: RecordError): void {
    if (this.done) return;
    this.exchange();
    if (!this.started) {
      // The record keeps what the client tried to send.
      this.begin();
      const early = this.early;
      this.early = undefined;
      this.emitEarly(early);
    }
    this.finish(error);
    const { cs } = this;
    if (cs.closed) return;
    if (!this.responded) {
      cs.sendHeaders([':status', '502', 'content-type', 'text/plain; charset=utf-8'], false);
      cs.sendData(Buffer.from(badGatewayText(error, this.route.target)), true);
    } else cs.reset(H2_ERROR.INTERNAL_ERROR);
  }

  private clientClosed(reset: StreamReset | undefined): void {
    if (this.done) return;
    if (!reset) {
      // Both directions ended on the client's side; the upstream's end was what we sent.
      if (this.upstreamEnded && this.responded) this.finish(null);
      return;
    }
    const name = h2ErrorName(reset.code);
    if (reset.by === 'local') {
      // Our own resets come after finish(); this one is the connection's: the client broke the stream.
      this.finish({ phase: 'protocol', code: `RST_STREAM ${name}`, message: `the client broke HTTP/2 on this stream (${name}); stream reset` });
    } else {
      // The client reset the stream (or its connection went) before the response ended.
      const code = reset.by === 'peer' ? `RST_STREAM ${name}` : reset.by === 'goaway' ? `GOAWAY/${name}` : 'CONNECTION_CLOSED';
      const message = reset.by === 'peer' ? 'client cancelled the stream before the response ended' : 'the client connection closed before the response ended';
      this.finish({ phase: 'client-abort', code, message });
    }
    // After finish(): the upstream's close must not record this as its own reset.
    this.us?.reset(H2_ERROR.CANCEL);
  }

  /**
   * Sent again on another connection: a stream the upstream refused (not processed, RFC 9113
   * 8.7), or an idempotent bodiless request whose connection died before any answer (RFC 9110
   * 9.2.2: a pooled connection the upstream closed as we used it).
   */
  private retryable(reset: StreamReset): boolean {
    if (this.responded || this.bodySent || this.retries >= 3 || reset.by === 'local' || reset.by === 'peer' && reset.code !== H2_ERROR.REFUSED_STREAM) return false;
    if (reset.code === H2_ERROR.REFUSED_STREAM) return true;
    // A connection that broke HTTP/2 is not tried again: the next one would likely do the same.
    return reset.by === 'connection' && !reset.error && !this.up?.lastError && IDEMPOTENT.has(this.head.method);
  }

  private upstreamClosed(reset: StreamReset | undefined): void {
    if (this.done) return;
    // Clean on the upstream side: finished once the client's stream has it all (clientClosed).
    if (!reset) return void (this.cs.closed && this.finish(null));
    const { cs } = this;
    if (this.retryable(reset) && !cs.closed) {
      this.retries++;
      this.us = undefined;
      this.cs.onSent = undefined;
      this.early = [];
      this.earlyTrailers = this.trailersSent;
      return this.info.pool.request(this.route.target, this);
    }
    if (reset.by === 'peer' && reset.code === H2_ERROR.NO_ERROR && this.responded) {
      // RST_STREAM(NO_ERROR) after the response head ends it: Node's own servers end responses
      // this way (all DATA, then the reset instead of END_STREAM), and Node's client takes it
      // as a clean end. The client gets END_STREAM after the queued DATA.
      if (!this.upstreamEnded) {
        this.upstreamEnded = true;
        this.ex.timing.totalMs = since(this.ex);
        cs.end();
      }
      // The client may still be sending its body (the upstream answered without reading it):
      // it is read, recorded and dropped until it ends (requestData), up to UNWANTED_BODY.
      return;
    }
    if (reset.by === 'connection' && !this.responded) {
      const err = this.up?.lastError ?? reset.error;
      const code = (err as NodeJS.ErrnoException | undefined)?.code;
      if (err && 'h2code' in err) return this.failBeforeResponse({ phase: 'protocol', code: h2ErrorName((err as H2ConnectionError).h2code), message: `upstream did not speak HTTP/2 properly: ${err.message}` });
      return this.failBeforeResponse(err ? upstreamFailure(err as NodeJS.ErrnoException, true) : { phase: 'upstream-reset', code: code ?? 'ECONNRESET', message: 'upstream closed the connection before responding' });
    }
    const how = reset.by === 'goaway' || reset.by === 'connection' ? `GOAWAY/${h2ErrorName(reset.code)}` : `RST_STREAM ${h2ErrorName(reset.code)}`;
    const protocol = reset.code === H2_ERROR.PROTOCOL_ERROR || reset.code === H2_ERROR.COMPRESSION_ERROR || reset.code === H2_ERROR.FRAME_SIZE_ERROR;
    const when = this.responded ? 'mid-response' : 'before responding';
    this.finish({ phase: protocol ? 'protocol' : 'upstream-reset', code: how, message: `upstream reset the stream ${when} (${how})` });
    // Never a fake clean end: the client's stream is reset with the same code.
    cs.reset(reset.code === H2_ERROR.NO_ERROR ? H2_ERROR.INTERNAL_ERROR : reset.code);
  }
}

