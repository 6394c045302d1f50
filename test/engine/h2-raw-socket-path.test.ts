// The raw-socket HTTP/2 path (h2-wire.ts / h2-conn.ts) driven by real clients: which path serves
// a connection (http2Counts), full duplex and trailers, CONTINUATION, big bodies, 1xx, resets both
// ways, client protocol violations (GOAWAY / RST_STREAM with the right codes), Python httpx,
// upstream stream limits and upstream GOAWAY. Loopback only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import http2 from 'node:http2';
import type tls from 'node:tls';
import { promisify } from 'node:util';
import { headerValue, type CaptureRecord } from '../../src/capture/record.js';
import { CLIENT_PREFACE, FLAG, FRAME, FrameReader, frame, H2_ERROR, rstStreamFrame, SETTING, SETTINGS_ACK, settingsFrame, windowUpdateFrame } from '../../src/engine/h2-frame.js';
import { HpackDecoder, HpackEncoder } from '../../src/engine/hpack.js';
import { h2ThroughProxy, startH2Upstream, startProtocolProxy, tlsThroughProxy, type ProtocolProxy } from '../support/protocol-proxy.js';
import { startTestUpstream } from '../support/test-upstream.js';

const run = promisify(execFile);
/** A test that hangs fails on its own instead of stalling the file. */
const T = { timeout: 20_000 };

function counts(p: ProtocolProxy): { raw: number; node: number } {
  return { ...p.cap.proxy.http2Counts };
}

interface Reply {
  headers: http2.IncomingHttpHeaders;
  body: Buffer;
  trailers?: http2.IncomingHttpHeaders;
  informational: http2.IncomingHttpHeaders[];
}

function readAll(s: http2.ClientHttp2Stream): Promise<Reply> {
  return new Promise((resolve, reject) => {
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders | undefined;
    const informational: http2.IncomingHttpHeaders[] = [];
    const parts: Buffer[] = [];
    s.on('headers', (h) => informational.push(h));
    s.on('response', (h) => (headers = h));
    s.on('trailers', (t) => (trailers = t));
    s.on('data', (d: Buffer) => parts.push(d));
    s.on('end', () => resolve({ headers, body: Buffer.concat(parts), trailers, informational }));
    s.on('error', reject);
  });
}

const text = (r: Reply) => r.body.toString('utf8');
const byPath = (recs: CaptureRecord[], path: string) => recs.find((r) => r.request?.url.endsWith(path));

/** Close gracefully; destroy if a stream is still open after a moment (a failed test's leftovers). */
function closeSession(s: http2.ClientHttp2Session): Promise<void> {
  return new Promise((r) => {
    if (s.closed || s.destroyed) return r();
    const timer = setTimeout(() => s.destroy(), 2000);
    s.close(() => {
      clearTimeout(timer);
      r();
    });
  });
}

/**
 * The response body, then END_STREAM in a frame of its own (an empty DATA frame a turn later):
 * Node's `stream.end(body)` would put both in one frame.
 */
function endSeparately(stream: http2.ServerHttp2Stream, body: string | Buffer): void {
  stream.write(body);
  setImmediate(() => stream.end());
}

test('path choice: curl --http2 to an h2 origin is served by the raw path; an h2 client to an HTTP/1.1-only origin by Node http2', T, async () => {
  const { stdout: version } = await run('curl', ['--version']);
  assert.match(version, /HTTP2/, 'this curl lacks HTTP/2');
  const h2up = await startH2Upstream((stream, headers) => {
    stream.respond({ ':status': 200, 'content-type': 'text/plain', 'x-seen-proto': 'h2' });
    endSeparately(stream, `h2 upstream saw ${headers[':method']} ${headers[':path']} x-test=${headers['x-test']}`);
  });
  const h1up = await startTestUpstream((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`h1 upstream saw ${req.httpVersion} ${req.url}`);
  });
  const p = await startProtocolProxy();
  try {
    const c = await run('curl', ['-sS', '--http2', '-x', p.url, '--cacert', p.caFile, '-H', 'x-test: one', '-w', '\n%{http_version}', `${h2up.url}/raw/path?q=1`]);
    assert.equal(c.stdout, 'h2 upstream saw GET /raw/path?q=1 x-test=one\n2');
    const [raw] = await p.waitFor(1);
    assert.deepEqual(counts(p), { raw: 1, node: 0 });
    assert.equal(raw!.request!.url, `${h2up.url}/raw/path?q=1`);
    assert.equal(raw!.request!.httpVersion, '2');
    assert.equal(raw!.response!.httpVersion, '2');
    assert.equal(raw!.server.alpn, 'h2');
    assert.equal(headerValue(raw!.request!.headers, 'x-test'), 'one');
    assert.equal(headerValue(raw!.response!.headers, 'x-seen-proto'), 'h2');
    assert.equal(raw!.response!.body!.text, 'h2 upstream saw GET /raw/path?q=1 x-test=one');
    assert.equal(raw!.error, null);

    const s = await h2ThroughProxy(p.port, '127.0.0.1', h1up.port, p.caPem);
    try {
      const res = await readAll(s.request({ ':path': '/to/h1' }));
      assert.equal(res.headers[':status'], 200);
      assert.equal(text(res), 'h1 upstream saw 1.1 /to/h1');
    } finally {
      await closeSession(s);
    }
    const recs = await p.waitFor(2);
    assert.deepEqual(counts(p), { raw: 1, node: 1 });
    const viaNode = byPath(recs, '/to/h1')!;
    assert.equal(viaNode.request!.httpVersion, '2');
    assert.equal(viaNode.response!.httpVersion, '1.1');
    assert.equal(viaNode.server.alpn, 'http/1.1');
    assert.equal(viaNode.response!.body!.text, 'h1 upstream saw 1.1 /to/h1');
  } finally {
    await p.close();
    await h2up.close();
    await h1up.close();
  }
});

test('clients of one origin share the pooled upstream connection: the first connection probes the origin, later ones reuse it', T, async () => {
  const up = await startH2Upstream((stream, headers) => {
    stream.respond({ ':status': 200 });
    stream.end(`ok ${headers[':path']}`);
  });
  let upstreamConnections = 0;
  up.server.on('session', () => upstreamConnections++);
  const p = await startProtocolProxy();
  try {
    for (let i = 0; i < 3; i++) {
      const s = await h2ThroughProxy(p.port, '127.0.0.1', up.port, p.caPem);
      try {
        assert.equal(text(await readAll(s.request({ ':path': `/client/${i}` }))), `ok /client/${i}`);
      } finally {
        await closeSession(s);
      }
    }
    assert.equal(upstreamConnections, 1, 'three client connections, one upstream connection');
    const recs = await p.waitFor(3);
    assert.deepEqual(counts(p), { raw: 3, node: 0 });
    // The connection was made for the first client (the probe): its first request carries the connect time.
    const first = byPath(recs, '/client/0')!;
    assert.ok(typeof first.timing?.connectMs === 'number' && first.timing.connectMs > 0, `connectMs ${first.timing?.connectMs}`);
    assert.equal(byPath(recs, '/client/1')!.timing?.connectMs, undefined);
  } finally {
    await p.close();
    await up.close();
  }
});

test('an origin that drops h2 for HTTP/1.1 mid-run: the stream gets a 502 saying so and the client a GOAWAY; its next connection goes through Node http2 to HTTP/1.1', T, async () => {
  const https = await import('node:https');
  const { upstreamTestCa } = await import('../support/test-upstream.js');
  const up = await startH2Upstream((stream) => {
    stream.respond({ ':status': 200 });
    stream.end('from h2');
  });
  const port = up.port;
  const p = await startProtocolProxy();
  const s1 = await h2ThroughProxy(p.port, '127.0.0.1', port, p.caPem);
  let h1: import('node:https').Server | undefined;
  try {
    assert.equal(text(await readAll(s1.request({ ':path': '/before' }))), 'from h2');
    await up.close();
    // The same origin comes back speaking only HTTP/1.1.
    const leaf = await (await upstreamTestCa()).ca.leafFor('127.0.0.1');
    h1 = https.createServer({ cert: leaf.certPem, key: leaf.keyPem }, (req, res) => res.end(`from h1 ${req.url}`));
    await new Promise<void>((r) => h1!.listen(port, '127.0.0.1', r));
    const goaway = new Promise<void>((r) => s1.once('goaway', () => r()));
    const res = await readAll(s1.request({ ':path': '/after' }));
    assert.equal(res.headers[':status'], 502);
    assert.match(text(res), /no longer offers HTTP\/2/);
    await goaway;
    const s2 = await h2ThroughProxy(p.port, '127.0.0.1', port, p.caPem);
    try {
      assert.equal(text(await readAll(s2.request({ ':path': '/next' }))), 'from h1 /next');
    } finally {
      await closeSession(s2);
    }
    const recs = await p.waitFor(3);
    const after = byPath(recs, '/after')!;
    assert.deepEqual([after.error?.phase, after.error?.code], ['protocol', 'H2_NOT_OFFERED']);
    assert.equal(byPath(recs, '/next')!.server.alpn, 'http/1.1');
    assert.deepEqual(counts(p), { raw: 2, node: 1 });
  } finally {
    await closeSession(s1);
    await p.close();
    await new Promise((r) => h1?.close(r) ?? r(undefined));
  }
});

test('an upstream that answers before reading the body (then RST_STREAM NO_ERROR): the client sends its body undisturbed and the record keeps it; past 1 MiB the client is told to stop', T, async () => {
  const up = await startH2Upstream((stream, headers) => {
    // Answer at once without reading: Node's server then resets the stream with NO_ERROR.
    stream.respond({ ':status': headers[':path'] === '/big' ? 413 : 200 });
    stream.end('answered early');
  });
  const p = await startProtocolProxy();
  const session = await h2ThroughProxy(p.port, '127.0.0.1', up.port, p.caPem);
  try {
    const req = session.request({ ':method': 'POST', ':path': '/small', 'content-type': 'text/plain' });
    const done = readAll(req);
    for (const part of ['part one, ', 'part two, ', 'part three']) {
      req.write(part);
      await new Promise((r) => setTimeout(r, 30));
    }
    req.end();
    const res = await done;
    assert.equal(res.headers[':status'], 200);
    assert.equal(text(res), 'answered early');
    const [rec] = await p.waitFor(1);
    assert.equal(rec!.request!.body!.text, 'part one, part two, part three');
    assert.equal(rec!.error, null);

    // A client that keeps streaming is reset with NO_ERROR once 1 MiB went unread.
    const big = session.request({ ':method': 'POST', ':path': '/big' });
    const closed = new Promise<number | undefined>((r) => big.on('close', () => r(big.rstCode)));
    big.on('error', () => {});
    big.resume();
    let sent = 0;
    const chunk = Buffer.alloc(64 * 1024, 'b');
    while (!big.closed && !big.destroyed && sent < 8 * 1024 * 1024) {
      if (!big.write(chunk)) await new Promise((r) => (big.closed ? r(undefined) : big.once('drain', r) && big.once('close', r)));
      sent += chunk.length;
    }
    assert.equal(await closed, http2.constants.NGHTTP2_NO_ERROR);
    assert.ok(sent < 8 * 1024 * 1024, `the client was stopped (sent ${sent} bytes)`);
    const recs = await p.waitFor(2);
    const bigRec = byPath(recs, '/big')!;
    assert.equal(bigRec.response!.status, 413);
    assert.equal(bigRec.error, null);
  } finally {
    await closeSession(session);
    await p.close();
    await up.close();
  }
});

test('never-indexed fields stay never-indexed through the proxy (RFC 7541 6.2.3), both ways: a secret never enters a compression table', T, async () => {
  let upstreamSensitive: string[] = [];
  const up = await startH2Upstream((stream, headers) => {
    upstreamSensitive = [...((headers as Record<symbol, string[]>)[http2.sensitiveHeaders] ?? [])];
    stream.respond({ ':status': 200, 'x-session-token': 'tok-123', 'x-plain': 'p', [http2.sensitiveHeaders]: ['x-session-token'] });
    stream.end('ok');
  });
  const p = await startProtocolProxy();
  const session = await h2ThroughProxy(p.port, '127.0.0.1', up.port, p.caPem);
  try {
    const req = session.request({ ':path': '/secret', 'x-private-note': 'do not index me', 'x-ordinary': 'o', [http2.sensitiveHeaders]: ['x-private-note'] });
    let clientSensitive: string[] = [];
    req.on('response', (h) => (clientSensitive = [...((h as Record<symbol, string[]>)[http2.sensitiveHeaders] ?? [])]));
    assert.equal(text(await readAll(req)), 'ok');
    assert.ok(upstreamSensitive.includes('x-private-note'), `upstream saw never-indexed: ${upstreamSensitive.join(',')}`);
    assert.ok(!upstreamSensitive.includes('x-ordinary'));
    assert.ok(clientSensitive.includes('x-session-token'), `client saw never-indexed: ${clientSensitive.join(',')}`);
    assert.ok(!clientSensitive.includes('x-plain'));
    assert.deepEqual(counts(p), { raw: 1, node: 0 });
  } finally {
    await closeSession(session);
    await p.close();
    await up.close();
  }
});

test('Node http2 bidirectional echo on the raw path: each echo before the request ends; gRPC trailers both ways recorded', T, async () => {
  let upstreamSawTrailers: http2.IncomingHttpHeaders | undefined;
  const up = await startH2Upstream((stream) => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('trailers', (t) => (upstreamSawTrailers = t));
    stream.on('data', (c: Buffer) => stream.write(Buffer.concat([Buffer.from('echo:'), c])));
    stream.on('end', () => stream.end());
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': 'OK' }));
  });
  const p = await startProtocolProxy();
  const session = await h2ThroughProxy(p.port, '127.0.0.1', up.port, p.caPem);
  try {
    const req = session.request({ ':method': 'POST', ':path': '/pkg.Svc/Chat', 'content-type': 'application/grpc', te: 'trailers' }, { waitForTrailers: true });
    req.on('wantTrailers', () => req.sendTrailers({ 'x-client-checksum': 'abc123' }));
    let trailers: http2.IncomingHttpHeaders | undefined;
    req.on('trailers', (t) => (trailers = t));
    const echoes: string[] = [];
    for (const msg of ['one', 'two', 'three', 'four']) {
      const echoed = new Promise<string>((resolve) => req.once('data', (d: Buffer) => resolve(d.toString())));
      req.write(msg);
      // The request is still open: the echo must come through anyway (full duplex).
      echoes.push(await echoed);
    }
    assert.deepEqual(echoes, ['echo:one', 'echo:two', 'echo:three', 'echo:four']);
    const ended = new Promise<void>((r) => req.on('end', () => r()));
    req.resume();
    req.end();
    await ended;
    assert.equal(trailers?.['grpc-status'], '0');
    assert.equal(trailers?.['grpc-message'], 'OK');
    assert.equal(upstreamSawTrailers?.['x-client-checksum'], 'abc123');
    const [rec] = await p.waitFor(1);
    assert.deepEqual(counts(p), { raw: 1, node: 0 });
    assert.equal(rec!.request!.body!.text, 'onetwothreefour');
    assert.equal(rec!.request!.chunks!.length, 4);
    assert.equal(rec!.response!.body!.text, 'echo:oneecho:twoecho:threeecho:four');
    assert.deepEqual(rec!.response!.trailers, [['grpc-status', '0'], ['grpc-message', 'OK']]);
    assert.deepEqual(rec!.request!.trailers, [['x-client-checksum', 'abc123']]);
    assert.ok(rec!.response!.chunks![0]![0] < rec!.request!.chunks!.at(-1)![0], 'first echo recorded before the last request chunk');
    assert.equal(rec!.error, null);
  } finally {
    await closeSession(session);
    await p.close();
    await up.close();
  }
});

test('header blocks over 16 KB both ways (CONTINUATION): a 40 KB request header and a 40 KB response header arrive and are recorded intact', T, async () => {
  const bigReq = randomBytes(20_000).toString('hex');
  const bigRes = randomBytes(20_000).toString('hex');
  let seen: string | undefined;
  const up = await startH2Upstream((stream, headers) => {
    seen = headers['x-big-request'] as string;
    stream.respond({ ':status': 200, 'x-big-response': bigRes, 'content-type': 'text/plain' });
    stream.end(`got ${seen?.length}`);
  });
  const p = await startProtocolProxy();
  const session = await h2ThroughProxy(p.port, '127.0.0.1', up.port, p.caPem);
  try {
    const res = await readAll(session.request({ ':path': '/big-headers', 'x-big-request': bigReq }));
    assert.equal(seen, bigReq);
    assert.equal(res.headers['x-big-response'], bigRes);
    assert.equal(text(res), 'got 40000');
    const [rec] = await p.waitFor(1);
    assert.deepEqual(counts(p), { raw: 1, node: 0 });
    assert.equal(headerValue(rec!.request!.headers, 'x-big-request'), bigReq);
    assert.equal(headerValue(rec!.response!.headers, 'x-big-response'), bigRes);
    assert.equal(rec!.error, null);
  } finally {
    await closeSession(session);
    await p.close();
    await up.close();
  }
});

test('20 MB upload and 20 MB download on one stream each: sha256 equal on the other side, record sizes right', T, async () => {
  const SIZE = 20 * 1024 * 1024;
  const upload = randomBytes(SIZE);
  const download = randomBytes(SIZE);
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  let upstreamGot: { size: number; sha: string } | undefined;
  const up = await startH2Upstream((stream, headers) => {
    if (headers[':path'] === '/upload') {
      const h = createHash('sha256');
      let size = 0;
      stream.on('data', (c: Buffer) => {
        h.update(c);
        size += c.length;
      });
      stream.on('end', () => {
        upstreamGot = { size, sha: h.digest('hex') };
        stream.respond({ ':status': 200 });
        stream.end(`${size}`);
      });
    } else {
      stream.respond({ ':status': 200, 'content-type': 'application/octet-stream' });
      endSeparately(stream, download);
    }
  });
  const p = await startProtocolProxy({ capture: { maxBody: 4096 } });
  const session = await h2ThroughProxy(p.port, '127.0.0.1', up.port, p.caPem);
  try {
    const upReq = session.request({ ':method': 'POST', ':path': '/upload', 'content-type': 'application/octet-stream' });
    upReq.end(upload);
    const upRes = await readAll(upReq);
    assert.equal(text(upRes), String(SIZE));
    assert.deepEqual(upstreamGot, { size: SIZE, sha: sha(upload) });

    const downRes = await readAll(session.request({ ':path': '/download' }));
    assert.equal(downRes.body.length, SIZE);
    assert.equal(sha(downRes.body), sha(download));

    const recs = await p.waitFor(2);
    assert.deepEqual(counts(p), { raw: 2, node: 0 });
    const u = byPath(recs, '/upload')!;
    assert.equal(u.request!.body!.size, SIZE);
    assert.equal(u.request!.body!.truncated, true);
    assert.equal(u.request!.body!.sha256, sha(upload));
    assert.equal(u.error, null);
    const d = byPath(recs, '/download')!;
    assert.equal(d.response!.body!.size, SIZE);
    assert.equal(d.response!.body!.sha256, sha(download));
    assert.equal(d.error, null);
  } finally {
    await closeSession(session);
    await p.close();
    await up.close();
  }
});

test('103 Early Hints before the 200 reach the Node http2 client; the record keeps the final 200', T, async () => {
  const up = await startH2Upstream((stream) => {
    stream.additionalHeaders({ ':status': 103, link: '</style.css>; rel=preload; as=style' });
    setTimeout(() => {
      stream.respond({ ':status': 200, 'content-type': 'text/html' });
      endSeparately(stream, '<html>final</html>');
    }, 20);
  });
  const p = await startProtocolProxy();
  const session = await h2ThroughProxy(p.port, '127.0.0.1', up.port, p.caPem);
  try {
    const res = await readAll(session.request({ ':path': '/page' }));
    assert.equal(res.informational.length, 1);
    assert.equal(res.informational[0]![':status'], 103);
    assert.equal(res.informational[0]!.link, '</style.css>; rel=preload; as=style');
    assert.equal(res.headers[':status'], 200);
    assert.equal(text(res), '<html>final</html>');
    const [rec] = await p.waitFor(1);
    assert.deepEqual(counts(p), { raw: 1, node: 0 });
    assert.equal(rec!.response!.status, 200);
    assert.equal(rec!.response!.body!.text, '<html>final</html>');
    assert.equal(rec!.error, null);
  } finally {
    await closeSession(session);
    await p.close();
    await up.close();
  }
});

// ---- a hand-written h2 client for frames Node's client would never send ----

interface Frame {
  type: number;
  flags: number;
  sid: number;
  payload: Buffer;
  /** Decoded header block (HEADERS with END_HEADERS). */
  headers?: string[];
}

class RawClient {
  readonly frames: Frame[] = [];
  readonly enc = new HpackEncoder();
  private readonly dec = new HpackDecoder();
  private readonly waiters = new Set<() => void>();
  closed = false;
  readonly closedP: Promise<void>;

  constructor(
    readonly sock: tls.TLSSocket,
    settings: Array<[number, number]> = [],
  ) {
    const reader = new FrameReader((type, flags, sid, payload) => {
      const f: Frame = { type, flags, sid, payload: Buffer.from(payload) };
      if (type === FRAME.HEADERS && flags & FLAG.END_HEADERS) f.headers = this.dec.decode(f.payload);
      if (type === FRAME.SETTINGS && !(flags & FLAG.ACK)) sock.write(SETTINGS_ACK);
      this.frames.push(f);
      this.wake();
    });
    reader.maxFrameSize = 1 << 24;
    sock.on('data', (c: Buffer) => reader.push(c));
    sock.on('error', () => {});
    this.closedP = new Promise((r) =>
      sock.on('close', () => {
        this.closed = true;
        this.wake();
        r();
      }),
    );
    sock.write(Buffer.concat([CLIENT_PREFACE, settingsFrame(settings)]));
  }

  private wake(): void {
    for (const w of this.waiters) w();
  }

  send(...bufs: Buffer[]): void {
    this.sock.write(Buffer.concat(bufs));
  }

  headers(sid: number, flat: string[], endStream = true): Buffer {
    return frame(FRAME.HEADERS, FLAG.END_HEADERS | (endStream ? FLAG.END_STREAM : 0), sid, this.enc.encode(flat));
  }

  waitFrame(pred: (f: Frame) => boolean, what: string, timeoutMs = 5000): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const f = this.frames.find(pred);
        if (f || this.closed) {
          this.waiters.delete(check);
          clearTimeout(timer);
          if (f) resolve(f);
          else reject(new Error(`connection closed before ${what}; frames: ${this.frames.map((x) => `${x.type}/${x.sid}`).join(' ')}`));
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; frames: ${this.frames.map((x) => `${x.type}/${x.sid}`).join(' ')}`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** The response on `sid`: status and body, up to END_STREAM (or a RST_STREAM). */
  async response(sid: number): Promise<{ status: string; body: string; rst?: number }> {
    const end = await this.waitFrame((f) => f.sid === sid && (f.type === FRAME.RST_STREAM || ((f.type === FRAME.DATA || f.type === FRAME.HEADERS) && (f.flags & FLAG.END_STREAM) !== 0)), `the end of stream ${sid}`);
    const mine = this.frames.filter((f) => f.sid === sid);
    const head = mine.find((f) => f.type === FRAME.HEADERS);
    const body = Buffer.concat(mine.filter((f) => f.type === FRAME.DATA).map((f) => f.payload)).toString();
    return { status: head?.headers?.[1] ?? '', body, rst: end.type === FRAME.RST_STREAM ? end.payload.readUInt32BE(0) : undefined };
  }

  destroy(): void {
    this.sock.destroy();
  }
}

function request(authority: string, path: string, extra: string[] = []): string[] {
  return [':method', 'GET', ':scheme', 'https', ':authority', authority, ':path', path, ...extra];
}

const violations: Array<{ name: string; bad: (c: RawClient) => Buffer; code: number; codeName: string }> = [
  { name: 'DATA on stream 0', bad: () => frame(FRAME.DATA, 0, 0, Buffer.from('hello')), code: H2_ERROR.PROTOCOL_ERROR, codeName: 'PROTOCOL_ERROR' },
  // Indexed field 0 is never valid (RFC 7541 6.1).
  { name: 'an invalid HPACK block', bad: () => frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, 3, Buffer.from([0x80])), code: H2_ERROR.COMPRESSION_ERROR, codeName: 'COMPRESSION_ERROR' },
  { name: 'a WINDOW_UPDATE past 2^31-1 on the connection', bad: () => windowUpdateFrame(0, 0x7fffffff), code: H2_ERROR.FLOW_CONTROL_ERROR, codeName: 'FLOW_CONTROL_ERROR' },
  {
    name: 'a PUSH_PROMISE from the client',
    bad: (c) => {
      const block = c.enc.encode(request('x', '/pushed'));
      const promised = Buffer.alloc(4);
      promised.writeUInt32BE(2);
      return frame(FRAME.PUSH_PROMISE, FLAG.END_HEADERS, 1, Buffer.concat([promised, block]));
    },
    code: H2_ERROR.PROTOCOL_ERROR,
    codeName: 'PROTOCOL_ERROR',
  },
];

for (const v of violations) {
  test(`client protocol violation on the raw path, ${v.name}: GOAWAY ${v.codeName}, a protocol record, and the proxy serves the next client`, T, async () => {
    const up = await startH2Upstream((stream, headers) => {
      stream.respond({ ':status': 200, 'content-type': 'text/plain' });
      endSeparately(stream, `ok ${headers[':path']}`);
    });
    const p = await startProtocolProxy();
    const authority = `127.0.0.1:${up.port}`;
    const c = new RawClient(await tlsThroughProxy(p.port, '127.0.0.1', up.port, p.caPem, ['h2']));
    try {
      assert.equal(c.sock.alpnProtocol, 'h2');
      // A valid request first: this connection is on the raw path.
      c.send(c.headers(1, request(authority, '/first')));
      assert.deepEqual(await c.response(1), { status: '200', body: 'ok /first', rst: undefined });
      assert.deepEqual(counts(p), { raw: 1, node: 0 });
      c.send(v.bad(c));
      const goaway = await c.waitFrame((f) => f.type === FRAME.GOAWAY, 'GOAWAY');
      assert.equal(goaway.payload.readUInt32BE(4), v.code, `GOAWAY code (debug: ${goaway.payload.subarray(8).toString()})`);
      assert.equal(goaway.payload.readUInt32BE(0) & 0x7fffffff, 1, 'last stream id: the one valid stream');
      await c.closedP;
      const [bad] = await p.waitFor(1, (r) => r.error?.phase === 'protocol');
      assert.equal(bad!.error!.code, v.codeName);
      assert.match(bad!.error!.message, /malformed HTTP\/2 from the client/);

      const next = await h2ThroughProxy(p.port, '127.0.0.1', up.port, p.caPem);
      try {
        assert.equal(text(await readAll(next.request({ ':path': '/second-client' }))), 'ok /second-client');
      } finally {
        await closeSession(next);
      }
      const recs = await p.waitFor(3);
      assert.deepEqual(counts(p), { raw: 2, node: 0 });
      assert.equal(byPath(recs, '/first')!.error, null);
      assert.equal(byPath(recs, '/second-client')!.response!.body!.text, 'ok /second-client');
    } finally {
      c.destroy();
      await p.close();
      await up.close();
    }
  });
}

test('rapid reset (CVE-2023-44487): a client opening and cancelling streams faster than 500 a second gets GOAWAY ENHANCE_YOUR_CALM; others are served', T, async () => {
  const up = await startH2Upstream((stream, headers) => {
    stream.on('error', () => {});
    // Slow to answer: each cancelled stream really cost the upstream a request.
    setTimeout(() => {
      if (stream.destroyed) return;
      stream.respond({ ':status': 200 });
      stream.end(`ok ${headers[':path']}`);
    }, 200);
  });
  const p = await startProtocolProxy();
  const authority = `127.0.0.1:${up.port}`;
  const c = new RawClient(await tlsThroughProxy(p.port, '127.0.0.1', up.port, p.caPem, ['h2']));
  try {
    const burst: Buffer[] = [];
    for (let i = 0; i < 600; i++) {
      const sid = 1 + i * 2;
      burst.push(c.headers(sid, request(authority, `/r/${i}`)), rstStreamFrame(sid, H2_ERROR.CANCEL));
    }
    c.send(...burst);
    const goaway = await c.waitFrame((f) => f.type === FRAME.GOAWAY, 'GOAWAY');
    assert.equal(goaway.payload.readUInt32BE(4), H2_ERROR.ENHANCE_YOUR_CALM);
    assert.match(goaway.payload.subarray(8).toString(), /reset by the client/);
    await c.closedP;
    const [bad] = await p.waitFor(1, (r) => r.error?.phase === 'protocol');
    assert.equal(bad!.error!.code, 'ENHANCE_YOUR_CALM');
    const next = await h2ThroughProxy(p.port, '127.0.0.1', up.port, p.caPem);
    try {
      assert.equal(text(await readAll(next.request({ ':path': '/after' }))), 'ok /after');
    } finally {
      await closeSession(next);
    }
  } finally {
    c.destroy();
    await p.close();
    await up.close();
  }
});

test('a malformed request head (upper-case or invalid field name, connection header, CR LF in a value, duplicate pseudo-header) gets RST_STREAM PROTOCOL_ERROR; the upstream sees nothing; the connection goes on', T, async () => {
  const seen: string[] = [];
  const up = await startH2Upstream((stream, headers) => {
    seen.push(headers[':path'] as string);
    stream.respond({ ':status': 200, 'content-type': 'text/plain' });
    stream.end(`ok ${headers[':path']}`);
  });
  const p = await startProtocolProxy();
  const authority = `127.0.0.1:${up.port}`;
  const c = new RawClient(await tlsThroughProxy(p.port, '127.0.0.1', up.port, p.caPem, ['h2']));
  try {
    c.send(c.headers(1, request(authority, '/upper', ['X-Upper', 'yes'])));
    assert.deepEqual(await c.response(1), { status: '', body: '', rst: H2_ERROR.PROTOCOL_ERROR });
    c.send(c.headers(3, request(authority, '/connection', ['connection', 'keep-alive'])));
    assert.deepEqual(await c.response(3), { status: '', body: '', rst: H2_ERROR.PROTOCOL_ERROR });
    // A CR LF in a value would split the request on an HTTP/1.1 hop behind the upstream.
    c.send(c.headers(5, request(authority, '/crlf', ['x-inject', 'a\r\nx-evil: 1'])));
    assert.deepEqual(await c.response(5), { status: '', body: '', rst: H2_ERROR.PROTOCOL_ERROR });
    c.send(c.headers(7, [...request(authority, '/dup'), ':path', '/again']));
    assert.deepEqual(await c.response(7), { status: '', body: '', rst: H2_ERROR.PROTOCOL_ERROR });
    c.send(c.headers(9, request(authority, '/name', ['bad name', 'x'])));
    assert.deepEqual(await c.response(9), { status: '', body: '', rst: H2_ERROR.PROTOCOL_ERROR });
    c.send(c.headers(11, request(authority, '/valid', ['x-fine', 'yes'])));
    assert.deepEqual(await c.response(11), { status: '200', body: 'ok /valid', rst: undefined });
    assert.ok(!c.frames.some((f) => f.type === FRAME.GOAWAY), 'no GOAWAY: only the streams were bad');
    assert.deepEqual(seen, ['/valid']);
    const recs = await p.waitFor(1);
    assert.deepEqual(counts(p), { raw: 1, node: 0 });
    assert.equal(recs[0]!.request!.url, `${up.url}/valid`);
    assert.equal(recs[0]!.error, null);
  } finally {
    c.destroy();
    await p.close();
    await up.close();
  }
});

test('raw frames a real client may send: PING answered, a header block over CONTINUATION frames and padded DATA recorded clean, a small stream window respected', T, async () => {
  const big = randomBytes(50_000);
  const up = await startH2Upstream((stream, headers) => {
    if (headers[':path'] === '/big') {
      stream.respond({ ':status': 200, 'content-type': 'application/octet-stream' });
      return endSeparately(stream, big);
    }
    const parts: Buffer[] = [];
    stream.on('data', (c: Buffer) => parts.push(c));
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'text/plain' });
      endSeparately(stream, `got ${Buffer.concat(parts).toString()} x-long=${(headers['x-long'] as string).length}`);
    });
  });
  const p = await startProtocolProxy();
  const authority = `127.0.0.1:${up.port}`;
  const WINDOW = 1000;
  const c = new RawClient(await tlsThroughProxy(p.port, '127.0.0.1', up.port, p.caPem, ['h2']), [[SETTING.INITIAL_WINDOW_SIZE, WINDOW]]);
  try {
    c.send(frame(FRAME.PING, 0, 0, Buffer.from('pingpong')));
    const pong = await c.waitFrame((f) => f.type === FRAME.PING && (f.flags & FLAG.ACK) !== 0, 'PING ACK');
    assert.equal(pong.payload.toString(), 'pingpong');

    // HEADERS + two CONTINUATION frames, then DATA with 10 bytes of padding.
    const long = 'L'.repeat(3000);
    const block = c.enc.encode([':method', 'POST', ':scheme', 'https', ':authority', authority, ':path', '/upload', 'content-type', 'text/plain', 'x-long', long]);
    const cut1 = 100;
    const cut2 = 1500;
    const body = Buffer.from('hello padded world');
    c.send(
      frame(FRAME.HEADERS, 0, 1, block.subarray(0, cut1)),
      frame(FRAME.CONTINUATION, 0, 1, block.subarray(cut1, cut2)),
      frame(FRAME.CONTINUATION, FLAG.END_HEADERS, 1, block.subarray(cut2)),
      frame(FRAME.DATA, FLAG.PADDED | FLAG.END_STREAM, 1, Buffer.concat([Buffer.from([10]), body, Buffer.alloc(10)])),
    );
    assert.deepEqual(await c.response(1), { status: '200', body: 'got hello padded world x-long=3000', rst: undefined });

    // Our stream window is 1000 bytes: the proxy sends that much of the 50 KB, then waits for us.
    c.send(c.headers(3, request(authority, '/big')));
    const dataOn3 = () => c.frames.filter((f) => f.sid === 3 && f.type === FRAME.DATA).reduce((n, f) => n + f.payload.length, 0);
    await c.waitFrame((f) => f.sid === 3 && f.type === FRAME.DATA && dataOn3() >= WINDOW, 'the first window of DATA');
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(dataOn3(), WINDOW, 'no DATA beyond the window we gave');
    c.send(windowUpdateFrame(3, big.length - WINDOW));
    const res = await c.response(3);
    assert.equal(res.status, '200');
    assert.ok(Buffer.concat(c.frames.filter((f) => f.sid === 3 && f.type === FRAME.DATA).map((f) => f.payload)).equals(big), 'the whole 50 KB, in order');

    const recs = await p.waitFor(2);
    assert.deepEqual(counts(p), { raw: 2, node: 0 });
    const u = byPath(recs, '/upload')!;
    assert.equal(u.request!.body!.text, 'hello padded world');
    assert.equal(headerValue(u.request!.headers, 'x-long'), long);
    assert.equal(u.error, null);
    const b = byPath(recs, '/big')!;
    assert.equal(b.response!.body!.size, big.length);
    assert.equal(b.error, null);
  } finally {
    c.destroy();
    await p.close();
    await up.close();
  }
});

test('h2c prior knowledge on a reverse listener to an https h2 origin is served by the raw path', T, async () => {
  const up = await startH2Upstream((stream, headers) => {
    stream.respond({ ':status': 200, 'content-type': 'text/plain' });
    endSeparately(stream, `origin saw ${headers[':scheme']}://${headers[':authority']}${headers[':path']}`);
  });
  const p = await startProtocolProxy({ capture: { reverse: [{ port: 0, target: up.url }] } });
  const listener = p.cap.reverseListeners[0]!;
  const session = http2.connect(listener.url);
  try {
    const res = await readAll(session.request({ ':path': '/v1/messages' }));
    assert.equal(text(res), `origin saw https://127.0.0.1:${up.port}/v1/messages`);
    const [rec] = await p.waitFor(1);
    assert.deepEqual(counts(p), { raw: 1, node: 0 });
    assert.equal(rec!.mode, 'reverse');
    assert.equal(rec!.request!.url, `${up.url}/v1/messages`);
    assert.equal(rec!.server.listener, listener.url);
    assert.equal(rec!.response!.body!.text, `origin saw https://127.0.0.1:${up.port}/v1/messages`);
    assert.equal(rec!.error, null);
  } finally {
    await closeSession(session);
    await p.close();
    await up.close();
  }
});

for (const tableSize of [4096, 0]) {
  test(`200 sequential requests with changing headers on one session, HPACK table size ${tableSize} on both peers: every head intact both ways`, T, async () => {
    const up = await startH2Upstream((stream, headers) => {
      stream.respond({ ':status': 200, 'content-type': 'text/plain', 'x-echo-id': headers['x-id'] as string, 'x-echo-big': headers['x-big'] as string, 'x-fixed': 'same-every-time' });
      endSeparately(stream, `${headers[':path']} ${headers['x-id']} ${(headers['x-big'] as string).length}`);
    });
    up.server.updateSettings({ headerTableSize: tableSize });
    const p = await startProtocolProxy();
    const sock = await tlsThroughProxy(p.port, '127.0.0.1', up.port, p.caPem, ['h2']);
    const session = http2.connect(`https://127.0.0.1:${up.port}`, { createConnection: () => sock, settings: { headerTableSize: tableSize } });
    try {
      for (let i = 0; i < 200; i++) {
        // Values that differ per request and a big one that cycles: entries are added and evicted.
        const big = String.fromCharCode(97 + (i % 7)).repeat(300 + (i % 13) * 50);
        const res = await readAll(session.request({ ':path': `/h/${i}`, 'x-id': `id-${i}-${i * 7919}`, 'x-big': big, 'x-fixed': 'same-every-time' }));
        assert.equal(text(res), `/h/${i} id-${i}-${i * 7919} ${big.length}`);
        assert.equal(res.headers['x-echo-id'], `id-${i}-${i * 7919}`);
        assert.equal(res.headers['x-echo-big'], big);
      }
      const recs = await p.waitFor(200);
      assert.deepEqual(counts(p), { raw: 200, node: 0 });
      for (const i of [0, 1, 57, 113, 199]) {
        const r = byPath(recs, `/h/${i}`)!;
        assert.equal(headerValue(r.request!.headers, 'x-id'), `id-${i}-${i * 7919}`);
        assert.equal(headerValue(r.response!.headers, 'x-echo-id'), `id-${i}-${i * 7919}`);
        assert.equal(headerValue(r.response!.headers, 'x-fixed'), 'same-every-time');
      }
    } finally {
      await closeSession(session);
      await p.close();
      await up.close();
    }
  });
}

test('Debian python3 httpx (h2) makes 20 concurrent POSTs on the raw path; every record right', T, async () => {
  const up = await startH2Upstream((stream, headers) => {
    const parts: Buffer[] = [];
    stream.on('data', (c: Buffer) => parts.push(c));
    stream.on('end', () => {
      const body = JSON.parse(Buffer.concat(parts).toString()) as { i: number; pad: string };
      stream.respond({ ':status': 200, 'content-type': 'application/json' });
      setTimeout(() => endSeparately(stream, JSON.stringify({ path: headers[':path'], i: body.i, padLen: body.pad.length })), 10);
    });
  });
  const p = await startProtocolProxy();
  try {
    // httpx 0.23 (Debian bookworm) takes `proxies=`; later versions `proxy=`.
    const script = [
      'import asyncio, httpx, inspect, json',
      `kw = {"proxy": "${p.url}"} if "proxy" in inspect.signature(httpx.AsyncClient.__init__).parameters else {"proxies": "${p.url}"}`,
      'async def main():',
      `    async with httpx.AsyncClient(http2=True, verify="${p.caFile}", **kw) as c:`,
      `        rs = await asyncio.gather(*[c.post(f"${up.url}/v1/item/{i}", json={"i": i, "pad": "x" * (1000 * i)}) for i in range(20)])`,
      '        for r in rs: print(r.http_version, r.status_code, r.text)',
      'asyncio.run(main())',
    ].join('\n');
    const { stdout } = await run('/usr/bin/python3', ['-c', script]);
    const lines = stdout.trim().split('\n');
    assert.equal(lines.length, 20);
    lines.forEach((l, i) => assert.equal(l, `HTTP/2 200 {"path":"/v1/item/${i}","i":${i},"padLen":${1000 * i}}`));
    const recs = await p.waitFor(20);
    assert.deepEqual(counts(p), { raw: 20, node: 0 });
    for (let i = 0; i < 20; i++) {
      const r = byPath(recs, `/v1/item/${i}`)!;
      assert.equal(r.request!.method, 'POST');
      assert.equal(r.request!.httpVersion, '2');
      assert.deepEqual(JSON.parse(r.request!.body!.text!), { i, pad: 'x'.repeat(1000 * i) });
      assert.equal(r.response!.status, 200);
      assert.deepEqual(JSON.parse(r.response!.body!.text!), { path: `/v1/item/${i}`, i, padLen: 1000 * i });
      assert.equal(r.server.alpn, 'h2');
      assert.equal(r.error, null);
    }
  } finally {
    await p.close();
    await up.close();
  }
});

test('an upstream ending responses with RST_STREAM(NO_ERROR) instead of END_STREAM: the client gets the whole body and a clean end', T, async () => {
  const body = Buffer.alloc(300_000, 'r');
  const up = await startH2Upstream((stream, headers) => {
    stream.respond({ ':status': 200, 'content-type': 'text/plain' });
    const payload = headers[':path'] === '/big' ? body : Buffer.from('small body');
    stream.write(payload, () => stream.close(http2.constants.NGHTTP2_NO_ERROR));
  });
  const p = await startProtocolProxy();
  const session = await h2ThroughProxy(p.port, '127.0.0.1', up.port, p.caPem);
  try {
    for (const path of ['/small', '/big']) {
      const req = session.request({ ':path': path });
      const res = await readAll(req);
      await new Promise<void>((r) => (req.closed ? r() : req.once('close', () => r())));
      assert.equal(req.rstCode, http2.constants.NGHTTP2_NO_ERROR);
      assert.equal(res.headers[':status'], 200);
      assert.ok(res.body.equals(path === '/big' ? body : Buffer.from('small body')), `${path}: whole body (${res.body.length} bytes)`);
    }
    const recs = await p.waitFor(2);
    assert.deepEqual(counts(p), { raw: 2, node: 0 });
    assert.equal(byPath(recs, '/small')!.response!.body!.text, 'small body');
    assert.equal(byPath(recs, '/big')!.response!.body!.size, body.length);
    for (const r of recs) assert.equal(r.error, null);
  } finally {
    await closeSession(session);
    await p.close();
    await up.close();
  }
});

test('an upstream connection that dies before responding: the client gets a 502 saying so, the record is upstream-reset, the session goes on', T, async () => {
  const up = await startH2Upstream((stream, headers) => {
    if (headers[':path'] === '/die') return void stream.session!.destroy();
    stream.respond({ ':status': 200, 'content-type': 'text/plain' });
    endSeparately(stream, 'alive');
  });
  const p = await startProtocolProxy();
  const session = await h2ThroughProxy(p.port, '127.0.0.1', up.port, p.caPem);
  try {
    const dead = await readAll(session.request({ ':path': '/die' }));
    assert.equal(dead.headers[':status'], 502);
    assert.equal(text(dead), `agenttap: upstream ${up.url} failed: upstream closed the connection before responding\n`);
    assert.equal(text(await readAll(session.request({ ':path': '/after' }))), 'alive');
    const recs = await p.waitFor(2);
    assert.deepEqual(counts(p), { raw: 2, node: 0 });
    const d = byPath(recs, '/die')!;
    assert.equal(d.error?.phase, 'upstream-reset');
    assert.equal(d.error?.code, 'ECONNRESET');
    assert.equal(d.response, undefined);
    assert.equal(byPath(recs, '/after')!.response!.body!.text, 'alive');
  } finally {
    await closeSession(session);
    await p.close();
    await up.close();
  }
});

test('a request body that arrives while a new upstream connection is still being made is sent whole and recorded in order', T, async () => {
  const sessions = new Set<http2.Http2Session>();
  let release: (() => void) | undefined;
  const uploads: string[] = [];
  const up = await startH2Upstream((stream, headers) => {
    sessions.add(stream.session!);
    const path = headers[':path'];
    if (path === '/hold') {
      stream.respond({ ':status': 200, 'content-type': 'text/plain' });
      stream.write('held ');
      release = () => stream.end('released');
      return;
    }
    const parts: Buffer[] = [];
    stream.on('data', (c: Buffer) => parts.push(c));
    stream.on('end', () => {
      uploads.push(Buffer.concat(parts).toString());
      stream.respond({ ':status': 200, 'content-type': 'text/plain' });
      endSeparately(stream, `${path} got ${Buffer.concat(parts).length} bytes`);
    });
  });
  // One stream per upstream connection: a second stream needs a second connection.
  up.server.updateSettings({ maxConcurrentStreams: 1 });
  const p = await startProtocolProxy();
  const session = await h2ThroughProxy(p.port, '127.0.0.1', up.port, p.caPem);
  try {
    // The warm-up's answer comes after the upstream's SETTINGS: the proxy knows the limit now.
    assert.equal(text(await readAll(session.request({ ':method': 'POST', ':path': '/warm' }).end('w'))), '/warm got 1 bytes');
    const hold = session.request({ ':path': '/hold' });
    const held = readAll(hold);
    await new Promise((r) => hold.once('data', r));
    const upload = session.request({ ':method': 'POST', ':path': '/upload', 'content-type': 'text/plain' });
    const done = readAll(upload);
    upload.write('first piece, ');
    upload.write('second piece, ');
    upload.end('last piece');
    assert.equal(text(await done), '/upload got 37 bytes');
    assert.deepEqual(uploads, ['w', 'first piece, second piece, last piece']);
    assert.equal(sessions.size, 2, 'the upload went on a second upstream connection');
    release!();
    assert.equal(text(await held), 'held released');
    const recs = await p.waitFor(3);
    assert.deepEqual(counts(p), { raw: 3, node: 0 });
    const u = byPath(recs, '/upload')!;
    assert.equal(u.request!.body!.text, 'first piece, second piece, last piece');
    assert.equal(u.response!.body!.text, '/upload got 37 bytes');
    assert.equal(u.error, null);
    assert.equal(byPath(recs, '/hold')!.error, null);
  } finally {
    release?.();
    await closeSession(session);
    await p.close();
    await up.close();
  }
});

test('upstream graceful GOAWAY mid-run: later requests on the same client session succeed on a new upstream connection', T, async () => {
  const sessions = new Set<http2.Http2Session>();
  let served = 0;
  const up = await startH2Upstream((stream, headers) => {
    sessions.add(stream.session!);
    served++;
    stream.respond({ ':status': 200, 'content-type': 'text/plain' });
    stream.end(`reply ${headers[':path']}`);
    // After the third answer, this upstream connection takes no new streams.
    if (served === 3) stream.session!.goaway(http2.constants.NGHTTP2_NO_ERROR);
  });
  const p = await startProtocolProxy();
  const session = await h2ThroughProxy(p.port, '127.0.0.1', up.port, p.caPem);
  try {
    for (let i = 0; i < 6; i++) assert.equal(text(await readAll(session.request({ ':path': `/seq/${i}` }))), `reply /seq/${i}`);
    const burst = await Promise.all(Array.from({ length: 5 }, (_, i) => readAll(session.request({ ':path': `/burst/${i}` }))));
    burst.forEach((r, i) => assert.equal(text(r), `reply /burst/${i}`));
    assert.equal(sessions.size, 2, 'a second upstream connection after the GOAWAY');
    const recs = await p.waitFor(11);
    assert.deepEqual(counts(p), { raw: 11, node: 0 });
    for (const r of recs) assert.equal(r.error, null, `${r.request?.url}: ${JSON.stringify(r.error)}`);
  } finally {
    await closeSession(session);
    await p.close();
    await up.close();
  }
});

test('a final DATA frame carrying both bytes and END_STREAM: those bytes are in the record (Node\'s stream.end(body))', T, async () => {
  const up = await startH2Upstream((stream, headers) => {
    stream.respond({ ':status': 200, 'content-type': 'text/plain' });
    // One DATA frame: "hello <path>" with END_STREAM.
    stream.end(`hello ${headers[':path']}`);
  });
  const p = await startProtocolProxy();
  const session = await h2ThroughProxy(p.port, '127.0.0.1', up.port, p.caPem);
  try {
    for (const path of ['/one', '/two']) assert.equal(text(await readAll(session.request({ ':path': path }))), `hello ${path}`);
    const recs = await p.waitFor(2);
    assert.deepEqual(counts(p), { raw: 2, node: 0 });
    for (const path of ['/one', '/two']) {
      const r = byPath(recs, path)!;
      assert.equal(r.error, null);
      assert.deepEqual(r.response!.chunks!.map((c) => c[1]), [`hello ${path}`.length], `${path}: recorded chunks`);
      assert.equal(r.response!.body?.text, `hello ${path}`);
    }
  } finally {
    await closeSession(session);
    await p.close();
    await up.close();
  }
});

test('a headers-only response (204, END_STREAM on HEADERS): the record keeps the response head', T, async () => {
  const up = await startH2Upstream((stream) => {
    stream.respond({ ':status': 204, 'x-upstream': 'yes' }, { endStream: true });
  });
  const p = await startProtocolProxy();
  const session = await h2ThroughProxy(p.port, '127.0.0.1', up.port, p.caPem);
  try {
    const res = await readAll(session.request({ ':method': 'DELETE', ':path': '/thing/1' }));
    assert.equal(res.headers[':status'], 204);
    assert.equal(res.headers['x-upstream'], 'yes');
    const [rec] = await p.waitFor(1);
    assert.deepEqual(counts(p), { raw: 1, node: 0 });
    assert.equal(rec!.error, null);
    assert.equal(rec!.response?.status, 204, `record: ${JSON.stringify(rec)}`);
    assert.equal(headerValue(rec!.response!.headers, 'x-upstream'), 'yes');
  } finally {
    await closeSession(session);
    await p.close();
    await up.close();
  }
});

test('a HEAD request (response HEADERS with END_STREAM): the record keeps status and content-length', T, async () => {
  const up = await startH2Upstream((stream) => {
    stream.respond({ ':status': 200, 'content-length': '1234', 'content-type': 'application/json' }, { endStream: true });
  });
  const p = await startProtocolProxy();
  const session = await h2ThroughProxy(p.port, '127.0.0.1', up.port, p.caPem);
  try {
    const res = await readAll(session.request({ ':method': 'HEAD', ':path': '/v1/models' }));
    assert.equal(res.headers[':status'], 200);
    assert.equal(res.headers['content-length'], '1234');
    const [rec] = await p.waitFor(1);
    assert.equal(rec!.request!.method, 'HEAD');
    assert.equal(rec!.response?.status, 200, `record: ${JSON.stringify(rec)}`);
    assert.equal(headerValue(rec!.response!.headers, 'content-length'), '1234');
  } finally {
    await closeSession(session);
    await p.close();
    await up.close();
  }
});

test('client cancel mid-response: the upstream stream is cancelled, the record is client-abort RST_STREAM CANCEL, the session still works', T, async () => {
  let upstreamCancel: Promise<{ aborted: boolean; rstCode: number }> | undefined;
  const up = await startH2Upstream((stream, headers) => {
    stream.respond({ ':status': 200, 'content-type': 'text/event-stream' });
    if (headers[':path'] !== '/stream') return void stream.end('data: next\n\n');
    let aborted = false;
    stream.on('aborted', () => (aborted = true));
    upstreamCancel = new Promise((resolve) => stream.on('close', () => resolve({ aborted, rstCode: stream.rstCode ?? -1 })));
    stream.write('data: first\n\n');
    const timer = setInterval(() => {
      if (!stream.destroyed) stream.write('data: more\n\n');
    }, 20);
    stream.on('close', () => clearInterval(timer));
  });
  const p = await startProtocolProxy();
  const session = await h2ThroughProxy(p.port, '127.0.0.1', up.port, p.caPem);
  try {
    const req = session.request({ ':path': '/stream' });
    req.on('error', () => {});
    const first = await new Promise<string>((resolve) => req.once('data', (d: Buffer) => resolve(d.toString())));
    assert.equal(first, 'data: first\n\n');
    req.close(http2.constants.NGHTTP2_CANCEL);
    const cancel = await upstreamCancel!;
    assert.equal(cancel.rstCode, http2.constants.NGHTTP2_CANCEL);
    const next = await readAll(session.request({ ':path': '/next' }));
    assert.equal(text(next), 'data: next\n\n');
    const recs = await p.waitFor(2);
    assert.deepEqual(counts(p), { raw: 2, node: 0 });
    const aborted = byPath(recs, '/stream')!;
    assert.equal(aborted.error?.phase, 'client-abort');
    assert.equal(aborted.error?.code, 'RST_STREAM CANCEL');
    assert.match(aborted.response!.body!.text!, /^data: first\n\n/);
    assert.equal(byPath(recs, '/next')!.error, null);
  } finally {
    await closeSession(session);
    await p.close();
    await up.close();
  }
});

test('client connection dropped mid-response: the record is client-abort CONNECTION_CLOSED and the upstream stream is cancelled', T, async () => {
  let upstreamClosed: Promise<number> | undefined;
  const up = await startH2Upstream((stream) => {
    stream.respond({ ':status': 200, 'content-type': 'text/event-stream' });
    upstreamClosed = new Promise((resolve) => stream.on('close', () => resolve(stream.rstCode ?? -1)));
    stream.write('data: first\n\n');
  });
  const p = await startProtocolProxy();
  const session = await h2ThroughProxy(p.port, '127.0.0.1', up.port, p.caPem);
  try {
    const req = session.request({ ':path': '/dropped' });
    req.on('error', () => {});
    await new Promise((r) => req.once('data', r));
    session.destroy();
    assert.equal(await upstreamClosed!, http2.constants.NGHTTP2_CANCEL);
    const [rec] = await p.waitFor(1);
    assert.deepEqual(counts(p), { raw: 1, node: 0 });
    assert.equal(rec!.response!.body!.text, 'data: first\n\n');
    assert.deepEqual([rec!.error?.phase, rec!.error?.code], ['client-abort', 'CONNECTION_CLOSED'], JSON.stringify(rec!.error));
  } finally {
    session.destroy();
    await p.close();
    await up.close();
  }
});

test('100 concurrent client streams to an upstream allowing 10 per connection: all succeed with the right bodies', T, async () => {
  const active = new Map<http2.Http2Session, number>();
  let maxPerSession = 0;
  const up = await startH2Upstream((stream, headers) => {
    const sess = stream.session!;
    const n = (active.get(sess) ?? 0) + 1;
    active.set(sess, n);
    maxPerSession = Math.max(maxPerSession, n);
    stream.on('close', () => active.set(sess, active.get(sess)! - 1));
    setTimeout(() => {
      stream.respond({ ':status': 200, 'content-type': 'text/plain' });
      stream.end(`body of ${headers[':path']}`);
    }, 50);
  });
  up.server.updateSettings({ maxConcurrentStreams: 10 });
  const p = await startProtocolProxy();
  const session = await h2ThroughProxy(p.port, '127.0.0.1', up.port, p.caPem);
  try {
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => readAll(session.request({ ':path': `/n/${i}` }))));
    results.forEach((r, i) => {
      assert.equal(r.headers[':status'], 200, `stream ${i}`);
      assert.equal(text(r), `body of /n/${i}`);
    });
    assert.ok(maxPerSession <= 10, `the upstream saw ${maxPerSession} streams at once on one connection`);
    const recs = await p.waitFor(100);
    assert.deepEqual(counts(p), { raw: 100, node: 0 });
    for (let i = 0; i < 100; i++) {
      const r = byPath(recs, `/n/${i}`)!;
      assert.equal(r.response!.body!.text, `body of /n/${i}`);
      assert.equal(r.error, null);
    }
  } finally {
    await closeSession(session);
    await p.close();
    await up.close();
  }
});

