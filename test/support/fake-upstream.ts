// A loopback HTTP server with the fake LLM modules of the run/targets area (Responses API incl.
// WebSocket, Gemini), for run tests that must not depend on which other modules the fake has.
import http from 'node:http';
import type net from 'node:net';
import { createResponsesWebSocket, isResponsesPath, serveResponsesHttp } from '../../src/fake-llm/openai-responses.js';
import { serveGemini } from '../../src/fake-llm/gemini.js';

export interface FakeUpstream {
  url: string;
  port: number;
  requests: { method: string; path: string }[];
  close(): Promise<void>;
}

export async function startFakeUpstream(): Promise<FakeUpstream> {
  const ws = createResponsesWebSocket();
  const requests: FakeUpstream['requests'] = [];
  const sockets = new Set<net.Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', path: req.url ?? '' });
      let body: unknown = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString() || '{}');
      } catch {
        body = {};
      }
      const path = req.url ?? '/';
      if (req.method === 'POST' && isResponsesPath(path)) return serveResponsesHttp(body, res);
      if (req.method === 'POST' && serveGemini(path, body, res)) return;
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"no such route in the fake upstream"}}');
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('upgrade', (req, socket, head) => {
    requests.push({ method: 'UPGRADE', path: req.url ?? '' });
    if (!ws.handleUpgrade(req, socket, head)) socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((r) => {
        ws.close();
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
