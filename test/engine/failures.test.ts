// Every failure gives the client what it would see without us and a record that says which
// phase failed; the proxy keeps serving everyone else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { ProxyAgent, request } from 'undici';
import { startTestProxy } from '../support/proxy-harness.js';
import { curl } from '../support/run-tool.js';
import { startTestUpstream } from '../support/test-upstream.js';

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('unreachable upstream: the CONNECT is accepted, the request gets a 502 and an upstream-connect record', async () => {
  const p = await startTestProxy();
  try {
    const port = await freePort();
    const r = await curl(['-x', p.url, '--cacert', p.caFile, '-w', '\n%{http_code}', `https://127.0.0.1:${port}/v1/messages`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /cannot connect to upstream https:\/\/127\.0\.0\.1:\d+.*ECONNREFUSED/);
    assert.match(r.stdout, /\n502$/);
    const [rec] = await p.waitForRecords(1);
    assert.equal(rec!.error!.phase, 'upstream-connect');
    assert.equal(rec!.error!.code, 'ECONNREFUSED');
    assert.equal(rec!.response, undefined);
  } finally {
    await p.close();
  }
});

test('upstream with a certificate nobody trusts: 502 and a tls record', async () => {
  const up = await startTestUpstream((_q, s) => s.end('secret'), { untrusted: true });
  const p = await startTestProxy();
  try {
    const r = await curl(['-x', p.url, '--cacert', p.caFile, '-w', '\n%{http_code}', `${up.url}/x`]);
    assert.match(r.stdout, /failed TLS verification/);
    assert.match(r.stdout, /\n502$/);
    assert.doesNotMatch(r.stdout, /secret/);
    const [rec] = await p.waitForRecords(1);
    assert.equal(rec!.error!.phase, 'tls');
  } finally {
    await p.close();
    await up.close();
  }
});

test('upstream reset mid-stream: the client connection is reset too and the record keeps the partial body', async () => {
  const up = await startTestUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: first\n\n');
    setTimeout(() => res.socket?.destroy(), 80);
  });
  const p = await startTestProxy();
  const agent = new ProxyAgent({ uri: p.url, requestTls: { ca: p.caPem } });
  try {
    const res = await request(`${up.url}/stream`, { dispatcher: agent });
    let got = '';
    await assert.rejects(async () => {
      for await (const c of res.body) got += c.toString();
    });
    assert.equal(got, 'data: first\n\n');
    const [rec] = await p.waitForRecords(1);
    assert.equal(rec!.error!.phase, 'upstream-reset');
    assert.equal(rec!.response!.status, 200);
    assert.equal(rec!.response!.body!.text, 'data: first\n\n');
    assert.equal(rec!.response!.chunks!.length, 1);
  } finally {
    await agent.close();
    await p.close();
    await up.close();
  }
});

test('client abort: the upstream request is cancelled and the record keeps what passed', async () => {
  let upstreamClosed!: () => void;
  const cancelled = new Promise<void>((r) => (upstreamClosed = r));
  const up = await startTestUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write('data: one\n\n');
    const t = setInterval(() => res.write('data: more\n\n'), 50);
    res.on('close', () => {
      clearInterval(t);
      upstreamClosed();
    });
  });
  const p = await startTestProxy();
  const agent = new ProxyAgent({ uri: p.url, requestTls: { ca: p.caPem } });
  try {
    const ac = new AbortController();
    const res = await request(`${up.url}/stream`, { dispatcher: agent, signal: ac.signal });
    const it = res.body[Symbol.asyncIterator]();
    const first = await it.next();
    assert.match(String(first.value), /data: one/);
    ac.abort();
    await assert.rejects(it.next());
    await agent.close();
    await Promise.race([cancelled, new Promise((_, rej) => setTimeout(() => rej(new Error('upstream was not cancelled')), 5000))]);
    const [rec] = await p.waitForRecords(1);
    assert.equal(rec!.error!.phase, 'client-abort');
    assert.match(rec!.response!.body!.text!, /^data: one\n\n/);
  } finally {
    await agent.close().catch(() => {});
    await p.close();
    await up.close();
  }
});

test('a malformed request gets a 400 and a protocol record; the proxy keeps serving', async () => {
  const up = await startTestUpstream((_q, s) => s.end('still here'));
  const p = await startTestProxy();
  try {
    const port = Number(new URL(p.url).port);
    const reply = await new Promise<string>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => s.write('GET /x HTTP/1.1\r\nHost: a\r\nBad Header Line\r\n\r\n'));
      let got = '';
      s.on('data', (d) => (got += d.toString()));
      s.on('close', () => resolve(got));
      s.on('error', reject);
    });
    assert.match(reply, /^HTTP\/1\.1 400 /);
    const [rec] = await p.waitForRecords(1);
    assert.equal(rec!.error!.phase, 'protocol');
    assert.match(rec!.error!.code!, /^HPE_/);
    const ok = await curl(['-x', p.url, '--cacert', p.caFile, `${up.url}/y`]);
    assert.equal(ok.stdout, 'still here');
  } finally {
    await p.close();
    await up.close();
  }
});
