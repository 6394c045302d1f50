// Backpressure both ways: a client that stops reading stops the upstream's writes, and an
// upstream that stops reading stops the client's upload; nothing piles up in the proxy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { ProxyAgent, request } from 'undici';
import { startTestProxy } from '../support/proxy-harness.js';
import { startTestUpstream } from '../support/test-upstream.js';

const PIECE = Buffer.alloc(64 * 1024, 'z');
const TOTAL = 64 * 1024 * 1024;

test('a client that stops reading stops the upstream: the proxy does not buffer the response', async () => {
  let written = 0;
  let stalledAt = -1;
  const up = await startTestUpstream((_req, res) => {
    res.writeHead(200, { 'content-length': TOTAL });
    const pump = () => {
      while (written < TOTAL) {
        written += PIECE.length;
        if (!res.write(PIECE)) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
  });
  const p = await startTestProxy({ maxBody: 1024 });
  const agent = new ProxyAgent({ uri: p.url, requestTls: { ca: p.caPem } });
  try {
    const res = await request(`${up.url}/big`, { dispatcher: agent, highWaterMark: 64 * 1024 });
    // Don't read for a while: whatever the upstream managed to write now sits in socket
    // buffers (kernel and TLS), not in an unbounded queue in the proxy.
    await new Promise((r) => setTimeout(r, 700));
    stalledAt = written;
    assert.ok(stalledAt < 16 * 1024 * 1024, `upstream wrote ${stalledAt} bytes while the client read nothing`);
    let got = 0;
    for await (const c of res.body) got += (c as Buffer).length;
    assert.equal(got, TOTAL);
    const [rec] = await p.waitForRecords(1);
    assert.equal(rec!.response!.body!.size, TOTAL);
    assert.equal(rec!.response!.body!.truncated, true);
  } finally {
    await agent.close();
    await p.close();
    await up.close();
  }
});

test('an upstream that stops reading stops the client upload', async () => {
  let reading!: () => void;
  const upstreamReads = new Promise<void>((r) => (reading = r));
  const up = await startTestUpstream((req, res) => {
    req.pause();
    void upstreamReads.then(() => {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => res.end(String(n)));
      req.resume();
    });
  }, { tls: false });
  const p = await startTestProxy();
  try {
    const target = new URL(up.url);
    let sent = 0;
    let stalled = false;
    const done = new Promise<string>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: Number(new URL(p.url).port), method: 'POST', path: `${up.url}/upload`, headers: { host: target.host, 'content-length': TOTAL } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      const pump = () => {
        while (sent < TOTAL) {
          sent += PIECE.length;
          if (!req.write(PIECE)) {
            stalled = true;
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      };
      pump();
    });
    await new Promise((r) => setTimeout(r, 700));
    assert.ok(stalled, 'the client was told to wait');
    assert.ok(sent < 16 * 1024 * 1024, `client pushed ${sent} bytes into a proxy whose upstream reads nothing`);
    reading();
    assert.equal(await done, String(TOTAL));
  } finally {
    await p.close();
    await up.close();
  }
});
