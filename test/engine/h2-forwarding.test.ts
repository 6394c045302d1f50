import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import http2 from 'node:http2';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { headerValue } from '../../src/capture/record.js';
import { resetStream } from '../../src/engine/h2.js';
import { h2ThroughProxy, startDualUpstream, startH2Upstream, startProtocolProxy } from '../support/protocol-proxy.js';
import { startTestUpstream } from '../support/test-upstream.js';

const run = promisify(execFile);

function readAll(s: http2.ClientHttp2Stream): Promise<{ headers: http2.IncomingHttpHeaders; body: string; trailers?: http2.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders | undefined;
    let body = '';
    s.on('response', (h) => (headers = h));
    s.on('trailers', (t) => (trailers = t));
    s.setEncoding('utf8');
    s.on('data', (d: string) => (body += d));
    s.on('end', () => resolve({ headers, body, trailers }));
    s.on('error', reject);
  });
}

test('curl --http2 and --http1.1 through CONNECT: h2 on both legs, recorded as HTTP/2 with the upstream ALPN', async () => {
  const { stdout: version } = await run('curl', ['--version']);
  assert.match(version, /HTTP2/, 'this curl lacks HTTP/2');
  const up = await startDualUpstream((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'x-upstream-proto': req.httpVersion });
    res.end(JSON.stringify({ path: req.url, ua: req.headers['user-agent'] }));
  });
  const p = await startProtocolProxy();
  try {
    const h2 = await run('curl', ['-sS', '--http2', '-x', p.url, '--cacert', p.caFile, '-H', 'x-test: one', '-w', '\n%{http_version}', `${up.url}/v1/models?x=1`]);
    const [body2, ver2] = h2.stdout.split('\n');
    assert.equal(ver2, '2');
    assert.equal(JSON.parse(body2!).path, '/v1/models?x=1');
    const h1 = await run('curl', ['-sS', '--http1.1', '-x', p.url, '--cacert', p.caFile, '-w', '\n%{http_version}', `${up.url}/v1/h1`]);
    assert.equal(h1.stdout.split('\n')[1], '1.1');
    const recs = await p.waitFor(2);
    const r2 = recs.find((r) => r.request!.url.endsWith('/v1/models?x=1'))!;
    assert.equal(r2.request!.httpVersion, '2');
    assert.equal(r2.response!.httpVersion, '2');
    assert.equal(r2.server.alpn, 'h2');
    assert.equal(r2.request!.url, `${up.url}/v1/models?x=1`);
    assert.equal(headerValue(r2.request!.headers, 'x-test'), 'one');
    assert.equal(headerValue(r2.response!.headers, 'x-upstream-proto'), '2.0');
    assert.equal(JSON.parse(r2.response!.body!.text!).path, '/v1/models?x=1');
    assert.ok(r2.response!.chunks!.length >= 1);
    assert.equal(r2.error, null);
    const r1 = recs.find((r) => r.request!.url.endsWith('/v1/h1'))!;
    assert.equal(r1.request!.httpVersion, '1.1');
    assert.equal(headerValue(r1.response!.headers, 'x-upstream-proto'), '1.1');
  } finally {
    await p.close();
    await up.close();
  }
});

test('Node http2 bidirectional echo through the tunnel: each echo arrives before the request ends; gRPC trailers both ways', async () => {
  const up = await startH2Upstream((stream) => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('data', (c: Buffer) => stream.write(Buffer.concat([Buffer.from('echo:'), c])));
    stream.on('end', () => stream.end());
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': 'OK' }));
  });
  const p = await startProtocolProxy();
  const session = await h2ThroughProxy(p.port, '127.0.0.1', up.port, p.caPem);
  try {
    const req = session.request({ ':method': 'POST', ':path': '/pkg.Svc/Chat', 'content-type': 'application/grpc', te: 'trailers' });
    const chunks: string[] = [];
    let trailers: http2.IncomingHttpHeaders | undefined;
    req.on('trailers', (t) => (trailers = t));
    const nextEcho = () => new Promise<string>((resolve) => req.once('data', (d: Buffer) => resolve(d.toString())));
    for (const msg of ['one', 'two', 'three']) {
      const echoed = nextEcho();
      req.write(msg);
      // The request is still open: the reply must come through anyway (full duplex).
      chunks.push(await echoed);
    }
    assert.deepEqual(chunks, ['echo:one', 'echo:two', 'echo:three']);
    const ended = new Promise<void>((r) => req.on('end', () => r()));
    req.resume();
    req.end();
    await ended;
    assert.equal(trailers?.['grpc-status'], '0');
    const [rec] = await p.waitFor(1);
    assert.equal(rec!.request!.httpVersion, '2');
    assert.equal(rec!.request!.body!.text, 'onetwothree');
    assert.equal(rec!.request!.chunks!.length, 3);
    assert.equal(rec!.response!.body!.text, 'echo:oneecho:twoecho:three');
    assert.deepEqual(rec!.response!.trailers, [['grpc-status', '0'], ['grpc-message', 'OK']]);
    // Each response chunk arrived before the last request chunk was sent... except the last echo.
    const lastReq = rec!.request!.chunks!.at(-1)![0];
    assert.ok(rec!.response!.chunks![0]![0] < lastReq, 'first echo recorded before the request ended');
    assert.equal(rec!.error, null);
  } finally {
    session.close();
    await p.close();
    await up.close();
  }
});

test('h2 client to an HTTP/1.1-only upstream: translated (cookies joined, request body decoded for the record)', async () => {
  let seen: { cookie?: string; host?: string; version?: string; body?: Buffer } = {};
  const up = await startTestUpstream((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      seen = { cookie: req.headers.cookie, host: req.headers.host, version: req.httpVersion, body: Buffer.concat(parts) };
      res.writeHead(201, { 'content-type': 'text/plain', connection: 'keep-alive' });
      res.end('created');
    });
  });
  const p = await startProtocolProxy();
  const session = await h2ThroughProxy(p.port, '127.0.0.1', up.port, p.caPem);
  try {
    const gz = zlib.gzipSync(Buffer.from('{"model":"m","input":"hello"}'));
    const req = session.request({ ':method': 'POST', ':path': '/v1/responses', cookie: ['a=1', 'b=2'], 'content-encoding': 'gzip', 'content-type': 'application/json' });
    req.end(gz);
    const res = await readAll(req);
    assert.equal(res.headers[':status'], 201);
    assert.equal(res.body, 'created');
    assert.equal(res.headers.connection, undefined);
    assert.equal(seen.cookie, 'a=1; b=2');
    assert.equal(seen.version, '1.1');
    assert.equal(seen.host, `127.0.0.1:${up.port}`);
    assert.ok(seen.body!.equals(gz), 'the body went upstream still compressed');
    const [rec] = await p.waitFor(1);
    assert.equal(rec!.request!.httpVersion, '2');
    assert.equal(rec!.response!.httpVersion, '1.1');
    assert.equal(rec!.server.alpn, 'http/1.1');
    assert.equal(rec!.request!.body!.text, '{"model":"m","input":"hello"}');
    assert.equal(rec!.request!.body!.contentEncoding, 'gzip');
    assert.equal(rec!.request!.body!.wireSize, gz.length);
  } finally {
    session.close();
    await p.close();
    await up.close();
  }
});

test('an upstream RST_STREAM mid-response resets the client stream and is recorded; the proxy keeps serving', async () => {
  const up = await startH2Upstream((stream, headers) => {
    stream.respond({ ':status': 200, 'content-type': 'text/event-stream' });
    if (headers[':path'] === '/reset') {
      stream.write('data: partial\n\n');
      setTimeout(() => resetStream(stream, http2.constants.NGHTTP2_INTERNAL_ERROR), 50);
    } else stream.end('data: ok\n\n');
  });
  const p = await startProtocolProxy();
  const session = await h2ThroughProxy(p.port, '127.0.0.1', up.port, p.caPem);
  try {
    const req = session.request({ ':path': '/reset' });
    req.on('error', () => {});
    req.resume();
    await new Promise<void>((resolve) => req.on('close', () => resolve()));
    // The client's stream is reset with the upstream's code, never ended cleanly.
    assert.equal(req.rstCode, http2.constants.NGHTTP2_INTERNAL_ERROR);
    const ok = await readAll(session.request({ ':path': '/fine' }));
    assert.equal(ok.body, 'data: ok\n\n');
    const recs = await p.waitFor(2);
    const bad = recs.find((r) => r.request!.url.endsWith('/reset'))!;
    assert.equal(bad.error?.phase, 'upstream-reset');
    assert.equal(bad.error?.code, 'RST_STREAM INTERNAL_ERROR');
    assert.equal(bad.response!.body!.text, 'data: partial\n\n');
    assert.equal(recs.find((r) => r.request!.url.endsWith('/fine'))!.error, null);
  } finally {
    session.close();
    await p.close();
    await up.close();
  }
});

test('Debian python3 httpx with h2 negotiates HTTP/2 through the proxy', async () => {
  const up = await startH2Upstream((stream, headers) => {
    stream.respond({ ':status': 200, 'content-type': 'application/json' });
    stream.end(JSON.stringify({ ok: true, method: headers[':method'] }));
  });
  const p = await startProtocolProxy();
  try {
    const script = [
      'import httpx, sys, json',
      `c = httpx.Client(http2=True, proxies="${p.url}", verify="${p.caFile}")`,
      `r = c.post("${up.url}/v1/chat/completions", json={"model": "x"})`,
      'print(r.http_version, r.status_code, r.text)',
    ].join('\n');
    const { stdout } = await run('/usr/bin/python3', ['-c', script]);
    assert.equal(stdout.trim(), 'HTTP/2 200 {"ok":true,"method":"POST"}');
    const [rec] = await p.waitFor(1);
    assert.equal(rec!.request!.httpVersion, '2');
    assert.equal(rec!.request!.body?.text, `{"model": "x"}`, JSON.stringify(rec));
    assert.equal(rec!.server.alpn, 'h2');
  } finally {
    await p.close();
    await up.close();
  }
});

test('h2c prior knowledge on a reverse listener (Node http2 and curl), HTTP/1.1 still served on the same port', async () => {
  const up = await startDualUpstream((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`upstream saw ${req.httpVersion} ${req.url} host=${req.headers.host ?? req.headers[':authority']}`);
  });
  const p = await startProtocolProxy({ capture: { reverse: [{ port: 0, target: up.url }] } });
  const listener = p.cap.reverseListeners[0]!;
  const session = http2.connect(listener.url);
  try {
    const res = await readAll(session.request({ ':path': '/v1/messages?beta=true' }));
    assert.equal(res.headers[':status'], 200);
    assert.equal(res.body, `upstream saw 2.0 /v1/messages?beta=true host=127.0.0.1:${up.port}`);
    const c = await run('curl', ['-sS', '--http2-prior-knowledge', '-w', ' %{http_version}', `${listener.url}/curl-h2c`]);
    assert.equal(c.stdout, `upstream saw 2.0 /curl-h2c host=127.0.0.1:${up.port} 2`);
    const h1 = await run('curl', ['-sS', '--http1.1', `${listener.url}/plain`]);
    assert.match(h1.stdout, /^upstream saw 1\.1 \/plain/);
    const recs = await p.waitFor(3);
    const r = recs.find((x) => x.request!.url.includes('/v1/messages'))!;
    assert.equal(r.mode, 'reverse');
    assert.equal(r.request!.url, `${up.url}/v1/messages?beta=true`);
    assert.equal(r.request!.httpVersion, '2');
    assert.equal(r.server.listener, listener.url);
    assert.equal(recs.find((x) => x.request!.url.endsWith('/plain'))!.request!.httpVersion, '1.1');
  } finally {
    session.close();
    await p.close();
    await up.close();
  }
});

test('bad input: a malformed client frame gets a GOAWAY and a record; an upstream that speaks HTTP/1.1 after offering h2 gives a 502', async () => {
  const { upstreamTestCa } = await import('../support/test-upstream.js');
  const tls = await import('node:tls');
  const { ca } = await upstreamTestCa();
  const leaf = await ca.leafFor('127.0.0.1');
  // Offers h2 by ALPN, then answers in HTTP/1.1.
  const liar = tls.createServer({ cert: leaf.certPem, key: leaf.keyPem, ALPNProtocols: ['h2'] }, (s) => {
    s.on('error', () => {});
    s.once('data', () => s.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi'));
  });
  await new Promise<void>((r) => liar.listen(0, '127.0.0.1', r));
  const liarPort = (liar.address() as import('node:net').AddressInfo).port;
  const up = await startH2Upstream((stream) => {
    stream.respond({ ':status': 200 });
    stream.end('ok');
  });
  const p = await startProtocolProxy();
  try {
    const { tlsThroughProxy } = await import('../support/protocol-proxy.js');
    const raw = await tlsThroughProxy(p.port, '127.0.0.1', up.port, p.caPem, ['h2']);
    let got = Buffer.alloc(0);
    raw.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
    raw.on('error', () => {});
    // Preface, then a HEADERS frame whose one-byte header block is not valid HPACK.
    raw.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from('00000001050000000100', 'hex')]));
    await new Promise((r) => raw.once('close', r));
    // Somewhere in what we got back is a GOAWAY frame (type 7).
    let goaway = false;
    for (let i = 0; i + 9 <= got.length; ) {
      const len = got.readUIntBE(i, 3);
      if (got[i + 3] === 0x7) goaway = true;
      i += 9 + len;
    }
    assert.ok(goaway, 'the client got a GOAWAY');
    const [bad] = await p.waitFor(1);
    assert.equal(bad!.error?.phase, 'protocol');
    assert.match(bad!.error!.message, /malformed HTTP\/2 from the client/);
    assert.ok(p.logs.some((l) => /malformed HTTP\/2/.test(l)));

    const session = await h2ThroughProxy(p.port, '127.0.0.1', liarPort, p.caPem);
    const res = await readAll(session.request({ ':path': '/liar' }));
    assert.equal(res.headers[':status'], 502);
    assert.match(res.body, /did not speak HTTP\/2/);
    const ok = await h2ThroughProxy(p.port, '127.0.0.1', up.port, p.caPem);
    assert.equal((await readAll(ok.request({ ':path': '/fine' }))).body, 'ok');
    const recs = await p.waitFor(3);
    const liarRec = recs.find((r) => r.request?.url.endsWith('/liar'))!;
    assert.equal(liarRec.error?.phase, 'protocol');
    assert.equal(liarRec.response, undefined);
    session.close();
    ok.close();
  } finally {
    await p.close();
    await up.close();
    liar.close();
  }
});

test('an upstream GOAWAY mid-response resets the client stream with its code; the next request opens a new upstream session', async () => {
  const up = await startH2Upstream((stream, headers) => {
    stream.respond({ ':status': 200 });
    if (headers[':path'] !== '/goaway') return void stream.end('fine');
    stream.write('part');
    setTimeout(() => {
      stream.session!.goaway(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM, 0);
      stream.session!.destroy();
    }, 30);
  });
  const p = await startProtocolProxy();
  const session = await h2ThroughProxy(p.port, '127.0.0.1', up.port, p.caPem);
  try {
    const req = session.request({ ':path': '/goaway' });
    req.on('error', () => {});
    req.resume();
    await new Promise<void>((r) => req.on('close', () => r()));
    assert.equal(req.rstCode, http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    assert.equal((await readAll(session.request({ ':path': '/next' }))).body, 'fine');
    const recs = await p.waitFor(2);
    const g = recs.find((r) => r.request!.url.endsWith('/goaway'))!;
    assert.deepEqual([g.error?.phase, g.error?.code], ['upstream-reset', 'GOAWAY/ENHANCE_YOUR_CALM']);
    assert.equal(g.response!.body!.text, 'part');
    assert.equal(recs.find((r) => r.request!.url.endsWith('/next'))!.error, null);
  } finally {
    session.close();
    await p.close();
    await up.close();
  }
});
