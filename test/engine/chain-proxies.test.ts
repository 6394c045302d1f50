import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { startChainProxy } from '../support/chain-proxy.js';
import { startDualUpstream, startProtocolProxy } from '../support/protocol-proxy.js';

const run = promisify(execFile);

async function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run('curl', ['-sS', '--max-time', '10', ...args]);
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

function dual() {
  return startDualUpstream((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`hello over ${req.httpVersion} ${req.url}`);
  });
}

test('a chain of two agenttap proxies: h2 through the chained tunnel, both record the exchange', async () => {
  const up = await dual();
  const inner = await startProtocolProxy();
  // The outer proxy reaches the upstream through the inner one, which intercepts with its CA.
  const outer = await startProtocolProxy({ support: { upstreamProxy: inner.url }, extraCa: [inner.caPem] });
  try {
    const r = await curl(['--http2', '-x', outer.url, '--cacert', outer.caFile, '-w', ' %{http_version}', `${up.url}/v1/chained`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello over 2.0 /v1/chained 2');
    const [o] = await outer.waitFor(1);
    const [i] = await inner.waitFor(1);
    for (const rec of [o!, i!]) {
      assert.equal(rec.request!.url, `${up.url}/v1/chained`);
      assert.equal(rec.request!.httpVersion, '2');
      assert.equal(rec.server.alpn, 'h2');
      assert.equal(rec.response!.body!.text, 'hello over 2.0 /v1/chained');
    }
    // Both proxies served it on the raw-socket h2 path (the outer one through the chained tunnel).
    assert.deepEqual({ ...outer.cap.proxy.http2Counts }, { raw: 1, node: 0 });
    assert.deepEqual({ ...inner.cap.proxy.http2Counts }, { raw: 1, node: 0 });
  } finally {
    await outer.close();
    await inner.close();
    await up.close();
  }
});

test('a chained proxy that requires Basic auth gets it from the URL; one that answers 407 gives the client a 502 with the reason', async () => {
  const up = await dual();
  const authed = await startChainProxy({ auth: 'alice:s3cret' });
  const refusing = await startChainProxy({ refuse: 407 });
  const good = await startProtocolProxy({ support: { upstreamProxy: `http://alice:s3cret@127.0.0.1:${authed.port}` } });
  const bad = await startProtocolProxy({ support: { upstreamProxy: refusing.url } });
  try {
    const ok = await curl(['--http2', '-x', good.url, '--cacert', good.caFile, `${up.url}/via-auth`]);
    assert.equal(ok.stdout, 'hello over 2.0 /via-auth');
    assert.equal(authed.connects[0]!.authority, `127.0.0.1:${up.port}`);
    assert.equal(authed.connects[0]!.authorization, `Basic ${Buffer.from('alice:s3cret').toString('base64')}`);
    const [rec] = await good.waitFor(1);
    assert.equal(rec!.error, null);

    for (const version of ['--http1.1', '--http2']) {
      const r = await curl([version, '-x', bad.url, '--cacert', bad.caFile, '-w', '\n%{http_code}', `${up.url}/refused`]);
      const lines = r.stdout.trim().split('\n');
      assert.equal(lines.at(-1), '502', version);
      assert.match(r.stdout, /upstream proxy http:\/\/127\.0\.0\.1:\d+ refused CONNECT 127\.0\.0\.1:\d+: 407 Proxy Authentication Required/, version);
    }
    const recs = await bad.waitFor(2);
    for (const r of recs) {
      assert.equal(r.error?.phase, 'upstream-connect');
      assert.equal(r.error?.code, 'PROXY_CONNECT_REFUSED');
      assert.match(r.error!.message, /407/);
    }
  } finally {
    await good.close();
    await bad.close();
    await authed.close();
    await refusing.close();
    await up.close();
  }
});

test('HTTPS_PROXY from the environment is used, and NO_PROXY / --no-proxy hosts go direct', async () => {
  const up = await dual();
  const chain = await startChainProxy();
  const viaEnv = await startProtocolProxy({ support: { env: { HTTPS_PROXY: chain.url } } });
  const bypass = await startProtocolProxy({ support: { env: { HTTPS_PROXY: 'http://127.0.0.1:9', NO_PROXY: 'example.invalid' }, noProxy: '127.0.0.1' } });
  try {
    const a = await curl(['--http1.1', '-x', viaEnv.url, '--cacert', viaEnv.caFile, `${up.url}/env`]);
    assert.equal(a.stdout, 'hello over 1.1 /env');
    assert.equal(chain.connects.length, 1);
    const b = await curl(['-x', bypass.url, '--cacert', bypass.caFile, `${up.url}/direct`]);
    assert.equal(b.stdout, 'hello over 2.0 /direct');
  } finally {
    await viaEnv.close();
    await bypass.close();
    await chain.close();
    await up.close();
  }
});

test('an https:// chained proxy (TLS to the proxy, then TLS to the upstream inside it) with h2 end to end', async () => {
  const { upstreamTestCa } = await import('../support/test-upstream.js');
  const { ca } = await upstreamTestCa();
  const leaf = await ca.leafFor('127.0.0.1');
  const up = await dual();
  const chain = await startChainProxy({ tls: { cert: leaf.certPem, key: leaf.keyPem }, auth: 'u:p' });
  const p = await startProtocolProxy({ support: { upstreamProxy: `https://u:p@127.0.0.1:${chain.port}` } });
  try {
    const r = await curl(['--http2', '-x', p.url, '--cacert', p.caFile, `${up.url}/tls-proxy`]);
    assert.equal(r.stdout, 'hello over 2.0 /tls-proxy', r.stderr);
    assert.equal(chain.connects.length, 1);
    const [rec] = await p.waitFor(1);
    assert.equal(rec!.server.alpn, 'h2');
    assert.equal(rec!.error, null);
  } finally {
    await p.close();
    await chain.close();
    await up.close();
  }
});
