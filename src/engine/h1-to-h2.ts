// HTTP/1.1 clients reaching origins that speak only HTTP/2: a Node http2 server without
// allowHTTP1, gRPC-style servers, an h2c-only plain upstream behind a --reverse listener. The h1
// forwarder offers ALPN http/1.1 upstream; when the origin refuses it (the TLS alert
// no_application_protocol, or h2 frames in answer to h1 bytes) the origin is remembered in the
// h2 session pool as h2-only and the request goes over the pooled h2 session instead, translated
// both ways: request line + Host → pseudo-headers, hop-by-hop headers dropped; the h2 response
// back as an h1 response streamed chunk by chunk, with trailers as chunked trailers.
import type { EventEmitter } from 'node:events';
import type http from 'node:http';
import http2 from 'node:http2';
import type { HeaderList, RecordError } from '../capture/record.js';
import { exchangeEnd, headerPairs, since, type Exchange, type ExchangeEvents } from './exchange.js';
import { regularPairs, resetStream, rstName, type H2UpstreamPool } from './h2.js';
import { authority, type RequestRoute } from './request-route.js';
import { badGatewayText, upstreamFailure, type UpstreamTarget } from './upstream.js';

const { constants: C } = http2;

/** What the h1 forwarder offers upstream by ALPN, so an h2-only origin says so with an alert. */
export const HTTP1_ALPN: readonly string[] = ['http/1.1'];

/**
 * Request headers that do not exist in HTTP/2 (RFC 9113 8.2.2). `host` becomes `:authority`;
 * `expect` was already answered by our own h1 server (the client got its 100 Continue).
 */
const NOT_IN_H2 = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'http2-settings', 'host', 'proxy-authorization', 'proxy-authenticate', 'expect']);

export type H2OnlySignal = 'alpn-refused' | 'h2-frames';

/** Why an h1 attempt's failure before any response means the origin speaks only HTTP/2. */
export function h2OnlySignal(err: NodeJS.ErrnoException & { rawPacket?: unknown }): H2OnlySignal | undefined {
  // OpenSSL reports the alert as EPROTO "tlsv1 alert no application protocol ... SSL alert number 120".
  if (err.code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL' || /alert no application protocol|alert number 120\b/i.test(err.message)) return 'alpn-refused';
  const raw = err.rawPacket;
  if (err.code?.startsWith('HPE_') && Buffer.isBuffer(raw) && isH2ConnectionFrame(raw)) return 'h2-frames';
  return undefined;
}

/** A SETTINGS or GOAWAY frame on stream 0: how an h2 server answers bytes that are not its preface. */
function isH2ConnectionFrame(b: Buffer): boolean {
  if (b.length < 9) return false;
  const type = b[3];
  return (type === 0x04 || type === 0x07) && (b.readUInt32BE(5) & 0x7fffffff) === 0;
}

function origin(target: UpstreamTarget): string {
  return `${target.tls ? 'https' : 'http'}://${authority(target.host, target.port, target.tls)}`;
}

/** The h1 attempt learned the origin is h2-only, but body bytes had already gone out: no retry. */
export function h2OnlyAfterBodySent(target: UpstreamTarget): RecordError {
  return {
    phase: 'protocol',
    code: 'H2_ONLY_UPSTREAM',
    message: `upstream speaks only HTTP/2 and refused HTTP/1.1 after part of the request body had been sent, so the request was not retried; later requests to ${origin(target)} go over HTTP/2`,
  };
}

/** What the h1 attempt had read from the client before handing the request over. */
export interface HeldRequest {
  /** Body chunks read (and already emitted as request-chunk) that never reached the wire. */
  chunks: Buffer[];
  /** The client's request had ended (request-end already emitted). */
  ended: boolean;
}

/** The h1 forwarder's way to h2-only origins; one per proxy, sharing the h2 session pool. */
export class H1ToH2Bridge {
  constructor(
    private readonly pool: H2UpstreamPool,
    private readonly log?: (line: string) => void,
  ) {}

  isH2Only(target: UpstreamTarget): boolean {
    return this.pool.isH2Only(target);
  }

  /** An h1 attempt failed before any response: true when that says the origin is h2-only (now remembered). */
  learn(err: NodeJS.ErrnoException & { rawPacket?: unknown }, target: UpstreamTarget): boolean {
    const why = h2OnlySignal(err);
    if (!why) return false;
    if (!this.pool.isH2Only(target)) {
      this.pool.markH2Only(target);
      const how = why === 'alpn-refused' ? 'refused ALPN http/1.1' : 'answered HTTP/1.1 with HTTP/2 frames';
      this.log?.(`agenttap: ${origin(target)} speaks only HTTP/2 (${how}); HTTP/1.1 clients reach it over ${target.tls ? 'h2' : 'h2c'} from now on`);
    }
    return true;
  }

  /** Forward an h1 request (already started as `ex`) over the origin's pooled h2 session. */
  forward(req: http.IncomingMessage, res: http.ServerResponse, route: RequestRoute, events: EventEmitter<ExchangeEvents>, ex: Exchange, held?: HeldRequest): void {
    new H1ToH2Exchange(req, res, route, events, ex, this.pool, held).run();
  }
}

/** h1 request head → h2 request headers. */
function h2RequestHeaders(raw: readonly string[], pseudo: http2.OutgoingHttpHeaders): http2.OutgoingHttpHeaders {
  let named: Set<string> | undefined;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (raw[i]!.toLowerCase() === 'connection') for (const t of raw[i + 1]!.split(',')) (named ??= new Set()).add(t.trim().toLowerCase());
  }
  const out = pseudo;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const k = raw[i]!.toLowerCase();
    let v = raw[i + 1]!;
    if (NOT_IN_H2.has(k) || named?.has(k)) continue;
    if (k === 'te') {
      // h2 allows TE with one value only: "trailers".
      if (!v.split(',').some((t) => t.trim().toLowerCase() === 'trailers')) continue;
      v = 'trailers';
    }
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else if (Array.isArray(prev)) prev.push(v);
    else out[k] = [String(prev), v];
  }
  return out;
}

type H2Session = Extract<Awaited<ReturnType<H2UpstreamPool['get']>>, { kind: 'h2' }>;

class H1ToH2Exchange {
  private done = false;
  private responded = false;
  private upstreamEnded = false;
  private upReq?: http2.ClientHttp2Stream;
  private upstreamTrailers?: HeaderList;
  private requestTrailers?: HeaderList;

  constructor(
    private readonly req: http.IncomingMessage,
    private readonly res: http.ServerResponse,
    private readonly route: RequestRoute,
    private readonly events: EventEmitter<ExchangeEvents>,
    private readonly ex: Exchange,
    private readonly pool: H2UpstreamPool,
    private readonly held?: HeldRequest,
  ) {}

  run(): void {
    const { req, res } = this;
    req.on('error', () => {});
    res.on('error', () => {});
    res.on('finish', () => {
      if (this.upstreamEnded) this.finish(null);
    });
    res.on('close', () => {
      if (this.done) return;
      if (this.upstreamEnded) return this.finish(null);
      // The client went away first: cancel the upstream stream, keep what passed.
      if (this.upReq) resetStream(this.upReq, C.NGHTTP2_CANCEL);
      this.finish({ phase: 'client-abort', code: 'ECONNRESET', message: 'client closed the connection before the response ended' });
    });
    this.pool.get(this.route.target, this.ex).then(
      (up) => {
        if (this.done || res.destroyed) return;
        if (up.kind === 'h2') return this.viaH2(up);
        // The origin answered a fresh connection without h2 after all (or cannot be reached raw).
        this.failBeforeResponse({ phase: 'protocol', code: 'H2_UNAVAILABLE', message: `upstream refused HTTP/1.1 earlier but did not offer HTTP/2 on a new connection` });
      },
      (err: NodeJS.ErrnoException) => this.failBeforeResponse(upstreamFailure(err, false)),
    );
  }

  private finish(error: RecordError | null): void {
    if (this.done) return;
    this.done = true;
    this.ex.timing.totalMs ??= since(this.ex);
    const end = exchangeEnd(this.upstreamTrailers, this.requestTrailers);
    if (error) this.events.emit('abort', this.ex, error, end);
    else this.events.emit('end', this.ex, end);
  }

  /** Nothing of the response went out yet: a 502 saying why, as for any unreachable upstream. */
  private failBeforeResponse(error: RecordError): void {
    if (this.done) return;
    this.finish(error);
    const { res } = this;
    if (res.destroyed) return;
    if (res.headersSent) return void res.destroy();
    res.writeHead(502, ['content-type', 'text/plain; charset=utf-8', 'connection', 'close'] as unknown as http.OutgoingHttpHeaders);
    res.end(badGatewayText(error, this.route.target));
  }

  private viaH2(up: H2Session): void {
    const { ex, req, res, route, events, held } = this;
    if (route.target.tls) ex.server.alpn = 'h2';
    ex.server.ip = up.ip ?? up.session.socket?.remoteAddress;
    if (up.fresh && up.connectMs !== undefined) ex.timing.connectMs = up.connectMs;
    const headers = h2RequestHeaders(req.rawHeaders, {
      ':method': ex.request.method,
      ':path': route.path,
      ':authority': route.hostHeader ?? req.headers.host ?? authority(route.target.host, route.target.port, route.target.tls),
      ':scheme': route.target.tls ? 'https' : 'http',
    });
    const chunked = req.headers['transfer-encoding'] !== undefined;
    const bodiless = req.headers['content-length'] === undefined && !chunked;
    const endStream = bodiless || (!!held && held.ended && held.chunks.length === 0 && !req.rawTrailers.length);
    let upReq: http2.ClientHttp2Stream;
    try {
      // Only a chunked h1 body can carry trailers; then the stream waits for them.
      upReq = up.session.request(headers, { endStream, waitForTrailers: !endStream && chunked });
    } catch (e) {
      return this.failBeforeResponse({ phase: 'upstream-connect', code: (e as NodeJS.ErrnoException).code ?? 'ERR_HTTP2', message: (e as Error).message });
    }
    this.upReq = upReq;
    upReq.on('error', () => {});
    upReq.on('wantTrailers', () => {
      const t = this.requestTrailers;
      try {
        upReq.sendTrailers(t?.length ? h2RequestHeaders(t.flat(), {}) : {});
      } catch {
        upReq.close();
      }
    });

    // Client → upstream: what the h1 attempt held back first, then the rest as it comes.
    const endRequest = (): void => {
      if (req.rawTrailers.length) this.requestTrailers = headerPairs(req.rawTrailers);
      if (!upReq.writableEnded && !upReq.destroyed) upReq.end();
    };
    if (held) for (const c of held.chunks) upReq.write(c);
    if (held?.ended) endRequest();
    else {
      req.on('data', (chunk: Buffer) => {
        events.emit('request-chunk', ex, chunk, since(ex));
        if (!upReq.write(chunk)) req.pause();
      });
      upReq.on('drain', () => req.resume());
      req.on('end', () => {
        events.emit('request-end', ex, since(ex));
        endRequest();
      });
      req.resume();
    }

    // Upstream → client.
    upReq.on('response', (h: http2.IncomingHttpHeaders & http2.IncomingHttpStatusHeader, _flags: number, raw: string[]) => {
      const t = since(ex);
      ex.timing.ttfbMs = t;
      const status = Number(h[':status'] ?? 502);
      const pairs = regularPairs(raw);
      events.emit('response-head', ex, { status, httpVersion: '2', headers: pairs }, t);
      if (res.destroyed) return;
      // Trailers reach an h1 client only in a chunked body: a response that announces them goes
      // chunked (an h2 content-length is advisory; the h2 frames carried the length).
      const announcesTrailers = req.httpVersion === '1.1' && pairs.some(([k]) => k.toLowerCase() === 'trailer');
      const flat: string[] = [];
      for (const [k, v] of pairs) if (!(announcesTrailers && k.toLowerCase() === 'content-length')) flat.push(k, v);
      try {
        res.writeHead(status, flat as unknown as http.OutgoingHttpHeaders);
      } catch (e) {
        this.finish({ phase: 'protocol', code: (e as NodeJS.ErrnoException).code ?? 'BAD_RESPONSE_HEADERS', message: (e as Error).message });
        resetStream(upReq, C.NGHTTP2_CANCEL);
        res.destroy();
        return;
      }
      this.responded = true;
      // Send the head now if no body byte follows at once (SSE waits for its first event).
      setImmediate(() => {
        if (!res.headersSent && !res.destroyed) res.flushHeaders();
      });
    });
    upReq.on('trailers', (_h: unknown, _f: unknown, raw: string[]) => (this.upstreamTrailers = regularPairs(raw)));
    upReq.on('data', (chunk: Buffer) => {
      events.emit('response-chunk', ex, chunk, since(ex));
      if (!this.responded || res.destroyed) return;
      if (!res.write(chunk)) upReq.pause();
    });
    res.on('drain', () => upReq.resume());
    upReq.on('end', () => {
      // A reset also ends the readable side; that is not a clean end ('close' handles it).
      if (upReq.rstCode || !this.responded) return;
      this.upstreamEnded = true;
      ex.timing.totalMs = since(ex);
      if (this.upstreamTrailers?.length) res.addTrailers(this.upstreamTrailers);
      res.end();
    });
    upReq.on('close', () => {
      if (this.done) return;
      // The session's own 'error' (why it died) comes after its streams close: look a tick later.
      if (!this.responded) return void setImmediate(() => this.upstreamClosed(upReq, up));
      this.upstreamClosed(upReq, up);
    });
  }

  private upstreamClosed(upReq: http2.ClientHttp2Stream, up: H2Session): void {
    if (this.done) return;
    const code = upReq.rstCode ?? C.NGHTTP2_NO_ERROR;
    if (this.upstreamEnded && code === C.NGHTTP2_NO_ERROR) return;
    const session = up.session as http2.ClientHttp2Session & { goawayed?: boolean; lastError?: NodeJS.ErrnoException };
    const goaway = session.goawayed || session.closed || session.destroyed;
    const how = goaway ? `GOAWAY/${rstName(code)}` : `RST_STREAM ${rstName(code)}`;
    const protocolCode = code === C.NGHTTP2_PROTOCOL_ERROR || code === C.NGHTTP2_COMPRESSION_ERROR || code === C.NGHTTP2_FRAME_SIZE_ERROR;
    if (!this.responded) {
      if (session.lastError) {
        const e = session.lastError;
        return this.failBeforeResponse({ phase: 'protocol', code: e.code ?? 'ERR_HTTP2_ERROR', message: `upstream did not speak HTTP/2 properly: ${e.message}` });
      }
      return this.failBeforeResponse({ phase: protocolCode ? 'protocol' : 'upstream-reset', code: how, message: `upstream reset the stream before responding (${how})` });
    }
    this.finish({ phase: protocolCode ? 'protocol' : 'upstream-reset', code: how, message: `upstream reset the stream mid-response (${how})` });
    // Never a fake clean end: the client's connection is torn down like our stream was.
    this.res.destroy();
  }
}
