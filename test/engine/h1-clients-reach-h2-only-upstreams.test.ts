// HTTP/1.1 clients (curl --http1.1, Debian python3-requests, undici) whose upstream speaks only HTTP/2:
// a Node http2 secure server without allowHTTP1 (it refuses ALPN http/1.1 with an alert) and an
// h2c-only plain server behind a --reverse listener (it answers h1 bytes with h2 frames).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { ProxyAgent, request } from 'undici';
import { headerValue, type CaptureRecord } from '../../src/capture/record.js';
import { resetStream } from '../../src/engine/h2.js';
import { startChainProxy } from '../support/chain-proxy.js';
import { startH2Upstream, startProtocolProxy } from '../support/protocol-proxy.js';
import { tempDir } from '../support/temp-home.js';

const run = promisify(execFile);
const { constants: C } = http2;

/** A child process whose stdout can be awaited piece by piece (streaming clients). */
function watch(child: ChildProcess): { out: () => string; waitFor(re: RegExp, ms?: number): Promise<void>; exit: Promise<number | null> } {
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (d: string) => {
    out += d;
    for (const w of waiters) w();
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (d: string) => (err += d));
  const exit = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return {
    out: () => out,
    exit,
    waitFor(re, ms = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (!re.test(out)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${re} in client output ${JSON.stringify(out)} (stderr ${JSON.stringify(err)})`));
        }, ms);
        waiters.add(check);
        check();
      });
    },
  };
}

/** Streams the test drives by hand: the upstream writes an SSE event only when told. */
class StreamGate {
  private readonly streams: http2.ServerHttp2Stream[] = [];
  private waiting?: (s: http2.ServerHttp2Stream) => void;
  push(s: http2.ServerHttp2Stream): void {
    if (this.waiting) this.waiting(s);
    else this.streams.push(s);
  }
  next(): Promise<http2.ServerHttp2Stream> {
    const s = this.streams.shift();
    if (s) return Promise.resolve(s);
    return new Promise((r) => (this.waiting = r));
  }
}

/** An h2-only upstream with the routes these tests use. */
function h2OnlyRoutes(gate: StreamGate) {
  return (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, rawHeaders: string[]): void => {
    const path = String(headers[':path']);
    const names = rawHeaders.filter((_, i) => i % 2 === 0 && !rawHeaders[i]!.startsWith(':'));
    if (path === '/sse') {
      stream.respond({ ':status': 200, 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      stream.write('data: 0\n\n');
      gate.push(stream);
      return;
    }
    if (path === '/trailers') {
      stream.respond({ ':status': 200, 'content-type': 'text/plain', trailer: 'x-checksum, grpc-status' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'x-checksum': 'sha-abc', 'grpc-status': '0' }));
      stream.end('body before trailers');
      return;
    }
    if (path === '/reset') {
      stream.respond({ ':status': 200, 'content-type': 'text/event-stream' });
      stream.write('data: partial\n\n');
      setTimeout(() => resetStream(stream, C.NGHTTP2_INTERNAL_ERROR), 50);
      return;
    }
    if (path === '/reset-early') return void setTimeout(() => resetStream(stream, C.NGHTTP2_REFUSED_STREAM), 10);
    if (path === '/goaway') {
      stream.respond({ ':status': 200 });
      stream.write('part');
      setTimeout(() => {
        stream.session!.goaway(C.NGHTTP2_ENHANCE_YOUR_CALM, 0);
        stream.session!.destroy();
      }, 30);
      return;
    }
    const hash = createHash('sha256');
    let bytes = 0;
    stream.on('data', (d: Buffer) => {
      bytes += d.length;
      hash.update(d);
    });
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/json', 'x-upstream': 'h2-only' });
      stream.end(JSON.stringify({ method: headers[':method'], path, authority: headers[':authority'], scheme: headers[':scheme'], te: headers.te ?? null, names, bytes, sha256: hash.digest('hex') }));
    });
  };
}

function byPath(recs: CaptureRecord[], path: string): CaptureRecord {
  const r = recs.find((x) => new URL(x.request!.url).pathname === path);
  assert.ok(r, `a record for ${path}`);
  return r;
}

function assertTranslated(r: CaptureRecord): void {
  assert.equal(r.request!.httpVersion, '1.1');
  assert.equal(r.response!.httpVersion, '2');
  assert.equal(r.server.alpn, 'h2');
}

test('curl --http1.1 through CONNECT to an h2-only upstream: the first request (a POST) is retried over h2, hop-by-hop headers dropped, later requests go straight over the pooled session', async () => {
  const up = await startH2Upstream(h2OnlyRoutes(new StreamGate()));
  const p = await startProtocolProxy();
  const d = tempDir('agenttap-h1h2-');
  try {
    const body = Buffer.alloc(300_000);
    for (let i = 0; i < body.length; i++) body[i] = 97 + ((i * 7) % 26);
    const bodyFile = d.file('body.txt');
    writeFileSync(bodyFile, body);
    const curl = ['-sS', '--http1.1', '-x', p.url, '--cacert', p.caFile, '-w', '\n%{http_code} %{http_version}'];
    // No Expect: the body follows the head at once, so it is read while the upstream refuses h1.
    const post = await run('curl', [...curl, '-H', 'Expect:', '-H', 'Connection: keep-alive, x-hop', '-H', 'x-hop: 1', '-H', 'Keep-Alive: timeout=5', '-H', 'TE: trailers, deflate', '-H', 'x-kept: yes', '-H', 'content-type: text/plain', '--data-binary', `@${bodyFile}`, `${up.url}/echo?q=1`]);
    const [postBody, postStatus] = post.stdout.split('\n');
    assert.equal(postStatus, '200 1.1');
    const seen = JSON.parse(postBody!);
    assert.equal(seen.method, 'POST');
    assert.equal(seen.path, '/echo?q=1');
    assert.equal(seen.authority, `127.0.0.1:${up.port}`);
    assert.equal(seen.scheme, 'https');
    assert.equal(seen.bytes, body.length);
    assert.equal(seen.sha256, createHash('sha256').update(body).digest('hex'));
    assert.equal(seen.te, 'trailers');
    for (const hop of ['connection', 'keep-alive', 'x-hop', 'proxy-connection', 'transfer-encoding', 'upgrade', 'host', 'expect']) assert.ok(!seen.names.includes(hop), `${hop} must not reach the h2 upstream (got ${seen.names})`);
    assert.ok(seen.names.includes('x-kept'));

    const get = await run('curl', [...curl, `${up.url}/json`]);
    assert.equal(get.stdout.split('\n')[1], '200 1.1');
    assert.equal(JSON.parse(get.stdout.split('\n')[0]!).method, 'GET');

    const recs = await p.waitFor(2);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(p.records.length, 2, 'one record per request: the refused h1 attempt is not a record of its own');
    const rp = byPath(recs, '/echo');
    assertTranslated(rp);
    assert.equal(rp.error, null);
    assert.equal(rp.request!.method, 'POST');
    assert.equal(rp.request!.url, `${up.url}/echo?q=1`);
    // Every body byte exactly once, although part of it was read before the retry.
    assert.equal(rp.request!.body!.size, body.length);
    assert.equal(rp.request!.body!.text, body.toString('latin1'));
    assert.equal(headerValue(rp.request!.headers, 'x-hop'), '1', 'the record keeps what the client sent');
    assert.equal(rp.response!.status, 200);
    assert.equal(headerValue(rp.response!.headers, 'x-upstream'), 'h2-only');
    assert.equal(JSON.parse(rp.response!.body!.text!).sha256, seen.sha256);
    const rg = byPath(recs, '/json');
    assertTranslated(rg);
    assert.equal(rg.error, null);
    assert.equal(JSON.parse(rg.response!.body!.text!).path, '/json');
    assert.ok(p.logs.some((l) => l.includes(`https://127.0.0.1:${up.port} speaks only HTTP/2`)), `log line about the learned origin: ${p.logs}`);
  } finally {
    d.cleanup();
    await p.close();
    await up.close();
  }
});

test('curl --http1.1: an SSE stream from an h2-only upstream arrives event by event, and trailers arrive as chunked trailers', async () => {
  const gate = new StreamGate();
  const up = await startH2Upstream(h2OnlyRoutes(gate));
  const p = await startProtocolProxy();
  const d = tempDir('agenttap-h1h2-');
  try {
    const child = spawn('curl', ['-sS', '-N', '--http1.1', '-x', p.url, '--cacert', p.caFile, `${up.url}/sse`], { stdio: ['ignore', 'pipe', 'pipe'] });
    const w = watch(child);
    const sse = await gate.next();
    // Each event is written upstream only after curl printed the previous one.
    await w.waitFor(/data: 0\n\n$/);
    sse.write('data: 1\n\n');
    await w.waitFor(/data: 1\n\n$/);
    sse.write('data: 2\n\n');
    await w.waitFor(/data: 2\n\n$/);
    sse.end();
    assert.equal(await w.exit, 0);
    assert.equal(w.out(), 'data: 0\n\ndata: 1\n\ndata: 2\n\n');

    const dump = d.file('headers.txt');
    const tr = await run('curl', ['-sS', '--http1.1', '-x', p.url, '--cacert', p.caFile, '-D', dump, `${up.url}/trailers`]);
    assert.equal(tr.stdout, 'body before trailers');
    const head = readFileSync(dump, 'utf8');
    assert.match(head, /^HTTP\/1\.1 200/);
    assert.match(head, /transfer-encoding: chunked/i);
    assert.match(head, /\r\nx-checksum: sha-abc\r\n/i, `curl got the trailers: ${JSON.stringify(head)}`);
    assert.match(head, /\r\ngrpc-status: 0\r\n/i);

    const recs = await p.waitFor(2);
    const s = byPath(recs, '/sse');
    assertTranslated(s);
    assert.equal(s.error, null);
    assert.equal(s.response!.body!.text, 'data: 0\n\ndata: 1\n\ndata: 2\n\n');
    assert.equal(headerValue(s.response!.headers, 'content-type'), 'text/event-stream');
    const chunks = s.response!.chunks!;
    assert.ok(chunks.length >= 3, `one chunk per event at least: ${JSON.stringify(chunks)}`);
    assert.equal(chunks.reduce((n, [, b]) => n + b, 0), s.response!.body!.size);
    for (let i = 1; i < chunks.length; i++) assert.ok(chunks[i]![0] >= chunks[i - 1]![0]);
    const t = byPath(recs, '/trailers');
    assertTranslated(t);
    assert.equal(t.error, null);
    assert.equal(t.response!.body!.text, 'body before trailers');
    assert.deepEqual(t.response!.trailers, [['x-checksum', 'sha-abc'], ['grpc-status', '0']]);
  } finally {
    d.cleanup();
    await p.close();
    await up.close();
  }
});

const PY_CLIENT = `
import json, sys, requests
proxy, ca, base = sys.argv[1:4]
s = requests.Session()
s.trust_env = False
s.proxies = {'https': proxy}
s.verify = ca
r = s.get(base + '/json')
print('JSON ' + json.dumps({'status': r.status_code, 'body': r.json()}), flush=True)
r = s.post(base + '/echo', json={'hello': 'world', 'n': [1, 2, 3]})
print('JSON ' + json.dumps({'status': r.status_code, 'body': r.json()}), flush=True)
with s.get(base + '/sse', stream=True) as r:
    print('SSE ' + str(r.status_code) + ' ' + r.headers.get('content-type', ''), flush=True)
    for line in r.iter_lines(chunk_size=1):
        if line:
            print('EVENT ' + line.decode(), flush=True)
print('DONE', flush=True)
`;

test('Debian python3-requests through CONNECT to an h2-only upstream: JSON, a POST body and an SSE stream event by event', async () => {
  const gate = new StreamGate();
  const up = await startH2Upstream(h2OnlyRoutes(gate));
  const p = await startProtocolProxy();
  try {
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' };
    const child = spawn('/usr/bin/python3', ['-c', PY_CLIENT, p.url, p.caFile, up.url], { stdio: ['ignore', 'pipe', 'pipe'], env });
    const w = watch(child);
    const sse = await gate.next();
    await w.waitFor(/EVENT data: 0\n$/, 20_000);
    sse.write('data: 1\n\n');
    await w.waitFor(/EVENT data: 1\n$/);
    sse.end('data: 2\n\n');
    assert.equal(await w.exit, 0, w.out());
    const lines = w.out().trim().split('\n');
    const json = lines.filter((l) => l.startsWith('JSON ')).map((l) => JSON.parse(l.slice(5)));
    assert.equal(json[0].status, 200);
    assert.equal(json[0].body.method, 'GET');
    assert.equal(json[1].status, 200);
    assert.equal(json[1].body.method, 'POST');
    const sent = JSON.stringify({ hello: 'world', n: [1, 2, 3] }).replace(/,/g, ', ').replace(/:/g, ': ');
    assert.equal(json[1].body.bytes, Buffer.byteLength(sent));
    assert.equal(json[1].body.sha256, createHash('sha256').update(sent).digest('hex'));
    assert.deepEqual(lines.filter((l) => !l.startsWith('JSON ')), ['SSE 200 text/event-stream', 'EVENT data: 0', 'EVENT data: 1', 'EVENT data: 2', 'DONE']);

    const recs = await p.waitFor(3);
    for (const r of recs) {
      assertTranslated(r);
      assert.equal(r.error, null);
      assert.match(headerValue(r.request!.headers, 'user-agent') ?? '', /python-requests/);
    }
    assert.deepEqual(JSON.parse(byPath(recs, '/echo').request!.body!.text!), { hello: 'world', n: [1, 2, 3] });
    assert.equal(JSON.parse(byPath(recs, '/json').response!.body!.text!).path, '/json');
    const s = byPath(recs, '/sse');
    assert.equal(s.response!.body!.text, 'data: 0\n\ndata: 1\n\ndata: 2\n\n');
    assert.ok(s.response!.chunks!.length >= 3);
  } finally {
    await p.close();
    await up.close();
  }
});

test('an h2-only upstream that resets the stream or sends GOAWAY: the h1 client connection is torn down (never a clean end), recorded as upstream-reset; the proxy keeps serving', async () => {
  const up = await startH2Upstream(h2OnlyRoutes(new StreamGate()));
  const p = await startProtocolProxy();
  try {
    const curl = ['-sS', '--http1.1', '-x', p.url, '--cacert', p.caFile];
    // Mid-response RST_STREAM: curl sees the connection cut inside the chunked body.
    const reset = await run('curl', [...curl, `${up.url}/reset`]).then(
      () => assert.fail('curl must not see a clean end'),
      (e: { code: number; stdout: string }) => e,
    );
    assert.ok(reset.code === 18 || reset.code === 56, `curl exit ${reset.code}`);
    assert.equal(reset.stdout, 'data: partial\n\n');
    // GOAWAY + closed session mid-response: the same for the client, a new session afterwards.
    const goaway = await run('curl', [...curl, `${up.url}/goaway`]).then(
      () => assert.fail('curl must not see a clean end'),
      (e: { code: number; stdout: string }) => e,
    );
    assert.ok(goaway.code === 18 || goaway.code === 56, `curl exit ${goaway.code}`);
    assert.equal(goaway.stdout, 'part');
    // A reset before any response: a 502 that says so.
    const early = await run('curl', [...curl, '-w', '\n%{http_code}', `${up.url}/reset-early`]);
    assert.match(early.stdout, /RST_STREAM REFUSED_STREAM[\s\S]*\n502$/);
    const after = await run('curl', [...curl, `${up.url}/json`]);
    assert.equal(JSON.parse(after.stdout).path, '/json');

    const recs = await p.waitFor(4);
    const r = byPath(recs, '/reset');
    assertTranslated(r);
    assert.deepEqual([r.error?.phase, r.error?.code], ['upstream-reset', 'RST_STREAM INTERNAL_ERROR']);
    assert.equal(r.response!.body!.text, 'data: partial\n\n');
    const g = byPath(recs, '/goaway');
    assert.deepEqual([g.error?.phase, g.error?.code], ['upstream-reset', 'GOAWAY/ENHANCE_YOUR_CALM']);
    assert.equal(g.response!.body!.text, 'part');
    const e = byPath(recs, '/reset-early');
    assert.deepEqual([e.error?.phase, e.error?.code], ['upstream-reset', 'RST_STREAM REFUSED_STREAM']);
    assert.equal(byPath(recs, '/json').error, null);
  } finally {
    await p.close();
    await up.close();
  }
});

/** A plain upstream speaking only h2c (prior knowledge); h1 bytes get SETTINGS + GOAWAY. */
async function startH2cOnly(): Promise<{ url: string; close(): Promise<void> }> {
  const server = http2.createServer();
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (c: string) => (body += c));
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/json' });
      stream.end(JSON.stringify({ method: headers[':method'], path: headers[':path'], scheme: headers[':scheme'], body }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** One raw h1 request (head and a partial body in one write); resolves with all the proxy sent back. */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => s.write(text));
    let got = '';
    s.setEncoding('latin1');
    s.on('data', (d: string) => (got += d));
    s.on('close', () => resolve(got));
    s.on('error', reject);
    s.setTimeout(10_000, () => s.destroy(new Error(`no answer; got ${JSON.stringify(got)}`)));
  });
}

test('reverse listener to an h2c-only plain upstream: a bodiless first request is retried over h2c; a request whose body already went out fails with a clear 502 and the next one works', async () => {
  const a = await startH2cOnly();
  const b = await startH2cOnly();
  const p = await startProtocolProxy({ capture: { reverse: [{ port: 0, target: a.url }, { port: 0, target: b.url }] } });
  try {
    const [la, lb] = p.cap.reverseListeners;
    const first = await run('curl', ['-sS', '--http1.1', '-w', '\n%{http_code}', `${la!.url}/v1/first?x=1`]);
    const [firstBody, firstStatus] = first.stdout.split('\n');
    assert.equal(firstStatus, '200');
    assert.deepEqual(JSON.parse(firstBody!), { method: 'GET', path: '/v1/first?x=1', scheme: 'http', body: '' });
    const post = await run('curl', ['-sS', '--http1.1', '--data-binary', 'posted over h2c', `${la!.url}/v1/post`]);
    assert.deepEqual(JSON.parse(post.stdout), { method: 'POST', path: '/v1/post', scheme: 'http', body: 'posted over h2c' });

    // Listener b: the first request's body bytes reach the h2c server before it refuses h1.
    const answer = await rawRequest(lb!.port, `POST /v1/partial HTTP/1.1\r\nHost: ${lb!.host}:${lb!.port}\r\nContent-Length: 20\r\n\r\nfirst-half`);
    assert.match(answer, /^HTTP\/1\.1 502 /);
    assert.match(answer, /speaks only HTTP\/2/);
    const again = await run('curl', ['-sS', '--http1.1', '--data-binary', 'second try', `${lb!.url}/v1/partial`]);
    assert.deepEqual(JSON.parse(again.stdout), { method: 'POST', path: '/v1/partial', scheme: 'http', body: 'second try' });

    const recs = await p.waitFor(4);
    const [r1, r2] = [recs.find((r) => r.request!.url.endsWith('/v1/first?x=1'))!, recs.find((r) => r.request!.url.endsWith('/v1/post'))!];
    for (const r of [r1, r2]) {
      assert.equal(r.mode, 'reverse');
      assert.equal(r.request!.httpVersion, '1.1');
      assert.equal(r.response!.httpVersion, '2');
      assert.equal(r.error, null);
    }
    assert.equal(r1.request!.url, `${a.url}/v1/first?x=1`);
    assert.equal(r2.request!.body!.text, 'posted over h2c');
    const partial = recs.filter((r) => r.request!.url.endsWith('/v1/partial'));
    const failed = partial.find((r) => r.error)!;
    assert.equal(failed.error!.code, 'H2_ONLY_UPSTREAM');
    assert.equal(failed.error!.phase, 'protocol');
    assert.match(failed.error!.message, /part of the request body had been sent/);
    const ok = partial.find((r) => !r.error)!;
    assert.equal(ok.response!.httpVersion, '2');
    assert.equal(ok.request!.body!.text, 'second try');
    assert.ok(p.logs.some((l) => l.includes(`${b.url} speaks only HTTP/2`) && l.includes('h2c')), `${p.logs}`);
  } finally {
    await p.close();
    await a.close();
    await b.close();
  }
});

test('undici through CONNECT: 8 concurrent first requests to an unknown h2-only origin all succeed with their bodies; a client that cancels mid-stream is a client-abort and the upstream stream is cancelled', async () => {
  const gate = new StreamGate();
  const up = await startH2Upstream(h2OnlyRoutes(gate));
  const p = await startProtocolProxy();
  const agent = new ProxyAgent({ uri: p.url, requestTls: { ca: p.caPem } });
  try {
    const bodies = Array.from({ length: 8 }, (_, i) => `request ${i} `.repeat(1000 * (i + 1)));
    const answers = await Promise.all(
      bodies.map(async (b, i) => {
        const res = await request(`${up.url}/echo?i=${i}`, { method: 'POST', body: b, dispatcher: agent });
        return { status: res.statusCode, body: (await res.body.json()) as { bytes: number; sha256: string } };
      }),
    );
    answers.forEach((a, i) => {
      assert.equal(a.status, 200);
      assert.equal(a.body.bytes, Buffer.byteLength(bodies[i]!));
      assert.equal(a.body.sha256, createHash('sha256').update(bodies[i]!).digest('hex'));
    });
    const recs = await p.waitFor(8);
    for (const r of recs) {
      assertTranslated(r);
      assert.equal(r.error, null);
      const i = Number(new URL(r.request!.url).searchParams.get('i'));
      assert.equal(r.request!.body!.text, bodies[i]);
    }

    const res = await request(`${up.url}/sse`, { dispatcher: agent });
    const sse = await gate.next();
    const upstreamClosed = new Promise<number | undefined>((r) => sse.on('close', () => r(sse.rstCode)));
    const first = await new Promise<string>((r) => res.body.once('data', (d: Buffer) => r(d.toString())));
    assert.equal(first, 'data: 0\n\n');
    res.body.destroy();
    assert.equal(await upstreamClosed, C.NGHTTP2_CANCEL, 'the upstream stream is reset with CANCEL');
    const [abort] = await p.waitFor(1, (r) => r.request!.url.endsWith('/sse'));
    assertTranslated(abort!);
    assert.equal(abort!.error?.phase, 'client-abort');
    assert.equal(abort!.response!.body!.text, 'data: 0\n\n');
  } finally {
    await agent.destroy();
    await p.close();
    await up.close();
  }
});

test('backpressure both ways over the h1→h2 bridge: a client that stops reading stops the h2 upstream, an h2 upstream that stops reading stops the h1 upload', async () => {
  const PIECE = Buffer.alloc(64 * 1024, 'z');
  const TOTAL = 64 * 1024 * 1024;
  let written = 0;
  let reading!: () => void;
  const upstreamReads = new Promise<void>((r) => (reading = r));
  const up = await startH2Upstream((stream, headers) => {
    if (headers[':path'] === '/big') {
      stream.respond({ ':status': 200, 'content-length': String(TOTAL) });
      const pump = () => {
        while (written < TOTAL) {
          written += PIECE.length;
          if (!stream.write(PIECE)) return void stream.once('drain', pump);
        }
        stream.end();
      };
      return pump();
    }
    stream.pause();
    void upstreamReads.then(() => {
      let n = 0;
      stream.on('data', (c: Buffer) => (n += c.length));
      stream.on('end', () => {
        stream.respond({ ':status': 200 });
        stream.end(String(n));
      });
      stream.resume();
    });
  });
  const p = await startProtocolProxy({ capture: { maxBody: 1024 } });
  const agent = new ProxyAgent({ uri: p.url, requestTls: { ca: p.caPem } });
  try {
    const res = await request(`${up.url}/big`, { dispatcher: agent, highWaterMark: 64 * 1024 });
    await new Promise((r) => setTimeout(r, 700));
    assert.ok(written < 16 * 1024 * 1024, `upstream wrote ${written} bytes while the client read nothing`);
    let got = 0;
    for await (const c of res.body) got += (c as Buffer).length;
    assert.equal(got, TOTAL);
    assert.equal(written, TOTAL);

    let sent = 0;
    let stalled = false;
    const body = new Readable({
      read() {
        if (sent >= TOTAL) return void this.push(null);
        sent += PIECE.length;
        if (!this.push(PIECE)) stalled = true;
      },
    });
    const upload = request(`${up.url}/upload`, { method: 'POST', body, headers: { 'content-length': String(TOTAL) }, dispatcher: agent });
    await new Promise((r) => setTimeout(r, 700));
    assert.ok(sent < 16 * 1024 * 1024, `client pushed ${sent} bytes into a proxy whose upstream reads nothing`);
    assert.ok(stalled || sent < TOTAL, 'the client was held back');
    reading();
    const done = await upload;
    assert.equal(await done.body.text(), String(TOTAL));
    const recs = await p.waitFor(2);
    for (const r of recs) {
      assertTranslated(r);
      assert.equal(r.error, null);
    }
    assert.equal(byPath(recs, '/big').response!.body!.size, TOTAL);
    assert.equal(byPath(recs, '/upload').request!.body!.size, TOTAL);
  } finally {
    await agent.destroy();
    await p.close();
    await up.close();
  }
});

test('through a chained upstream proxy: an h1 client still reaches the h2-only origin over h2 inside the chained tunnel', async () => {
  const up = await startH2Upstream(h2OnlyRoutes(new StreamGate()));
  const chain = await startChainProxy();
  const p = await startProtocolProxy({ support: { upstreamProxy: chain.url } });
  try {
    const r = await run('curl', ['-sS', '--http1.1', '-x', p.url, '--cacert', p.caFile, '--data-binary', 'via the chain', '-w', '\n%{http_code}', `${up.url}/chained`]);
    const [body, status] = r.stdout.split('\n');
    assert.equal(status, '200');
    assert.equal(JSON.parse(body!).bytes, 'via the chain'.length);
    const [rec] = await p.waitFor(1);
    assertTranslated(rec!);
    assert.equal(rec!.error, null);
    assert.equal(rec!.request!.body!.text, 'via the chain');
    // The refused h1 attempt and the h2 session both went through the chained proxy.
    assert.ok(chain.connects.length >= 2, JSON.stringify(chain.connects));
    assert.ok(chain.connects.every((c) => c.authority === `127.0.0.1:${up.port}`));
  } finally {
    await p.close();
    await chain.close();
    await up.close();
  }
});
