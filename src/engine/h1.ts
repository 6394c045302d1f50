// HTTP/1.1 forwarding of one request: client leg (node:http server) → upstream leg (pooled
// http/https agent). Bytes stream both ways as they arrive, with backpressure; observers get
// each chunk by reference through the exchange events, never the forwarding path's buffers.
import type { EventEmitter } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import type tls from 'node:tls';
import type { RecordError } from '../capture/record.js';
import { headerPairs, newExchange, since, type Exchange, type ExchangeEvents } from './exchange.js';
import { originKey } from './h1-pool.js';
import { h2OnlyAfterBodySent, HTTP1_ALPN, type H1ToH2Bridge } from './h1-to-h2.js';
import { endToEndHeaders } from './hop-by-hop.js';
import type { RequestRoute } from './request-route.js';
import { badGatewayText, serverName, upstreamFailure, type UpstreamConnector } from './upstream.js';

export interface ForwardDeps {
  events: EventEmitter<ExchangeEvents>;
  connector: UpstreamConnector;
  /** Origins that speak only HTTP/2 get h1 requests over h2 (h1-to-h2.ts). */
  h2Upstream?: H1ToH2Bridge;
  /** Plain origins seen answering in HTTP/1.1 (h1-wire.ts reaches only those): learned here too. */
  knownH1?: Set<string>;
}

export function forwardHttp1(req: http.IncomingMessage, res: http.ServerResponse, route: RequestRoute, deps: ForwardDeps): Exchange {
  const { events } = deps;
  const ex = newExchange({
    kind: 'http',
    mode: route.mode,
    client: { ip: req.socket.remoteAddress ?? '', port: req.socket.remotePort ?? 0 },
    server: route.server,
    request: { method: req.method ?? 'GET', url: route.url, httpVersion: req.httpVersion, headers: headerPairs(req.rawHeaders) },
  });
  events.emit('start', ex);

  const target = route.target;
  const h2 = deps.h2Upstream;
  if (h2?.isH2Only(target)) {
    h2.forward(req, res, route, events, ex);
    return ex;
  }
  let connected = false;
  let reqEnded = false;
  // Body chunks read while the upstream connection is still being set up (none on the wire
  // yet): if the origin then refuses HTTP/1.1, the request is retried over h2 with them.
  let held: Buffer[] | undefined = h2 ? [] : undefined;
  let onWire = false;
  const wired = (): void => {
    if (held?.length) held = undefined;
    else onWire = true;
  };
  let upstreamComplete = false;
  let done = false;
  let upRes: http.IncomingMessage | undefined;

  const finish = (error: RecordError | null): void => {
    if (done) return;
    done = true;
    ex.timing.totalMs ??= since(ex);
    const trailers = upRes && upRes.rawTrailers.length ? headerPairs(upRes.rawTrailers) : undefined;
    const end = trailers ? { trailers } : {};
    if (error) events.emit('abort', ex, error, end);
    else events.emit('end', ex, end);
  };

  const upReq = (target.tls ? https : http).request({
    agent: deps.connector.agentFor(target),
    host: target.host,
    port: target.port,
    method: req.method,
    path: route.path,
    headers: endToEndHeaders(req.rawHeaders, route.hostHeader) as unknown as http.OutgoingHttpHeaders,
    ...(target.tls ? { servername: serverName(target.host), ALPNProtocols: HTTP1_ALPN as string[] } : {}),
  });

  upReq.on('socket', (s) => {
    if (!s.connecting) {
      // A TLS socket over a chained proxy's tunnel is connected but may still be handshaking.
      if (target.tls && (s as tls.TLSSocket & { secureConnecting?: boolean }).secureConnecting) {
        s.once('secureConnect', () => {
          wired();
          ex.server.alpn = (s as tls.TLSSocket).alpnProtocol || undefined;
        });
      } else held = undefined;
      connected = true;
      ex.server.ip = s.remoteAddress;
      if (target.tls) ex.server.alpn = (s as tls.TLSSocket).alpnProtocol || undefined;
      return;
    }
    s.setNoDelay(true);
    s.once('connect', () => {
      connected = true;
      ex.timing.connectMs = since(ex);
      ex.server.ip = s.remoteAddress;
      if (!target.tls) wired();
    });
    if (target.tls) {
      s.once('secureConnect', () => {
        wired();
        ex.timing.tlsMs = Math.round((since(ex) - (ex.timing.connectMs ?? 0)) * 1000) / 1000;
        ex.server.alpn = (s as tls.TLSSocket).alpnProtocol || undefined;
      });
    }
  });

  // Client → upstream.
  const onData = (chunk: Buffer): void => {
    const t = since(ex);
    if (held) {
      if (onWire) held = undefined;
      else held.push(chunk);
    }
    if (!upReq.write(chunk)) req.pause();
    events.emit('request-chunk', ex, chunk, t);
  };
  req.on('data', onData);
  upReq.on('drain', () => req.resume());
  // A request without a body (most GETs) goes upstream now, not a tick later at 'end'.
  const bodiless = req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined;
  if (bodiless) upReq.end();
  const onEnd = (): void => {
    reqEnded = true;
    events.emit('request-end', ex, since(ex));
    if (bodiless) return;
    if (req.rawTrailers.length) upReq.addTrailers(headerPairs(req.rawTrailers));
    upReq.end();
  };
  req.on('end', onEnd);
  req.on('error', () => {});

  upReq.on('error', (err: NodeJS.ErrnoException) => {
    if (done) return;
    if (!upRes) {
      let error = upstreamFailure(err, connected);
      if (h2?.learn(err, target)) {
        if (held) {
          // Nothing reached the origin: this attempt stands down and h2 takes the request over.
          done = true;
          req.pause();
          req.off('data', onData);
          req.off('end', onEnd);
          h2.forward(req, res, route, events, ex, { chunks: held, ended: reqEnded });
          return;
        }
        error = h2OnlyAfterBodySent(target);
      }
      finish(error);
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(502, [ 'content-type', 'text/plain; charset=utf-8', 'connection', 'close' ] as unknown as http.OutgoingHttpHeaders);
        res.end(badGatewayText(error, target));
      } else res.destroy();
    } else upstreamReset(err);
  });

  const upstreamReset = (err?: NodeJS.ErrnoException): void => {
    if (done || upstreamComplete) return;
    finish({ phase: 'upstream-reset', code: err?.code ?? 'ECONNRESET', message: err?.message ?? 'upstream closed the connection before the response ended' });
    // Never a fake clean end: the client's connection is torn down like ours was.
    res.destroy();
  };

  // Upstream → client.
  upReq.on('response', (r) => {
    upRes = r;
    if (!target.tls) deps.knownH1?.add(originKey(target));
    const t = since(ex);
    ex.timing.ttfbMs = t;
    events.emit('response-head', ex, { status: r.statusCode ?? 0, statusText: r.statusMessage, httpVersion: r.httpVersion, headers: headerPairs(r.rawHeaders) }, t);
    if (res.destroyed) return;
    try {
      res.writeHead(r.statusCode ?? 502, r.statusMessage, endToEndHeaders(r.rawHeaders) as unknown as http.OutgoingHttpHeaders);
    } catch (e) {
      finish({ phase: 'protocol', code: (e as NodeJS.ErrnoException).code ?? 'BAD_RESPONSE_HEADERS', message: (e as Error).message });
      upReq.destroy();
      res.destroy();
      return;
    }
    // Send the head now if no body byte follows at once (SSE waits for its first event).
    setImmediate(() => {
      if (!res.headersSent && !res.destroyed) res.flushHeaders();
    });
    let corked = false;
    r.on('data', (chunk: Buffer) => {
      const t = since(ex);
      // Cork for the rest of this tick: a response whose head, body and end arrive together
      // leaves in one write instead of three; a stream's chunk waits one tick at most.
      if (!corked) {
        corked = true;
        res.cork();
        process.nextTick(() => {
          corked = false;
          res.uncork();
        });
      }
      if (!res.write(chunk)) r.pause();
      // Observers (the recorder) after the bytes are on their way: their work never delays them.
      events.emit('response-chunk', ex, chunk, t);
    });
    r.on('end', () => {
      upstreamComplete = true;
      ex.timing.totalMs = since(ex);
      if (r.rawTrailers.length) res.addTrailers(headerPairs(r.rawTrailers));
      res.end();
    });
    r.on('aborted', () => upstreamReset());
    r.on('error', (err: NodeJS.ErrnoException) => upstreamReset(err));
    r.on('close', () => {
      if (!r.complete) upstreamReset();
    });
  });
  res.on('drain', () => upRes?.resume());
  res.on('finish', () => finish(null));
  res.on('close', () => {
    if (done) return;
    if (upstreamComplete) return finish(null);
    // The client went away first: cancel the upstream request, keep what passed.
    upReq.destroy();
    finish({ phase: 'client-abort', code: 'ECONNRESET', message: 'client closed the connection before the response ended' });
  });
  res.on('error', () => {});
  return ex;
}
