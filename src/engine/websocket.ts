// WebSocket upgrades (plain and inside intercepted CONNECT tunnels). The upgrade request goes
// upstream with its headers as sent; after the 101 the bytes pass through untouched in both
// directions, and a copy of each direction is decoded (websocket-frames.ts) into messages with
// their arrival times for the record. A protocol violation stops the decoding of that
// direction and is recorded; the peers see exactly what they would see without us.
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type tls from 'node:tls';
import type { RecordError, WsClose, WsMessage } from '../capture/record.js';
import { negotiatedDeflate, WsStreamDecoder, type WsMessageOut, type WsProtocolError } from '../protocols/websocket-frames.js';
import { headerPairs, newExchange, since, type Exchange } from './exchange.js';
import type { ProxyServer } from './proxy.js';
import type { RequestRoute } from './request-route.js';
import { badGatewayText, serverName, upstreamFailure } from './upstream.js';

/** Hop-by-hop headers dropped on the way up; Connection and Upgrade stay (they are the point). */
const DROP = new Set(['proxy-connection', 'proxy-authorization', 'keep-alive', 'transfer-encoding']);

export interface WebSocketOptions {
  /** Bytes kept per message in the record. */
  keepBytes?: number;
  /** One line per protocol violation (the CLI prints it). */
  log?(line: string): void;
}

function wsUrl(url: string): string {
  return url.replace(/^http(s?):/, 'ws$1:');
}

function toRecordMessage(m: WsMessageOut): WsMessage {
  const out: WsMessage = { t: m.t, from: m.from, type: m.type, size: m.size };
  if (m.type === 'text') out.text = m.data.toString('utf8');
  else if (m.type === 'close') out.text = m.close?.reason ?? '';
  else if (m.data.length) out.base64 = m.data.toString('base64');
  if (m.wireSize !== undefined) out.wireSize = m.wireSize;
  return out;
}

/** Handle an HTTP/1.1 Upgrade: websocket. Returns false for other upgrade protocols. */
export function handleWebSocketUpgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer, route: RequestRoute, proxy: ProxyServer, opts: WebSocketOptions = {}): boolean {
  if (String(req.headers.upgrade ?? '').toLowerCase() !== 'websocket') return false;
  const target = route.target;
  const ex = newExchange({
    kind: 'websocket',
    mode: route.mode,
    client: { ip: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 },
    server: route.server,
    request: { method: req.method ?? 'GET', url: wsUrl(route.url), httpVersion: req.httpVersion, headers: headerPairs(req.rawHeaders) },
  });
  proxy.emit('start', ex);

  const raw: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const k = req.rawHeaders[i]!;
    if (DROP.has(k.toLowerCase())) continue;
    raw.push(k, route.hostHeader !== undefined && k.toLowerCase() === 'host' ? route.hostHeader : req.rawHeaders[i + 1]!);
  }
  let connected = false;
  let done = false;
  const finish = (error: RecordError | null, wsClose?: WsClose) => {
    if (done) return;
    done = true;
    ex.timing.totalMs = since(ex);
    const end = wsClose ? { wsClose } : {};
    if (error) proxy.emit('abort', ex, error, end);
    else proxy.emit('end', ex, end);
  };
  const upReq = (target.tls ? https : http).request({
    agent: proxy.connector.agentFor(target),
    host: target.host,
    port: target.port,
    method: req.method,
    path: route.path,
    headers: raw as unknown as http.OutgoingHttpHeaders,
    ...(target.tls ? { servername: serverName(target.host), ALPNProtocols: ['http/1.1'] } : {}),
  });
  upReq.on('socket', (s: net.Socket) => {
    const note = () => {
      connected = true;
      ex.server.ip = s.remoteAddress;
      if (target.tls) ex.server.alpn = (s as tls.TLSSocket).alpnProtocol || undefined;
    };
    if (!s.connecting) return note();
    s.once('connect', () => {
      ex.timing.connectMs = since(ex);
      connected = true;
    });
    s.once(target.tls ? 'secureConnect' : 'connect', note);
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    if (!done && !upgraded) {
      upReq.destroy();
      finish({ phase: 'client-abort', code: 'ECONNRESET', message: 'client closed the connection before the upgrade finished' });
    }
  });
  let upgraded = false;
  upReq.on('error', (err: NodeJS.ErrnoException) => {
    if (done || upgraded) return;
    const error = upstreamFailure(err, connected);
    finish(error);
    if (socket.writable) {
      const text = badGatewayText(error, target);
      socket.end(`HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(text)}\r\nconnection: close\r\n\r\n${text}`);
    }
  });
  // A refusal (401, 426…) is an ordinary response: pass it on and record it.
  upReq.on('response', (res: http.IncomingMessage) => {
    const t = since(ex);
    ex.timing.ttfbMs = t;
    proxy.emit('response-head', ex, { status: res.statusCode ?? 0, statusText: res.statusMessage, httpVersion: res.httpVersion, headers: headerPairs(res.rawHeaders) }, t);
    socket.write(responseHead(res.statusCode ?? 502, res.statusMessage ?? '', res.rawHeaders, true));
    res.on('data', (c: Buffer) => {
      proxy.emit('response-chunk', ex, c, since(ex));
      socket.write(c);
    });
    res.on('end', () => {
      socket.end();
      finish(null);
    });
    res.on('error', (e: NodeJS.ErrnoException) => {
      socket.destroy();
      finish({ phase: 'upstream-reset', code: e.code ?? 'ECONNRESET', message: e.message });
    });
  });
  upReq.on('upgrade', (res: http.IncomingMessage, up: net.Socket, upHead: Buffer) => {
    upgraded = true;
    const t = since(ex);
    ex.timing.ttfbMs = t;
    proxy.emit('response-head', ex, { status: res.statusCode ?? 101, statusText: res.statusMessage, httpVersion: res.httpVersion, headers: headerPairs(res.rawHeaders) }, t);
    if (socket.destroyed) {
      up.destroy();
      return finish({ phase: 'client-abort', code: 'ECONNRESET', message: 'client closed the connection during the upgrade' });
    }
    socket.write(responseHead(res.statusCode ?? 101, res.statusMessage ?? 'Switching Protocols', res.rawHeaders, false));
    relay(ex, socket, head, up, upHead, res, proxy, opts, finish);
  });
  upReq.end();
  return true;
}

function responseHead(status: number, text: string, raw: readonly string[], close: boolean): string {
  let s = `HTTP/1.1 ${status} ${text}\r\n`;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (close && ['connection', 'keep-alive', 'transfer-encoding'].includes(raw[i]!.toLowerCase())) continue;
    s += `${raw[i]}: ${raw[i + 1]}\r\n`;
  }
  if (close) s += 'connection: close\r\n';
  return s + '\r\n';
}

function relay(
  ex: Exchange,
  client: net.Socket,
  clientHead: Buffer,
  up: net.Socket,
  upHead: Buffer,
  res: http.IncomingMessage,
  proxy: ProxyServer,
  opts: WebSocketOptions,
  finish: (error: RecordError | null, wsClose?: WsClose) => void,
): void {
  const deflate = negotiatedDeflate(typeof res.headers['sec-websocket-extensions'] === 'string' ? res.headers['sec-websocket-extensions'] : undefined);
  let wsClose: WsClose | undefined;
  let violation: RecordError | undefined;
  const onMessage = (m: WsMessageOut) => {
    if (m.type === 'close' && !wsClose) wsClose = { code: m.close?.code ?? 1005, reason: m.close?.reason ?? '', by: m.from };
    proxy.emit('ws-message', ex, toRecordMessage(m));
  };
  const onError = (from: 'client' | 'server') => (e: WsProtocolError) => {
    if (violation) return;
    violation = { phase: 'protocol', code: e.code, message: `${from} sent an invalid WebSocket frame: ${e.message}` };
    opts.log?.(`agenttap: ${ex.request.url}: ${violation.message} (recorded; bytes still forwarded as sent)`);
  };
  const fromClient = new WsStreamDecoder({ from: 'client', deflate: deflate?.client, keepBytes: opts.keepBytes, onMessage, onError: onError('client') });
  const fromServer = new WsStreamDecoder({ from: 'server', deflate: deflate?.server, keepBytes: opts.keepBytes, onMessage, onError: onError('server') });

  client.setNoDelay(true);
  up.setNoDelay(true);
  up.on('error', () => {});
  let clientGone: 'end' | 'error' | undefined;
  let upGone: 'end' | 'error' | undefined;
  let firstGone: 'client' | 'server' | undefined;
  if (upHead.length) {
    fromServer.push(upHead, since(ex));
    client.write(upHead);
  }
  if (clientHead.length) {
    fromClient.push(clientHead, since(ex));
    up.write(clientHead);
  }
  client.on('data', (c: Buffer) => {
    fromClient.push(c, since(ex));
    if (!up.write(c)) client.pause();
  });
  up.on('data', (c: Buffer) => {
    fromServer.push(c, since(ex));
    if (!client.write(c)) up.pause();
  });
  up.on('drain', () => client.resume());
  client.on('drain', () => up.resume());
  client.on('end', () => {
    firstGone ??= 'client';
    clientGone ??= 'end';
    up.end();
  });
  up.on('end', () => {
    firstGone ??= 'server';
    upGone ??= 'end';
    client.end();
  });
  client.on('error', () => (clientGone ??= 'error'));
  up.on('error', () => (upGone ??= 'error'));
  let closedCount = 0;
  const onClose = (side: 'client' | 'server') => () => {
    firstGone ??= side;
    if (side === 'client') {
      clientGone ??= 'error';
      if (!up.destroyed) (clientGone === 'end' ? up.end() : up.destroy());
    } else {
      upGone ??= 'error';
      if (!client.destroyed) (upGone === 'end' ? client.end() : client.destroy());
    }
    if (++closedCount < 2) return;
    void Promise.all([fromClient.drain(), fromServer.drain()]).then(() => {
      fromClient.dispose();
      fromServer.dispose();
      if (violation) return finish(violation, wsClose);
      if (wsClose) return finish(null, wsClose);
      // No close handshake: an abnormal closure (1006) by whoever went first.
      const by = firstGone ?? 'server';
      finish(
        by === 'client'
          ? { phase: 'client-abort', code: 'WS_1006', message: 'client closed the connection without a WebSocket close frame' }
          : { phase: 'upstream-reset', code: 'WS_1006', message: 'server closed the connection without a WebSocket close frame' },
        { code: 1006, reason: '', by },
      );
    });
  };
  client.on('close', onClose('client'));
  up.on('close', onClose('server'));
}
