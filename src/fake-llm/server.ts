// The built-in fake LLM upstream (product code: `agenttap demo` and tests use it). A route table:
// each API module is a FakeRoute; other modules plug in by adding theirs to `routes`.
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import { anthropicRoute } from './anthropic.js';
import { openaiChatRoute } from './openai-chat.js';
import { serveGemini } from './gemini.js';
import { createResponsesWebSocket, isResponsesPath, serveResponsesHttp } from './openai-responses.js';

export interface FakeRequest {
  method: string;
  /** Path with query. */
  path: string;
  headers: http.IncomingHttpHeaders;
  /** Parsed JSON body (undefined when empty or not JSON). */
  body: unknown;
  raw: Buffer;
}

export interface FakeRoute {
  name: string;
  /** Serve the request and return true, or return false to let the next route try. */
  http?(req: FakeRequest, res: http.ServerResponse): boolean;
  /** Take an HTTP Upgrade (WebSocket) and return true, or return false. */
  upgrade?(req: http.IncomingMessage, socket: Duplex, head: Buffer): boolean;
  close?(): void;
}

/** Write SSE events one per tick so clients (and the proxy) see a real stream, not one blob. */
export function sendSse(res: http.ServerResponse, events: string[], gapMs = 2): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
  let i = 0;
  const tick = (): void => {
    if (res.destroyed) return;
    if (i < events.length) {
      res.write(events[i++]);
      setTimeout(tick, gapMs);
    } else res.end();
  };
  tick();
}

/** The API modules the fake upstream serves by default. */
export function defaultRoutes(): FakeRoute[] {
  const ws = createResponsesWebSocket();
  return [
    anthropicRoute,
    openaiChatRoute,
    {
      name: 'openai.responses',
      http: (req, res) => {
        if (req.method !== 'POST' || !isResponsesPath(req.path)) return false;
        serveResponsesHttp(req.body, res);
        return true;
      },
      upgrade: (req, socket, head) => ws.handleUpgrade(req, socket, head),
      close: () => ws.close(),
    },
    { name: 'gemini', http: (req, res) => req.method === 'POST' && serveGemini(req.path, req.body, res) },
  ];
}

export interface FakeLlmOptions {
  /** Serve HTTPS with this certificate (else plain HTTP). */
  tls?: { cert: string; key: string };
  port?: number;
  host?: string;
  routes?: FakeRoute[];
}

export interface FakeLlm {
  url: string;
  port: number;
  /** Every request served, in order (method, path, route name). */
  requests: { method: string; path: string; route?: string }[];
  close(): Promise<void>;
}

export async function startFakeLlm(opts: FakeLlmOptions = {}): Promise<FakeLlm> {
  const routes = opts.routes ?? defaultRoutes();
  const requests: FakeLlm['requests'] = [];
  const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      let body: unknown;
      try {
        body = raw.length ? JSON.parse(raw.toString('utf8')) : undefined;
      } catch {
        body = undefined;
      }
      const fr: FakeRequest = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, body, raw };
      for (const r of routes) {
        try {
          if (r.http?.(fr, res)) {
            requests.push({ method: fr.method, path: fr.path, route: r.name });
            return;
          }
        } catch (e) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: { message: `fake upstream failed: ${(e as Error).message}` } }));
          return;
        }
      }
      requests.push({ method: fr.method, path: fr.path });
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { type: 'not_found_error', message: `no fake route for ${fr.method} ${fr.path}` } }));
    });
  };
  const server = opts.tls ? https.createServer({ cert: opts.tls.cert, key: opts.tls.key }, handler) : http.createServer(handler);
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    for (const r of routes) if (r.upgrade?.(req, socket, head)) return;
    socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\n\r\n');
  });
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `${opts.tls ? 'https' : 'http'}://${host}:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const r of routes) r.close?.();
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
