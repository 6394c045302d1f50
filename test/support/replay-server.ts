// A loopback HTTP server that answers every request with fixed bytes and remembers what the client
// sent, so an official SDK can be run against recorded provider output and the exchange turned
// into a capture record built from exactly the bytes that crossed the wire.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CaptureRecord, HeaderList } from '../../src/capture/record.js';

export interface Reply {
  status?: number;
  headers: Record<string, string>;
  body: string | Buffer;
}

export interface Seen {
  method: string;
  url: string;
  headers: HeaderList;
  body: string;
  reply: Reply;
}

export interface ReplayServer {
  url: string;
  seen: Seen[];
  close(): Promise<void>;
  /** The last exchange as a capture record (request as the SDK sent it, response as replayed). */
  record(index?: number): CaptureRecord;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

let n = 0;

export async function startReplayServer(answer: (method: string, url: string, body: string) => Reply): Promise<ReplayServer> {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const reply = answer(req.method ?? 'GET', req.url ?? '/', body);
      const headers: HeaderList = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
      seen.push({ method: req.method ?? 'GET', url: req.url ?? '/', headers, body, reply });
      res.writeHead(reply.status ?? 200, reply.headers);
      res.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const base = `http://127.0.0.1:${port}`;
  return {
    url: base,
    seen,
    close: () => new Promise((resolve) => server.close(() => resolve())),
    record(index = seen.length - 1): CaptureRecord {
      const s = seen[index];
      if (!s) throw new Error('no request reached the replay server');
      n++;
      const respBody = Buffer.isBuffer(s.reply.body) ? s.reply.body : Buffer.from(s.reply.body, 'utf8');
      const isText = !Buffer.isBuffer(s.reply.body);
      return {
        v: 1,
        id: `0193f1c2-1111-7000-8000-${String(n).padStart(12, '0')}`,
        kind: 'http',
        mode: 'reverse',
        startedAt: new Date().toISOString(),
        server: { host: '127.0.0.1', port, tls: false },
        request: { method: s.method, url: base + s.url, httpVersion: '1.1', headers: s.headers, body: { text: s.body, size: Buffer.byteLength(s.body) } },
        response: {
          status: s.reply.status ?? 200,
          httpVersion: '1.1',
          headers: Object.entries(s.reply.headers),
          body: isText ? { text: s.reply.body as string, size: respBody.length } : { base64: respBody.toString('base64'), size: respBody.length },
        },
        error: null,
      };
    },
  };
}
