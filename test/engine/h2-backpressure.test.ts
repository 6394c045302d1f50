// Backpressure through the h2 front, both ways and to both kinds of upstream: an h2 client that
// stops reading stops the upstream's writes, and an upstream that stops reading stops the h2
// client's upload; the proxy holds no more than the flow-control windows, and every byte arrives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import type http2 from 'node:http2';
import { h2ThroughProxy, startH2Upstream, startProtocolProxy } from '../support/protocol-proxy.js';
import { startTestUpstream } from '../support/test-upstream.js';

const PIECE = Buffer.alloc(64 * 1024, 'z');
const TOTAL = 48 * 1024 * 1024;
/** Windows on the way (4 MB per stream on each leg) plus socket buffers; far below TOTAL. */
const BOUND = 16 * 1024 * 1024;

/** Writes TOTAL bytes to `w` honouring its backpressure; `count` sees each piece. */
function pump(w: { write(b: Buffer): boolean; once(e: 'drain', f: () => void): unknown; end(): unknown }, count: (n: number) => void): void {
  let sent = 0;
  const go = () => {
    while (sent < TOTAL) {
      sent += PIECE.length;
      count(PIECE.length);
      if (!w.write(PIECE)) {
        w.once('drain', go);
        return;
      }
    }
    w.end();
  };
  go();
}

const upstreams: Record<string, (onRequest: (body: AsyncIterable<Buffer>, respond: (w: (res: ResponseSink) => void) => void) => void) => Promise<{ url: string; close(): Promise<void> }>> = {
  h2: (onRequest) =>
    startH2Upstream((stream: http2.ServerHttp2Stream) => {
      onRequest(stream, (w) => {
        stream.respond({ ':status': 200, 'content-type': 'application/octet-stream' });
        w(stream);
      });
    }),
  'HTTP/1.1': (onRequest) =>
    startTestUpstream((req: http.IncomingMessage, res: http.ServerResponse) => {
      onRequest(req, (w) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        w(res);
      });
    }),
};

type ResponseSink = { write(b: Buffer): boolean; once(e: 'drain', f: () => void): unknown; end(): unknown };

for (const [kind, start] of Object.entries(upstreams)) {
  test(`h2 client that stops reading stops an ${kind} upstream; the whole body arrives once it reads`, async () => {
    let written = 0;
    const up = await start((_body, respond) => respond((res) => pump(res, (n) => (written += n))));
    const p = await startProtocolProxy({ capture: { maxBody: 1024 } });
    const target = new URL(up.url);
    const s = await h2ThroughProxy(p.port, '127.0.0.1', Number(target.port), p.caPem);
    try {
      const req = s.request({ ':path': '/big' });
      req.pause();
      await new Promise((r) => req.once('response', r));
      await new Promise((r) => setTimeout(r, 700));
      const stalledAt = written;
      assert.ok(stalledAt < BOUND, `upstream wrote ${stalledAt} bytes while the client read nothing`);
      let got = 0;
      req.on('data', (c: Buffer) => (got += c.length));
      const ended = new Promise((r) => req.once('end', r));
      req.resume();
      await ended;
      assert.equal(got, TOTAL);
      const [rec] = await p.waitFor(1);
      assert.equal(rec!.response!.body!.size, TOTAL);
      assert.equal(rec!.response!.body!.truncated, true);
      assert.equal(rec!.error, null);
    } finally {
      s.close();
      await p.close();
      await up.close();
    }
  });

  test(`an ${kind} upstream that stops reading stops the h2 client's upload; every byte arrives`, async () => {
    let reading!: () => void;
    const upstreamReads = new Promise<void>((r) => (reading = r));
    const up = await start((body, respond) => {
      void upstreamReads.then(async () => {
        let n = 0;
        for await (const c of body) n += c.length;
        respond((res) => {
          res.write(Buffer.from(String(n)));
          res.end();
        });
      });
    });
    const p = await startProtocolProxy({ capture: { maxBody: 1024 } });
    const target = new URL(up.url);
    const s = await h2ThroughProxy(p.port, '127.0.0.1', Number(target.port), p.caPem);
    try {
      let sent = 0;
      let stalled = false;
      const req = s.request({ ':method': 'POST', ':path': '/upload', 'content-type': 'application/octet-stream' });
      const answer = new Promise<string>((resolve, reject) => {
        let text = '';
        req.setEncoding('utf8');
        req.on('data', (d: string) => (text += d));
        req.on('end', () => resolve(text));
        req.on('error', reject);
      });
      pump(
        {
          write: (b) => {
            const ok = req.write(b);
            if (!ok) stalled = true;
            return ok;
          },
          once: (e, f) => req.once(e, f),
          end: () => req.end(),
        },
        (n) => (sent += n),
      );
      await new Promise((r) => setTimeout(r, 700));
      assert.ok(stalled, 'the client was told to wait');
      assert.ok(sent < BOUND, `client pushed ${sent} bytes into a proxy whose upstream reads nothing`);
      reading();
      assert.equal(await answer, String(TOTAL));
      const [rec] = await p.waitFor(1);
      assert.equal(rec!.request!.body!.size, TOTAL);
      assert.equal(rec!.error, null);
    } finally {
      s.close();
      await p.close();
      await up.close();
    }
  });
}
