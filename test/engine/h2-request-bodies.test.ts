import { test } from 'node:test';
import assert from 'node:assert/strict';
import type http2 from 'node:http2';
import { ZSTD_SAMPLE_BASE64, zstdSampleText } from '../capture/zstd-sample.js';
import { h2ThroughProxy, startH2Upstream, startProtocolProxy } from '../support/protocol-proxy.js';

function post(s: http2.ClientHttp2Session, path: string, encoding: string, body: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = s.request({ ':method': 'POST', ':path': path, 'content-encoding': encoding, 'content-type': 'application/json' });
    let out = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (out += d));
    req.on('end', () => resolve(out));
    req.on('error', reject);
    req.end(body);
  });
}

test('compressed request bodies over h2: zstd decoded for the record (wire untouched), unknown encodings kept as base64 with a note', async () => {
  const seen: Buffer[] = [];
  const up = await startH2Upstream((stream) => {
    const parts: Buffer[] = [];
    stream.on('data', (c: Buffer) => parts.push(c));
    stream.on('end', () => {
      seen.push(Buffer.concat(parts));
      stream.respond({ ':status': 200 });
      stream.end(String(Buffer.concat(parts).length));
    });
  });
  const p = await startProtocolProxy();
  const session = await h2ThroughProxy(p.port, '127.0.0.1', up.port, p.caPem);
  try {
    const zstd = Buffer.from(ZSTD_SAMPLE_BASE64, 'base64');
    assert.equal(await post(session, '/zstd', 'zstd', zstd), String(zstd.length));
    const odd = Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x00, 0x01]);
    assert.equal(await post(session, '/odd', 'x-custom', odd), '6');
    assert.ok(seen[0]!.equals(zstd), 'the upstream got the zstd bytes as sent');
    const recs = await p.waitFor(2);
    const z = recs.find((r) => r.request!.url.endsWith('/zstd'))!;
    assert.equal(z.request!.body!.text, zstdSampleText());
    assert.equal(z.request!.body!.contentEncoding, 'zstd');
    assert.equal(z.request!.body!.wireSize, zstd.length);
    const o = recs.find((r) => r.request!.url.endsWith('/odd'))!;
    assert.equal(o.request!.body!.base64, odd.toString('base64'));
    assert.match(o.request!.body!.note!, /unknown content-encoding "x-custom"/);
  } finally {
    session.close();
    await p.close();
    await up.close();
  }
});
