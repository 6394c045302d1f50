import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import {
  connectViaProxy,
  noProxyMatches,
  parseUpstreamProxy,
  proxyFor,
  resolveUpstreamProxy,
  withoutSelf,
  UpstreamProxyError,
} from '../../src/engine/upstream-proxy.js';
import { startChainProxy } from '../support/chain-proxy.js';

async function startTarget(): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => res.end(`hello ${req.url}`));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

function getOver(socket: net.Socket, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request({ createConnection: () => socket, path, headers: { host: 'target.test', connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(`${res.statusCode} ${body}`));
    });
    req.on('error', reject);
    req.end();
  });
}

test('upstream proxy URLs are parsed with credentials, and bad ones name the flag', () => {
  const p = parseUpstreamProxy('http://alice:s%3Acret@proxy.corp:3128');
  assert.equal(p.host, 'proxy.corp');
  assert.equal(p.port, 3128);
  assert.equal(p.authorization, `Basic ${Buffer.from('alice:s:cret').toString('base64')}`);
  assert.equal(p.display, 'http://alice:***@proxy.corp:3128');
  assert.equal(parseUpstreamProxy('proxy.corp:8080').protocol, 'http:');
  assert.equal(parseUpstreamProxy('https://p.example').port, 443);
  assert.throws(() => parseUpstreamProxy('socks5://p:1080'), (e: UpstreamProxyError) => e.code === 'BAD_UPSTREAM_PROXY' && /--upstream-proxy: socks5 proxies/.test(e.message));
  assert.throws(() => parseUpstreamProxy('http://'), /--upstream-proxy/);
});

test('the flag wins over the environment; NO_PROXY and --no-proxy are both honoured', () => {
  const env = { HTTPS_PROXY: 'http://env-proxy:1', http_proxy: 'http://plain-proxy:2', NO_PROXY: 'localhost,.internal.corp' };
  const fromEnv = resolveUpstreamProxy({ env, noProxy: 'api.local:8443' });
  assert.equal(fromEnv.source, 'env');
  assert.equal(proxyFor(fromEnv, { host: 'api.openai.com', port: 443, tls: true })?.host, 'env-proxy');
  assert.equal(proxyFor(fromEnv, { host: 'example.com', port: 80, tls: false })?.host, 'plain-proxy');
  assert.equal(proxyFor(fromEnv, { host: 'localhost', port: 11434, tls: false }), undefined);
  assert.equal(proxyFor(fromEnv, { host: 'git.internal.corp', port: 443, tls: true }), undefined);
  assert.equal(proxyFor(fromEnv, { host: 'api.local', port: 8443, tls: true }), undefined);
  assert.equal(proxyFor(fromEnv, { host: 'api.local', port: 443, tls: true })?.host, 'env-proxy');
  const fromFlag = resolveUpstreamProxy({ env, flag: 'http://flag-proxy:9' });
  assert.equal(fromFlag.source, 'flag');
  assert.equal(proxyFor(fromFlag, { host: 'example.com', port: 80, tls: false })?.host, 'flag-proxy');
  assert.equal(resolveUpstreamProxy({ env: {} }).source, 'none');
  assert.equal(noProxyMatches(['*'], 'anything', 1), true);
  assert.equal(noProxyMatches(['*.example.com'], 'example.com', 1), true);
  assert.equal(noProxyMatches(['example.com'], 'notexample.com', 1), false);
  assert.equal(noProxyMatches(['[::1]:8080'], '::1', 8080), true);
});

test('an environment proxy that is this proxy itself is ignored (no loop), other loopback proxies are kept', () => {
  const s = resolveUpstreamProxy({ env: { HTTPS_PROXY: 'http://127.0.0.1:8080', HTTP_PROXY: 'http://localhost:9090' } });
  const out = withoutSelf(s, [{ host: '127.0.0.1', port: 8080 }]);
  assert.equal(out.https, undefined);
  assert.equal(out.http?.port, 9090);
});

test('CONNECT through a chained proxy with Basic auth reaches the target; 407 and 502 are errors with the status', async () => {
  const target = await startTarget();
  const authed = await startChainProxy({ auth: 'bob:pw' });
  const refusing = await startChainProxy({ refuse: 502 });
  try {
    const good = parseUpstreamProxy(`http://bob:pw@127.0.0.1:${authed.port}`);
    const sock = await connectViaProxy(good, { host: '127.0.0.1', port: target.port });
    assert.equal(await getOver(sock, '/via-chain'), '200 hello /via-chain');
    assert.deepEqual(authed.connects[0], { authority: `127.0.0.1:${target.port}`, authorization: `Basic ${Buffer.from('bob:pw').toString('base64')}` });

    const noAuth = parseUpstreamProxy(`http://127.0.0.1:${authed.port}`);
    await assert.rejects(connectViaProxy(noAuth, { host: '127.0.0.1', port: target.port }), (e: UpstreamProxyError) => {
      assert.equal(e.code, 'PROXY_CONNECT_REFUSED');
      assert.equal(e.status, 407);
      assert.match(e.message, /refused CONNECT 127\.0\.0\.1:\d+: 407 Proxy Authentication Required/);
      return true;
    });
    await assert.rejects(connectViaProxy(parseUpstreamProxy(refusing.url), { host: 'x.test', port: 443 }), (e: UpstreamProxyError) => e.status === 502);
    // Nothing listens here: the error says the proxy is unreachable.
    const dead = await new Promise<number>((r) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = (s.address() as net.AddressInfo).port; s.close(() => r(p)); }); });
    await assert.rejects(connectViaProxy(parseUpstreamProxy(`http://127.0.0.1:${dead}`), { host: 'x.test', port: 443 }), (e: UpstreamProxyError) => e.code === 'ECONNREFUSED' && /unreachable/.test(e.message));
  } finally {
    await Promise.all([target.close(), authed.close(), refusing.close()]);
  }
});
