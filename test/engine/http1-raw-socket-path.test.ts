// The raw-socket HTTP/1.1 path (h1-wire.ts) that decrypted tunnels and reverse listeners use:
// pipelining, chunked framing both ways with trailers, upstream connection reuse, the requests it
// leaves to Node's http server (Expect, HTTP/1.0, malformed heads) on the same connection, and
// record-for-record agreement with the Node path for a mix of everyday requests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import zlib from 'node:zlib';
import type { CaptureRecord } from '../../src/capture/record.js';
import { startTestProxy, type TestProxy } from '../support/proxy-harness.js';
import { curl } from '../support/run-tool.js';
import { startTestUpstream, upstreamTestCa, type Handler } from '../support/test-upstream.js';

/** A decrypted connection through the forward proxy: CONNECT, then TLS trusting the proxy's CA. */
async function tunnel(p: TestProxy, port: number): Promise<tls.TLSSocket> {
  const raw = net.connect(Number(new URL(p.url).port), '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    raw.once('error', reject);
    raw.once('connect', () => raw.write(`CONNECT 127.0.0.1:${port} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`));
    raw.once('data', (d: Buffer) => (/^HTTP\/1\.1 200 /.test(d.toString('latin1')) ? resolve() : reject(new Error(d.toString()))));
  });
  return new Promise((resolve, reject) => {
    const s = tls.connect({ socket: raw, host: '127.0.0.1', ca: [p.caPem], ALPNProtocols: ['http/1.1'] }, () => resolve(s));
    s.once('error', reject);
  });
}

/** Reads from `s` until `done(text)` says the bytes so far are complete. */
function readUntil(s: net.Socket, done: (text: string) => boolean, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const t = setTimeout(() => reject(new Error(`timed out; got ${JSON.stringify(got)}`)), timeoutMs);
    const onData = (d: Buffer): void => {
      got += d.toString('latin1');
      if (done(got)) {
        clearTimeout(t);
        s.off('data', onData);
        resolve(got);
      }
    };
    s.on('data', onData);
    s.once('close', () => {
      clearTimeout(t);
      resolve(got);
    });
  });
}

const count = (text: string, needle: string): number => text.split(needle).length - 1;

/** A TLS upstream (trusted through the test CA) whose bytes the test writes itself. */
async function rawTlsUpstream(onSocket: (s: tls.TLSSocket) => void): Promise<{ url: string; close(): Promise<void> }> {
  const { ca } = await upstreamTestCa();
  const leaf = await ca.leafFor('127.0.0.1');
  const server = tls.createServer({ cert: leaf.certPem, key: leaf.keyPem }, (s) => {
    s.on('error', () => {});
    onSocket(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `https://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

test('pipelined requests on one decrypted connection are answered in order and recorded one by one', async () => {
  const up = await startTestUpstream((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => res.end(`${req.method} ${req.url} ${body}`));
  });
  const p = await startTestProxy();
  try {
    const s = await tunnel(p, up.port);
    const host = `Host: 127.0.0.1:${up.port}\r\n`;
    s.write(`GET /one HTTP/1.1\r\n${host}\r\nPOST /two HTTP/1.1\r\n${host}Content-Length: 5\r\n\r\nhelloGET /three?x=1 HTTP/1.1\r\n${host}\r\n`);
    const text = await readUntil(s, (t) => t.includes('GET /three?x=1 '));
    const bodies = [...text.matchAll(/\r\n\r\n([A-Z]+ \/[^\r\n]*?)(?=HTTP\/1\.1|$)/g)].map((m) => m[1]);
    assert.deepEqual(bodies, ['GET /one ', 'POST /two hello', 'GET /three?x=1 ']);
    s.destroy();
    const recs = await p.waitForRecords(3);
    assert.deepEqual(p.cp.proxy.http1Counts, { raw: 3, node: 0 });
    assert.deepEqual(recs.map((r) => [r.request!.method, r.request!.url, r.request!.body?.text ?? '', r.response!.body!.text, r.error]), [
      ['GET', `${up.url}/one`, '', 'GET /one ', null],
      ['POST', `${up.url}/two`, 'hello', 'POST /two hello', null],
      ['GET', `${up.url}/three?x=1`, '', 'GET /three?x=1 ', null],
    ]);
  } finally {
    await p.close();
    await up.close();
  }
});

test('chunked bodies keep their framing both ways; the record has the decoded bodies and both trailers', async () => {
  let seen: { body: string; trailers: NodeJS.Dict<string> } | undefined;
  const up = await startTestUpstream((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c));
    req.on('end', () => {
      seen = { body, trailers: req.trailers };
      res.writeHead(200, { 'content-type': 'text/plain', trailer: 'X-Sum' });
      res.write('part one, ');
      setTimeout(() => {
        res.write('part two');
        res.addTrailers({ 'X-Sum': 'abc123' });
        res.end();
      }, 30);
    });
  });
  const p = await startTestProxy();
  try {
    const s = await tunnel(p, up.port);
    s.write(`POST /echo HTTP/1.1\r\nHost: 127.0.0.1:${up.port}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n`);
    setTimeout(() => s.write('6;note=x\r\n world\r\n0\r\nX-Client-Sum: 42\r\n\r\n'), 20);
    const text = await readUntil(s, (t) => t.endsWith('\r\n\r\n') && t.includes('X-Sum: abc123'));
    s.destroy();
    assert.deepEqual(seen, { body: 'hello world', trailers: { 'x-client-sum': '42' } });
    const [head, framed] = [text.slice(0, text.indexOf('\r\n\r\n')), text.slice(text.indexOf('\r\n\r\n') + 4)];
    assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(head, /\r\nTransfer-Encoding: chunked(\r\n|$)/i);
    assert.equal(framed, 'a\r\npart one, \r\n8\r\npart two\r\n0\r\nX-Sum: abc123\r\n\r\n');
    const [rec] = await p.waitForRecords(1);
    assert.equal(rec!.request!.body!.text, 'hello world');
    assert.deepEqual(rec!.request!.trailers, [['X-Client-Sum', '42']]);
    assert.equal(rec!.response!.body!.text, 'part one, part two');
    assert.deepEqual(rec!.response!.trailers, [['X-Sum', 'abc123']]);
    assert.equal(rec!.response!.chunks!.length, 2);
    assert.ok(rec!.response!.chunks![1]![0] - rec!.response!.chunks![0]![0] >= 20, 'the two parts arrived apart');
    assert.equal(rec!.error, null);
  } finally {
    await p.close();
    await up.close();
  }
});

test('upstream connections are reused; one past the upstream Keep-Alive timeout is not', async () => {
  const up = await startTestUpstream((_req, res) => res.end('ok'));
  up.server.keepAliveTimeout = 2000; // the server announces Keep-Alive: timeout=2
  let connections = 0;
  up.server.on('secureConnection', () => connections++);
  const p = await startTestProxy();
  try {
    for (let i = 0; i < 5; i++) {
      const r = await curl(['-s', '--http1.1', '-x', p.url, '--cacert', p.caFile, `${up.url}/n${i}`]);
      assert.equal(r.stdout, 'ok', r.stderr);
    }
    assert.equal(connections, 1, 'five requests over one upstream connection');
    await new Promise((r) => setTimeout(r, 1200)); // past timeout - 1 s: the pool lets it go
    const r = await curl(['-s', '--http1.1', '-x', p.url, '--cacert', p.caFile, `${up.url}/later`]);
    assert.equal(r.stdout, 'ok', r.stderr);
    assert.equal(connections, 2);
    const recs = await p.waitForRecords(6);
    assert.ok(recs.every((rec) => rec.error === null && rec.response!.status === 200));
    assert.equal(recs.filter((rec) => rec.timing?.tlsMs !== undefined).length, 2, 'connect and TLS times on the two fresh connections only');
  } finally {
    await p.close();
    await up.close();
  }
});

test('Expect: 100-continue, HTTP/1.0 and a malformed head inside a tunnel go to Node\'s server on the same proxy', async () => {
  const up = await startTestUpstream((req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => res.end(`${req.httpVersion} ${n}`));
  });
  const p = await startTestProxy();
  try {
    const expect = await curl(['-s', '--http1.1', '-x', p.url, '--cacert', p.caFile, '-H', 'Expect: 100-continue', '--data-binary', 'x'.repeat(2048), `${up.url}/upload`]);
    assert.equal(expect.stdout, '1.1 2048', expect.stderr);
    const old = await curl(['-s', '-0', '-x', p.url, '--cacert', p.caFile, `${up.url}/old`]);
    assert.equal(old.stdout, '1.1 0', old.stderr); // the proxy speaks HTTP/1.1 upstream
    const s = await tunnel(p, up.port);
    s.write(`GET /fine HTTP/1.1\r\nHost: 127.0.0.1:${up.port}\r\n\r\n`);
    const first = await readUntil(s, (t) => t.endsWith('1.1 0'));
    assert.match(first, /^HTTP\/1\.1 200 OK\r\n/);
    s.write('GET /broken HTTP/1.1\r\nHost: a\r\nBad Header Line\r\n\r\n');
    const second = await readUntil(s, () => false);
    assert.match(second, /^HTTP\/1\.1 400 /);
    const recs = await p.waitForRecords(4);
    assert.deepEqual(p.cp.proxy.http1Counts, { raw: 1, node: 2 }); // the malformed head never becomes a request
    const byPath = new Map(recs.map((r) => [r.request!.url.replace(/^https:\/\/[^/]+/, ''), r]));
    assert.equal(byPath.get('/upload')!.request!.body!.size, 2048);
    assert.equal(byPath.get('/old')!.request!.httpVersion, '1.0');
    assert.equal(byPath.get('/fine')!.error, null);
    const broken = recs.find((r) => r.error?.phase === 'protocol');
    assert.ok(broken, JSON.stringify(recs.map((r) => r.error)));
    assert.match(broken.error!.code!, /^HPE_/);
  } finally {
    await p.close();
    await up.close();
  }
});

test('an upstream answering with a malformed head: the client gets a 502 and the record says protocol', async () => {
  const bad = await rawTlsUpstream((s) => s.once('data', () => s.end('HTTP/1.1 200 OK\r\nNo Colon Here\r\n\r\n')));
  const p = await startTestProxy();
  try {
    const r = await curl(['-s', '--http1.1', '-i', '-x', p.url, '--cacert', p.caFile, `${bad.url}/x`]);
    assert.match(r.stdout, /^HTTP\/1\.1 502 /m);
    assert.match(r.stdout, /agenttap: upstream https:\/\/127\.0\.0\.1:\d+ failed: upstream sent a malformed HTTP\/1\.1 response head/);
    const [rec] = await p.waitForRecords(1);
    assert.equal(rec!.error!.phase, 'protocol');
    assert.equal(rec!.response, undefined);
  } finally {
    await p.close();
    await bad.close();
  }
});

/** What must agree between the two paths (ids, times, ports and chunk timings may not). */
function essence(r: CaptureRecord): unknown {
  return {
    method: r.request!.method,
    url: r.request!.url,
    // A reverse listener's own port (in Host) differs between the two proxies.
    headers: r.request!.headers.filter(([k]) => k.toLowerCase() !== 'user-agent' && !(r.mode === 'reverse' && k.toLowerCase() === 'host')),
    requestBody: r.request!.body,
    status: r.response?.status,
    statusText: r.response?.statusText,
    responseHeaders: r.response?.headers.filter(([k]) => k.toLowerCase() !== 'date'),
    responseBody: r.response?.body,
    error: r.error,
  };
}

test('the raw-socket path and Node\'s http path record the same exchanges', async () => {
  const gz = zlib.gzipSync(Buffer.from('{"compressed":true}'));
  const handler: Handler = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (req.url === '/gzip') return void res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': gz.length }).end(gz);
      if (req.url === '/empty') return void res.writeHead(204).end();
      if (req.url === '/cached') return void res.writeHead(304, { etag: '"v1"' }).end();
      if (req.url === '/big') return void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.alloc(300_000, 7));
      res.writeHead(201, 'Made It', { 'content-type': 'application/json', 'x-echo-length': String(body.length) });
      res.end(JSON.stringify({ method: req.method, got: body.toString() }));
    });
  };
  const up = await startTestUpstream(handler);
  const run = async (wire: boolean): Promise<unknown[]> => {
    const p = await startTestProxy({ wire, reverse: [{ port: 0, target: up.url }] });
    try {
      const base = ['-s', '--http1.1', '-o', '/dev/null', '-x', p.url, '--cacert', p.caFile, '-H', 'User-Agent: test'];
      await curl([...base, '-H', 'Authorization: Bearer sk-test-0123456789abcdef', '-H', 'content-type: application/json', '--data-binary', '{"q":"hi"}', `${up.url}/post?a=1`]);
      await curl([...base, `${up.url}/gzip`]);
      await curl([...base, '-I', `${up.url}/head`]);
      await curl([...base, `${up.url}/empty`]);
      await curl([...base, `${up.url}/cached`]);
      await curl([...base, `${up.url}/big`]);
      const rev = p.cp.reverseListeners[0]!.url;
      await curl(['-s', '-o', '/dev/null', '-H', 'User-Agent: test', '-X', 'PUT', '--data-binary', 'reverse body', `${rev}/rev`]);
      const recs = await p.waitForRecords(7);
      assert.deepEqual(p.cp.proxy.http1Counts, wire ? { raw: 7, node: 0 } : { raw: 0, node: 7 });
      return recs.map(essence).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    } finally {
      await p.close();
    }
  };
  try {
    const viaWire = await run(true);
    const viaNode = await run(false);
    assert.equal(viaWire.length, 7);
    assert.deepEqual(viaWire, viaNode);
    const post = viaWire.find((e) => (e as { url: string }).url.endsWith('/post?a=1')) as { headers: [string, string][]; status: number; statusText: string };
    assert.equal(post.status, 201);
    assert.equal(post.statusText, 'Made It');
    assert.ok(post.headers.some(([k, v]) => k === 'Authorization' && v.includes('[REDACTED') && !v.includes('0123456789')), 'redacted like every record');
  } finally {
    await up.close();
  }
});

test('a plain-HTTP upstream behind a reverse listener: the first connection teaches the path, later ones use it', async () => {
  const up = await startTestUpstream((req, res) => res.end(`plain ${req.url}`), { tls: false });
  const p = await startTestProxy({ reverse: [{ port: 0, target: up.url }] });
  try {
    const rev = p.cp.reverseListeners[0]!.url;
    for (const path of ['/first', '/second', '/third']) {
      const body = await new Promise<string>((resolve, reject) => {
        http.get(`${rev}${path}`, { agent: false }, (res) => {
          let t = '';
          res.on('data', (c: Buffer) => (t += c));
          res.on('end', () => resolve(t));
        }).on('error', reject);
      });
      assert.equal(body, `plain ${path}`);
    }
    const recs = await p.waitForRecords(3);
    assert.deepEqual(p.cp.proxy.http1Counts, { raw: 2, node: 1 });
    assert.deepEqual(recs.map((r) => [r.request!.url, r.mode, r.response!.body!.text]), [
      [`${up.url}/first`, 'reverse', 'plain /first'],
      [`${up.url}/second`, 'reverse', 'plain /second'],
      [`${up.url}/third`, 'reverse', 'plain /third'],
    ]);
    assert.equal(count(JSON.stringify(recs.map((r) => r.error)), 'null'), 3);
  } finally {
    await p.close();
    await up.close();
  }
});

test('a kept-alive upstream connection closed as it is reused: GET goes again on a new connection, POST gets a 502', async () => {
  // Like a server whose idle timer fires as the next request arrives: the second request on a
  // connection is met with a close and no answer.
  let connections = 0;
  const up = await rawTlsUpstream((s) => {
    connections++;
    let served = 0;
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/content-length: (\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
      if (buf.length < end + 4 + length) return;
      const line = buf.slice(0, buf.indexOf('\r\n'));
      buf = '';
      if (served++ > 0) return void s.destroy();
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${line.length}\r\n\r\n${line}`);
    });
  });
  const url = up.url;
  const p = await startTestProxy();
  try {
    const get = async (path: string): Promise<string> => (await curl(['-s', '--http1.1', '-x', p.url, '--cacert', p.caFile, `${url}${path}`])).stdout;
    assert.equal(await get('/first'), 'GET /first HTTP/1.1');
    assert.equal(await get('/second'), 'GET /second HTTP/1.1'); // resent on a new connection
    assert.equal(connections, 2);
    const post = await curl(['-s', '--http1.1', '-i', '-x', p.url, '--cacert', p.caFile, '--data-binary', 'once', `${url}/post`]);
    assert.match(post.stdout, /^HTTP\/1\.1 502 /m, 'a POST is never sent twice');
    assert.equal(connections, 2);
    const recs = await p.waitForRecords(3);
    assert.deepEqual(recs.map((r) => [r.request!.url.replace(url, ''), r.response?.status, r.error?.phase ?? null]), [
      ['/first', 200, null],
      ['/second', 200, null],
      ['/post', undefined, 'upstream-reset'],
    ]);
    assert.notEqual(recs[1]!.timing?.tlsMs, undefined, 'the resent request shows its new connection');
  } finally {
    await p.close();
    await up.close();
  }
});
