// What the capture file holds: compressed bodies decoded for the record while the client gets the
// wire bytes unchanged, the --max-body cap with the whole body's sha256, and secrets redacted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type http from 'node:http';
import zlib from 'node:zlib';
import { ProxyAgent, request } from 'undici';
import { headerValue } from '../../src/capture/record.js';
import { startTestProxy } from '../support/proxy-harness.js';
import { curl } from '../support/run-tool.js';
import { startTestUpstream } from '../support/test-upstream.js';
import { ZSTD_SAMPLE_BASE64, zstdSampleText } from './zstd-sample.js';

const TEXT = zstdSampleText();
const encoded: Record<string, Buffer> = {
  gzip: zlib.gzipSync(TEXT),
  br: zlib.brotliCompressSync(TEXT),
  deflate: zlib.deflateSync(TEXT),
  zstd: Buffer.from(ZSTD_SAMPLE_BASE64, 'base64'),
};

test('gzip, br, deflate and zstd responses: the client gets the wire bytes, the record the decoded text with wireSize', async () => {
  const up = await startTestUpstream((req, res) => {
    const enc = req.url!.slice(1);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': enc });
    // Two writes so the body arrives in more than one chunk.
    const b = encoded[enc]!;
    res.write(b.subarray(0, 100));
    setTimeout(() => res.end(b.subarray(100)), 5);
  });
  const p = await startTestProxy();
  const agent = new ProxyAgent({ uri: p.url, requestTls: { ca: p.caPem } });
  try {
    for (const enc of Object.keys(encoded)) {
      const res = await request(`${up.url}/${enc}`, { dispatcher: agent });
      const wire = Buffer.from(await res.body.arrayBuffer());
      assert.ok(wire.equals(encoded[enc]!), `${enc}: client got other bytes than the upstream sent`);
    }
    const recs = await p.waitForRecords(4);
    for (const rec of recs) {
      const enc = new URL(rec.request!.url).pathname.slice(1);
      const body = rec.response!.body!;
      assert.equal(body.text, TEXT, `${enc} decoded`);
      assert.equal(body.size, Buffer.byteLength(TEXT));
      assert.equal(body.wireSize, encoded[enc]!.length);
      assert.equal(body.contentEncoding, enc);
      assert.equal(rec.response!.chunks!.reduce((n, c) => n + c[1], 0), encoded[enc]!.length);
    }
  } finally {
    await agent.close();
    await p.close();
    await up.close();
  }
});

test('a gzip request body is recorded decoded', async () => {
  let upstreamGot: Buffer | undefined;
  const up = await startTestUpstream((req, res) => {
    const c: Buffer[] = [];
    req.on('data', (d: Buffer) => c.push(d));
    req.on('end', () => {
      upstreamGot = Buffer.concat(c);
      res.end('ok');
    });
  });
  const p = await startTestProxy();
  const agent = new ProxyAgent({ uri: p.url, requestTls: { ca: p.caPem } });
  try {
    const gz = zlib.gzipSync('{"model":"m","messages":[]}');
    const res = await request(`${up.url}/v1/x`, { dispatcher: agent, method: 'POST', body: gz, headers: { 'content-encoding': 'gzip', 'content-type': 'application/json' } });
    await res.body.text();
    assert.ok(upstreamGot!.equals(gz));
    const [rec] = await p.waitForRecords(1);
    assert.equal(rec!.request!.body!.text, '{"model":"m","messages":[]}');
    assert.equal(rec!.request!.body!.wireSize, gz.length);
  } finally {
    await agent.close();
    await p.close();
    await up.close();
  }
});

test('--max-body keeps the head, marks truncated and hashes the whole decoded body (plain and gzip)', async () => {
  // Random text compresses poorly, so the gzip wire bytes pass the cap too (streaming decode);
  // the repetitive body stays small on the wire and only passes the cap once decoded.
  const big = 'x'.repeat(3000) + randomBytes(72_000).toString('base64');
  const gz = zlib.gzipSync(big);
  const repetitive = 'x'.repeat(100_000);
  const gzSmall = zlib.gzipSync(repetitive);
  const up = await startTestUpstream((req, res) => {
    if (req.url === '/gz') {
      res.writeHead(200, { 'content-encoding': 'gzip' });
      res.end(gz);
    } else if (req.url === '/gz-small') {
      res.writeHead(200, { 'content-encoding': 'gzip' });
      res.end(gzSmall);
    } else res.end(big);
  });
  const p = await startTestProxy({ maxBody: 1000 });
  const agent = new ProxyAgent({ uri: p.url, requestTls: { ca: p.caPem } });
  try {
    const expected: Record<string, { wire: number; body: string }> = {
      '/plain': { wire: big.length, body: big },
      '/gz': { wire: gz.length, body: big },
      '/gz-small': { wire: gzSmall.length, body: repetitive },
    };
    assert.ok(gz.length > 1000 && gzSmall.length < 1000);
    for (const [path, e] of Object.entries(expected)) {
      const res = await request(`${up.url}${path}`, { dispatcher: agent });
      const got = Buffer.from(await res.body.arrayBuffer());
      assert.equal(got.length, e.wire, 'the client still gets everything');
    }
    const recs = await p.waitForRecords(3);
    for (const rec of recs) {
      const e = expected[new URL(rec.request!.url).pathname]!;
      const body = rec.response!.body!;
      assert.equal(body.truncated, true);
      assert.equal(body.text, 'x'.repeat(1000));
      assert.equal(body.size, e.body.length);
      assert.equal(body.sha256, createHash('sha256').update(e.body).digest('hex'));
    }
  } finally {
    await agent.close();
    await p.close();
    await up.close();
  }
});

function secretsHandler(seen: http.IncomingMessage[]) {
  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    seen.push(req);
    res.writeHead(200, { 'set-cookie': 'session=abcdefghijklmnopqrstuv; Path=/; HttpOnly' });
    res.end('{}');
  };
}

const SECRET_ARGS = [
  '-H', 'Authorization: Bearer sk-proj-0123456789abcdefWXYZ',
  '-H', 'x-api-key: sk-ant-api03-secretsecret-a1b2',
  '-H', 'x-goog-api-key: AIzaSyD-googlekey-9876',
  '-H', 'api-key: azure-key-0000000000-c3d4',
  '-H', 'Cookie: sid=cookievalue1234567890; theme=darkmode-long-enough',
];

test('secrets are redacted as [REDACTED …last4] in headers, cookies and key= in URLs; the upstream still gets them', async () => {
  const seen: http.IncomingMessage[] = [];
  const up = await startTestUpstream(secretsHandler(seen));
  const p = await startTestProxy();
  try {
    const r = await curl(['-x', p.url, '--cacert', p.caFile, ...SECRET_ARGS, `${up.url}/v1beta/models/g:generateContent?alt=sse&key=AIzaSyUrlKey-5555`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(seen[0]!.headers['x-api-key'], 'sk-ant-api03-secretsecret-a1b2');
    assert.match(seen[0]!.url!, /key=AIzaSyUrlKey-5555/);
    const [rec] = await p.fileRecords();
    const h = rec!.request!.headers;
    assert.equal(headerValue(h, 'authorization'), 'Bearer [REDACTED …WXYZ]');
    assert.equal(headerValue(h, 'x-api-key'), '[REDACTED …a1b2]');
    assert.equal(headerValue(h, 'x-goog-api-key'), '[REDACTED …9876]');
    assert.equal(headerValue(h, 'api-key'), '[REDACTED …c3d4]');
    assert.equal(headerValue(h, 'cookie'), 'sid=[REDACTED …7890]; theme=[REDACTED …ough]');
    assert.equal(headerValue(rec!.response!.headers, 'set-cookie'), 'session=[REDACTED …stuv]; Path=/; HttpOnly');
    assert.match(rec!.request!.url, /\?alt=sse&key=\[REDACTED …5555\]$/);
    const raw = JSON.stringify(rec);
    for (const s of ['0123456789abcdef', 'secretsecret', 'googlekey', 'azure-key', 'cookievalue', 'UrlKey', 'abcdefghijkl']) assert.ok(!raw.includes(s), `${s} leaked`);
  } finally {
    await p.close();
    await up.close();
  }
});

test('--keep-secrets keeps them verbatim', async () => {
  const seen: http.IncomingMessage[] = [];
  const up = await startTestUpstream(secretsHandler(seen));
  const p = await startTestProxy({ keepSecrets: true });
  try {
    await curl(['-x', p.url, '--cacert', p.caFile, ...SECRET_ARGS, `${up.url}/x?key=AIzaSyUrlKey-5555`]);
    const [rec] = await p.fileRecords();
    assert.equal(headerValue(rec!.request!.headers, 'x-api-key'), 'sk-ant-api03-secretsecret-a1b2');
    assert.match(rec!.request!.url, /key=AIzaSyUrlKey-5555/);
  } finally {
    await p.close();
    await up.close();
  }
});
