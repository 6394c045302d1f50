// No single connection can take the proxy down: garbage after CONNECT, a CONNECT that closes at
// once, a TLS handshake cut in the middle, a bad CONNECT target, a client that rejects our
// certificate. After all of them the proxy still serves a normal request.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import { startTestProxy } from '../support/proxy-harness.js';
import { curl } from '../support/run-tool.js';
import { startTestUpstream } from '../support/test-upstream.js';

function rawExchange(port: number, send: (s: net.Socket) => void, waitMs = 300): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => send(s));
    let got = '';
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('error', () => {});
    const t = setTimeout(() => s.destroy(), waitMs);
    s.on('close', () => {
      clearTimeout(t);
      resolve(got);
    });
  });
}

test('hostile and broken clients do not disturb the proxy', async () => {
  const up = await startTestUpstream((_q, s) => s.end('alive'));
  const p = await startTestProxy();
  const port = Number(new URL(p.url).port);
  try {
    // Garbage bytes inside a CONNECT tunnel.
    const garbage = await rawExchange(port, (s) => {
      s.write(`CONNECT 127.0.0.1:${up.port} HTTP/1.1\r\nHost: x\r\n\r\n`);
      setTimeout(() => s.write(Buffer.from([0x00, 0xff, 0x13, 0x37, 0x42, 0x00, 0x01])), 20);
    });
    assert.match(garbage, /^HTTP\/1\.1 200 Connection Established\r\n\r\n/);
    // CONNECT that closes at once.
    await rawExchange(port, (s) => s.end(`CONNECT 127.0.0.1:${up.port} HTTP/1.1\r\n\r\n`));
    // A bad CONNECT target.
    const bad = await rawExchange(port, (s) => s.write('CONNECT no-port-here HTTP/1.1\r\n\r\n'));
    assert.match(bad, /^HTTP\/1\.1 400 /);
    // A TLS ClientHello cut in half.
    await rawExchange(port, (s) => {
      s.write(`CONNECT 127.0.0.1:${up.port} HTTP/1.1\r\n\r\n`);
      setTimeout(() => s.end(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03])), 20);
    });
    // A client that does not trust our CA aborts the handshake.
    await new Promise<void>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.write(`CONNECT example.test:443 HTTP/1.1\r\n\r\n`));
      s.once('data', () => {
        const t = tls.connect({ socket: s, servername: 'example.test' });
        t.on('error', () => resolve());
        t.on('secureConnect', () => resolve());
      });
      s.on('error', () => resolve());
    });
    const ok = await curl(['-x', p.url, '--cacert', p.caFile, `${up.url}/after`]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'alive');
    const recs = await p.waitForRecords(1);
    assert.ok(recs.some((r) => r.request?.url === `${up.url}/after` && r.error === null));
  } finally {
    await p.close();
    await up.close();
  }
});
