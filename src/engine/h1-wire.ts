// HTTP/1.1 forwarding on raw sockets: the hot path for decrypted CONNECT tunnels and reverse
// listeners. Heads are parsed here (h1-parse.ts); bodies pass through with their framing as it
// came, and observers get the same exchange events h1.ts emits. Measured on loopback, Node's
// http server + client put a proxy at ~3× a direct request's latency; this path is at the bare
// byte relay's ~2.1×. What it does not vouch for (upgrades, Expect, HTTP/1.0, unusual framing,
// malformed heads, h2-only origins, plain origins not yet seen speaking HTTP/1.1) goes to Node's
// http server and h1.ts, between requests, with the unread bytes put back.
import type { EventEmitter } from 'node:events';
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import type tls from 'node:tls';
import type { RecordError } from '../capture/record.js';
import { exchangeEnd, headerPairs, newExchange, since, type Exchange, type ExchangeEvents, type ResponseHead as ResponseHeadEvent } from './exchange.js';
import {
  ChunkedDecoder,
  connectionHas,
  hasHeader,
  headerValue,
  MAX_HEAD,
  NEED_MORE,
  parseRequestHead,
  parseResponseHead,
  requestFraming,
  responseFraming,
  UNSUPPORTED,
  type Framing,
  type RequestHead,
  type ResponseHead,
} from './h1-parse.js';
import { originKey, type Http1Pool, type UpstreamConnection, type UpstreamUser } from './h1-pool.js';
import type { H1ToH2Bridge } from './h1-to-h2.js';
import { endToEndHeaders } from './hop-by-hop.js';
import type { MapRemoteRule } from './map-remote.js';
import { authority, routeRequest, type ConnectionContext, type RequestRoute } from './request-route.js';
import { badGatewayText, upstreamFailure, type ConnectPhases } from './upstream.js';

export interface WireDeps {
  events: EventEmitter<ExchangeEvents>;
  pool: Http1Pool;
  mapRemote?: readonly MapRemoteRule[];
  h2Upstream?: H1ToH2Bridge;
  /** Plain origins (originKey) seen answering in HTTP/1.1: only those are reached from here. */
  knownH1: Set<string>;
  /** `raw` counts the requests this path served. */
  counts: { raw: number };
  /** Serve `socket` with Node's http server from now on; `unread` goes back on the socket first. */
  handover(socket: net.Socket, unread: Buffer | undefined): void;
}

/** Methods a proxy may resend on its own (RFC 9110 9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
/** Requests whose handling lives in h1.ts / websocket.ts. */
const LEAVE_TO_NODE = new Set(['upgrade', 'expect', 'http2-settings']);
/** A keep-alive client connection with nothing in flight is closed after this long (Node's server: 30 s too). */
const CLIENT_IDLE_MS = 30_000;
/** Pipelined bytes buffered while a response is in flight before the client is paused. */
const MAX_PIPELINED = 4 * MAX_HEAD;

/** Serve a client connection (plain or decrypted TLS); `first` holds bytes already read from it. */
export function serveHttp1Wire(socket: net.Socket, ctx: ConnectionContext, deps: WireDeps, first?: Buffer): void {
  new WireConnection(socket, ctx, deps).start(first);
}

class WireConnection {
  /** Client bytes read but not yet used (a partial head, or a pipelined request). */
  pending: Buffer | undefined;
  flight: Flight | undefined;
  gone = false;
  private readonly onData = (d: Buffer): void => this.data(d);
  private readonly onEnd = (): void => this.clientLeft(true);
  private readonly onClose = (): void => this.clientLeft(false);
  private readonly onDrain = (): void => this.flight?.clientDrain();
  private readonly onTimeout = (): void => {
    if (!this.flight) this.socket.destroy();
  };
  private readonly onError = (): void => {};

  constructor(
    readonly socket: net.Socket,
    readonly ctx: ConnectionContext,
    readonly deps: WireDeps,
  ) {}

  start(first: Buffer | undefined): void {
    const s = this.socket;
    s.on('data', this.onData);
    s.on('end', this.onEnd);
    s.on('close', this.onClose);
    s.on('drain', this.onDrain);
    s.on('error', this.onError);
    // Any read or write restarts it; while an exchange runs (a quiet SSE stream) it is ignored.
    s.setTimeout(CLIENT_IDLE_MS);
    s.on('timeout', this.onTimeout);
    s.resume();
    if (first?.length) this.data(first);
  }

  private data(d: Buffer): void {
    const f = this.flight;
    if (f && f.wantsBody) return f.requestData(d);
    this.pending = this.pending ? Buffer.concat([this.pending, d]) : d;
    if (!f) this.next();
    else if (this.pending.length > MAX_PIPELINED) this.socket.pause(); // pipelined: waits its turn
  }

  /** Starts the next request from `pending`, if a whole head is there. */
  next(): void {
    const buf = this.pending;
    if (!buf || this.flight || this.gone) return;
    const head = parseRequestHead(buf);
    if (head === NEED_MORE) return;
    if (head === UNSUPPORTED || head.method === 'CONNECT' || hasHeader(head.raw, LEAVE_TO_NODE)) return this.handover();
    const framing = requestFraming(head.raw);
    const host = headerValue(head.raw, 'host');
    if (!framing || host.repeated || !this.deps.pool.usable) return this.handover();
    let route: RequestRoute;
    try {
      route = routeRequest(head.target, host.value, this.ctx, this.deps.mapRemote);
    } catch {
      return this.handover(); // h1.ts answers with the reason
    }
    const key = originKey(route.target);
    if (this.deps.h2Upstream?.isH2Only(route.target) || (!route.target.tls && !this.deps.knownH1.has(key))) return this.handover();
    this.pending = buf.length > head.size ? buf.subarray(head.size) : undefined;
    this.deps.counts.raw++;
    this.flight = new Flight(this, head, buf.subarray(0, head.size), framing, route, key, host.value === undefined);
  }

  /** The flight is over; `close` ends the connection, else the next request may start. */
  flightDone(close: boolean): void {
    this.flight = undefined;
    if (close || this.gone) {
      this.gone = true;
      this.pending = undefined;
      this.socket.end();
      return;
    }
    if (this.socket.isPaused()) this.socket.resume();
    if (this.pending) this.next();
  }

  private clientLeft(eof: boolean): void {
    // Like Node's server: a client that ends its side aborts what is in flight.
    const f = this.flight;
    this.gone = true;
    if (f) f.clientGone();
    else if (eof && !this.socket.destroyed) this.socket.end();
  }

  /** Node's http server takes the connection over, from the request in `pending` on. */
  handover(): void {
    const s = this.socket;
    s.pause();
    s.off('data', this.onData);
    s.off('end', this.onEnd);
    s.off('close', this.onClose);
    s.off('drain', this.onDrain);
    s.off('timeout', this.onTimeout);
    s.off('error', this.onError);
    s.setTimeout(0);
    const unread = this.pending;
    this.pending = undefined;
    this.gone = true;
    this.deps.handover(s, unread);
  }
}

/** What observers get from one upstream read, in order: the response head, then payload pieces. */
type Seen = Buffer | ResponseHeadEvent;
/** A protocol failure found while parsing: [code, message]. */
type Failure = [code: string, message: string];

/** One request/response on a WireConnection. */
class Flight implements UpstreamUser {
  readonly ex: Exchange;
  up: UpstreamConnection | undefined;
  /** Request body bytes still belong to this flight. */
  wantsBody: boolean;
  private requestLeft = 0;
  private readonly requestChunks: ChunkedDecoder | undefined;
  private readonly upstreamHead: string;
  private readonly closeAfter: boolean;
  private phases: ConnectPhases | undefined;
  /** Response head bytes so far (a head split across reads). */
  private headBytes: Buffer | undefined;
  private response: ResponseHead | undefined;
  private responseFraming: Framing | undefined;
  private responseLeft = 0;
  private responseChunks: ChunkedDecoder | undefined;
  private reusable = true;
  private keepAliveHint: number | undefined;
  private requestTrailers: [string, string][] | undefined;
  /** Bytes were written to the client for this exchange. */
  private answered = false;
  /** The whole response has been read and passed on. */
  private complete = false;
  /** `end` or `abort` was emitted: nothing more happens here. */
  private over = false;
  /** An idempotent request sent whole: its body, kept to resend once if a reused connection dies first. */
  private replay: { body: Buffer | undefined } | undefined;
  private reused = false;

  constructor(
    private readonly conn: WireConnection,
    head: RequestHead,
    private readonly rawHead: Buffer,
    framing: Framing,
    private readonly route: RequestRoute,
    private readonly key: string,
    noHost: boolean,
  ) {
    const socket = conn.socket;
    this.ex = newExchange({
      kind: 'http',
      mode: route.mode,
      client: { ip: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 },
      server: route.server,
      request: { method: head.method, url: route.url, httpVersion: '1.1', headers: headerPairs(head.raw) },
    });
    this.wantsBody = framing.kind !== 'none';
    if (framing.kind === 'length') this.requestLeft = framing.length;
    if (framing.kind === 'chunked') this.requestChunks = new ChunkedDecoder();
    this.closeAfter = connectionHas(head.raw, 'close');
    this.upstreamHead = requestHeadText(head, route, framing.kind === 'chunked', noHost);
    const up = conn.deps.pool.take(key);
    if (up) {
      this.attach(up);
      return;
    }
    // Nothing is read from the client until the upstream is there: if it refuses us, the
    // request is still whole and h1.ts can take it (h2-only origins, the 502 path).
    socket.pause();
    this.phases = {};
    conn.deps.pool.connect(route.target, key, this.phases).then(
      (c) => this.attach(c),
      (e: NodeJS.ErrnoException) => this.connectFailed(e),
    );
  }

  private get events(): EventEmitter<ExchangeEvents> {
    return this.conn.deps.events;
  }

  /** Where the upstream connection goes, and (when it is new) how long connect and TLS took. */
  private noteConnection(up: UpstreamConnection): void {
    const ex = this.ex;
    if (this.phases) {
      const now = performance.now();
      const tcpAt = this.phases.tcpAt ?? now;
      ex.timing.connectMs = round(tcpAt - ex.t0);
      if (this.route.target.tls) ex.timing.tlsMs = round(now - tcpAt);
    }
    ex.server.ip = up.socket.remoteAddress;
    if (this.route.target.tls) ex.server.alpn = (up.socket as tls.TLSSocket).alpnProtocol || undefined;
  }

  private attach(up: UpstreamConnection): void {
    const ex = this.ex;
    this.noteConnection(up);
    if (this.conn.gone) {
      // The client left while we connected: nothing went upstream, the connection stays good.
      this.conn.deps.pool.release(up);
      this.events.emit('start', ex);
      return this.abort({ phase: 'client-abort', code: 'ECONNRESET', message: 'client closed the connection before the response ended' });
    }
    this.up = up;
    up.user = this;
    this.reused = up.uses > 0;
    const s = up.socket;
    const first = this.wantsBody ? this.conn.pending : undefined;
    const body = first ? this.takeBody(first) : undefined;
    if (!this.wantsBody && IDEMPOTENT.has(ex.request.method)) this.replay = { body: body?.bytes };
    // The bytes go out first; observers (the recorder) after, so their work never delays them.
    if (body?.bytes.length) {
      s.cork();
      s.write(this.upstreamHead, 'latin1');
      s.write(body.bytes);
      s.uncork();
    } else s.write(this.upstreamHead, 'latin1');
    this.events.emit('start', ex);
    if (body === null) return this.protocolFailure('MALFORMED_CHUNKED_REQUEST', 'the client sent a malformed chunked request body', true);
    if (body) this.emitBody(body);
    else if (!this.wantsBody) this.events.emit('request-end', ex, since(ex));
    // Reading was paused while we connected; upstream backpressure may keep it paused.
    if (this.phases && (!this.wantsBody || !s.writableNeedDrain)) this.conn.socket.resume();
  }

  private connectFailed(err: NodeJS.ErrnoException): void {
    const conn = this.conn;
    if (!conn.gone && this.conn.deps.h2Upstream?.learn(err, this.route.target)) {
      // An h2-only origin: nothing went out, so the whole request goes to h1.ts, which sends it over h2.
      conn.flight = undefined;
      conn.pending = conn.pending ? Buffer.concat([this.rawHead, conn.pending]) : this.rawHead;
      conn.handover();
      return;
    }
    this.events.emit('start', this.ex);
    this.badGateway(upstreamFailure(err, this.phases?.tcpAt !== undefined));
  }

  /** Client bytes that belong to this request's body (and maybe a pipelined request after it). */
  requestData(d: Buffer): void {
    const up = this.up;
    if (this.over) return;
    if (!up) {
      this.conn.pending = this.conn.pending ? Buffer.concat([this.conn.pending, d]) : d;
      return;
    }
    const body = this.takeBody(d);
    if (!body) return this.protocolFailure('MALFORMED_CHUNKED_REQUEST', 'the client sent a malformed chunked request body', true);
    if (body.bytes.length && !up.socket.write(body.bytes)) this.conn.socket.pause();
    this.emitBody(body);
  }

  /**
   * The part of `d` that belongs to this request's body (the rest is a pipelined request, kept
   * in `pending`), with its payload pieces; null when the chunked framing is malformed.
   */
  private takeBody(d: Buffer): { bytes: Buffer; pieces?: Buffer[]; t: number } | null {
    this.conn.pending = undefined;
    const t = since(this.ex);
    let used: number;
    let pieces: Buffer[] | undefined;
    if (this.requestChunks) {
      const got: Buffer[] = (pieces = []);
      used = this.requestChunks.push(d, (p) => got.push(p));
      if (used < 0) return null;
      if (this.requestChunks.done) this.wantsBody = false;
    } else {
      used = Math.min(this.requestLeft, d.length);
      this.requestLeft -= used;
      if (this.requestLeft === 0) this.wantsBody = false;
    }
    if (used < d.length) this.conn.pending = d.subarray(used);
    return { bytes: used === d.length ? d : d.subarray(0, used), pieces, t };
  }

  private emitBody(body: { bytes: Buffer; pieces?: Buffer[]; t: number }): void {
    const ex = this.ex;
    if (body.pieces) for (const p of body.pieces) this.events.emit('request-chunk', ex, p, body.t);
    else if (body.bytes.length) this.events.emit('request-chunk', ex, body.bytes, body.t);
    if (!this.wantsBody) {
      const trailers = this.requestChunks?.trailers;
      if (trailers?.length) this.requestTrailers = headerPairs(trailers);
      this.events.emit('request-end', ex, since(ex));
    }
  }

  onUpstreamDrain(): void {
    if (this.wantsBody && this.conn.socket.isPaused()) this.conn.socket.resume();
  }

  clientDrain(): void {
    if (this.up?.socket.isPaused()) this.up.socket.resume();
  }

  onUpstreamData(d: Buffer): void {
    if (this.over) return;
    const t = since(this.ex);
    const out: (string | Buffer)[] = [];
    const seen: Seen[] = [];
    const failure = this.response ? this.responseBody(d, t, out, seen) : this.responseHead(d, t, out, seen);
    // The bytes go out in one write; observers (the recorder) after, so their work never delays them.
    const client = this.conn.socket;
    let ok = true;
    if (out.length === 1) ok = client.write(out[0]!, 'latin1');
    else if (out.length) {
      client.cork();
      for (const o of out) ok = client.write(o, 'latin1');
      client.uncork();
    }
    if (!ok && !this.complete) this.up?.socket.pause();
    const ex = this.ex;
    for (const e of seen) {
      if (Buffer.isBuffer(e)) this.events.emit('response-chunk', ex, e, t);
      else this.events.emit('response-head', ex, e, t);
    }
    if (failure) this.protocolFailure(failure[0], failure[1], false);
    else if (this.complete) this.afterResponse();
  }

  /** Parses the response head (and any body after it) from `d`; a failure is [code, message]. */
  private responseHead(d: Buffer, t: number, out: (string | Buffer)[], seen: Seen[]): Failure | undefined {
    let buf = this.headBytes ? Buffer.concat([this.headBytes, d]) : d;
    for (;;) {
      const head = parseResponseHead(buf);
      if (head === NEED_MORE) {
        this.headBytes = buf;
        return undefined;
      }
      if (!head || head.status === 101) {
        if (!this.route.target.tls) this.conn.deps.h2Upstream?.learn(Object.assign(new Error('not an HTTP/1.1 response'), { code: 'HPE_INVALID_CONSTANT', rawPacket: buf }), this.route.target);
        return ['HPE_INVALID_RESPONSE', 'upstream sent a malformed HTTP/1.1 response head'];
      }
      if (head.status < 200) {
        // 1xx (Early Hints…): passed on to the client as they come; the final head follows.
        this.answered = true;
        out.push(responseHeadText(head, { kind: 'none' }, false));
        buf = buf.subarray(head.size);
        if (!buf.length) {
          this.headBytes = undefined;
          return undefined;
        }
        continue;
      }
      this.headBytes = undefined;
      const framing = responseFraming(head.raw, head.status, this.ex.request.method);
      if (!framing) return ['HPE_INVALID_RESPONSE', 'upstream sent conflicting Content-Length values'];
      this.response = head;
      this.responseFraming = framing;
      if (framing.kind === 'length') this.responseLeft = framing.length;
      if (framing.kind === 'chunked') this.responseChunks = new ChunkedDecoder();
      if (head.version === '1.0' || connectionHas(head.raw, 'close') || framing.kind === 'close') this.reusable = false;
      else this.keepAliveHint = keepAliveTimeout(head.raw);
      if (!this.route.target.tls) this.conn.deps.knownH1.add(this.key);
      this.ex.timing.ttfbMs = t;
      seen.push({ status: head.status, statusText: head.reason, httpVersion: head.version, headers: headerPairs(head.raw) });
      this.answered = true;
      out.push(responseHeadText(head, framing, this.closeAfter || framing.kind === 'close'));
      if (framing.kind === 'none') {
        if (buf.length > head.size) this.reusable = false;
        this.complete = true;
        return undefined;
      }
      return buf.length > head.size ? this.responseBody(buf.subarray(head.size), t, out, seen) : undefined;
    }
  }

  private responseBody(d: Buffer, t: number, out: (string | Buffer)[], seen: Seen[]): Failure | undefined {
    const framing = this.responseFraming!;
    if (framing.kind === 'chunked') {
      const used = this.responseChunks!.push(d, (p) => seen.push(p));
      if (used < 0) return ['HPE_INVALID_CHUNK_SIZE', 'upstream sent a malformed chunked body'];
      if (used < d.length) this.reusable = false;
      out.push(used === d.length ? d : d.subarray(0, used));
      if (this.responseChunks!.done) this.complete = true;
    } else if (framing.kind === 'length') {
      const used = Math.min(this.responseLeft, d.length);
      if (used < d.length) this.reusable = false;
      const body = used === d.length ? d : d.subarray(0, used);
      out.push(body);
      seen.push(body);
      this.responseLeft -= used;
      if (this.responseLeft === 0) this.complete = true;
    } else if (framing.kind === 'close') {
      out.push(d);
      seen.push(d);
    } else this.reusable = false;
    return undefined;
  }

  /** The response is complete and written: record it, free the upstream, go on with the client. */
  private afterResponse(): void {
    this.over = true;
    const ex = this.ex;
    ex.timing.totalMs = since(ex);
    const up = this.up!;
    this.up = undefined;
    up.user = undefined;
    if (this.reusable && !this.wantsBody) this.conn.deps.pool.release(up, this.keepAliveHint);
    else up.socket.destroy();
    const trailers = this.responseChunks?.trailers;
    this.events.emit('end', ex, exchangeEnd(trailers?.length ? headerPairs(trailers) : undefined, this.requestTrailers));
    // An early answer (the request body still coming) ends the connection too.
    this.conn.flightDone(this.wantsBody || this.closeAfter || this.responseFraming?.kind === 'close');
  }

  onUpstreamClose(error: NodeJS.ErrnoException | undefined, eof: boolean): void {
    this.up = undefined;
    if (this.over) return;
    if (this.response && this.responseFraming?.kind === 'close' && eof) {
      this.over = true;
      this.ex.timing.totalMs = since(this.ex);
      this.events.emit('end', this.ex, {});
      this.conn.flightDone(true);
      return;
    }
    if (!this.response) {
      // A kept-alive connection the upstream closed as we reused it: an idempotent request sent
      // whole goes once more on a new connection (what HTTP clients do; RFC 9110 9.2.2).
      if (this.reused && this.replay && !this.headBytes && !this.conn.gone) return this.resend(this.replay.body);
      const err = error ?? Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
      return this.badGateway(upstreamFailure(err, true));
    }
    // Never a fake clean end: the client's connection is torn down like ours was.
    this.conn.gone = true;
    this.conn.socket.destroy();
    this.abort({ phase: 'upstream-reset', code: error?.code ?? 'ECONNRESET', message: error?.message ?? 'upstream closed the connection before the response ended' });
  }

  private resend(body: Buffer | undefined): void {
    this.replay = undefined;
    this.reused = false;
    const phases: ConnectPhases = (this.phases = {});
    this.conn.deps.pool.connect(this.route.target, this.key, phases).then(
      (up) => {
        if (this.conn.gone) {
          this.conn.deps.pool.release(up);
          return this.abort({ phase: 'client-abort', code: 'ECONNRESET', message: 'client closed the connection before the response ended' });
        }
        this.noteConnection(up);
        this.up = up;
        up.user = this;
        up.socket.cork();
        up.socket.write(this.upstreamHead, 'latin1');
        if (body?.length) up.socket.write(body);
        up.socket.uncork();
      },
      (e: NodeJS.ErrnoException) => this.badGateway(upstreamFailure(e, phases.tcpAt !== undefined)),
    );
  }

  /** The client went away (closed, or ended its side) before the response was complete. */
  clientGone(): void {
    if (this.over || !this.up) return; // not yet connected: attach() or connectFailed() reports it
    this.dropUpstream();
    if (!this.conn.socket.destroyed) this.conn.socket.destroy();
    this.abort({ phase: 'client-abort', code: 'ECONNRESET', message: 'client closed the connection before the response ended' });
  }

  /** A failure before any response byte: the client gets our 502, the connection closes. */
  private badGateway(error: RecordError): void {
    this.dropUpstream();
    this.abort(error);
    const client = this.conn.socket;
    if (!this.answered && client.writable) {
      const text = Buffer.from(badGatewayText(error, this.route.target));
      client.write(`HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${text.length}\r\nconnection: close\r\n\r\n`, 'latin1');
      client.write(text);
    }
    this.conn.flightDone(true);
  }

  /** Broken framing on either side: both connections go, the record says why. */
  private protocolFailure(code: string, message: string, fromClient: boolean): void {
    if (!this.answered && !fromClient) return this.badGateway({ phase: 'protocol', code, message });
    this.dropUpstream();
    this.conn.gone = true;
    this.conn.socket.destroy();
    this.abort({ phase: 'protocol', code, message });
  }

  /** The upstream connection is out of step with this exchange: closed, never pooled. */
  private dropUpstream(): void {
    const up = this.up;
    this.up = undefined;
    if (!up) return;
    up.user = undefined;
    up.socket.destroy();
  }

  private abort(error: RecordError): void {
    this.over = true;
    this.ex.timing.totalMs ??= since(this.ex);
    this.events.emit('abort', this.ex, error, exchangeEnd(undefined, this.requestTrailers));
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** The request head we send upstream: origin-form target, hop-by-hop headers dropped. */
function requestHeadText(head: RequestHead, route: RequestRoute, chunked: boolean, noHost: boolean): string {
  let s = `${head.method} ${route.path} HTTP/1.1\r\n`;
  if (noHost) s += `Host: ${route.hostHeader ?? authority(route.target.host, route.target.port, route.target.tls)}\r\n`;
  const h = endToEndHeaders(head.raw, route.hostHeader);
  for (let i = 0; i < h.length; i += 2) s += `${h[i]}: ${h[i + 1]}\r\n`;
  if (chunked) s += 'Transfer-Encoding: chunked\r\n';
  return `${s}\r\n`;
}

/** The response head the client gets: hop-by-hop headers dropped, framing kept as it came. */
function responseHeadText(head: ResponseHead, framing: Framing, close: boolean): string {
  let s = `HTTP/1.1 ${head.status} ${head.reason}\r\n`;
  const h = endToEndHeaders(head.raw);
  const chunked = framing.kind === 'chunked';
  for (let i = 0; i < h.length; i += 2) {
    // With chunked framing a Content-Length is wrong by definition (RFC 9112 6.3): it goes.
    if (chunked && h[i]!.length === 14 && h[i]!.toLowerCase() === 'content-length') continue;
    s += `${h[i]}: ${h[i + 1]}\r\n`;
  }
  if (chunked) s += 'Transfer-Encoding: chunked\r\n';
  if (close) s += 'Connection: close\r\n';
  return `${s}\r\n`;
}

/** `Keep-Alive: timeout=N` from the upstream, in seconds. */
function keepAliveTimeout(raw: readonly string[]): number | undefined {
  const v = headerValue(raw, 'keep-alive').value;
  const m = v ? /(?:^|,)\s*timeout=(\d+)/i.exec(v) : null;
  return m ? Number(m[1]) : undefined;
}
