import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { promisify } from 'node:util';
import { connectTunnel, startProtocolProxy } from '../support/protocol-proxy.js';
import { startTestUpstream } from '../support/test-upstream.js';

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

test('a --passthrough host is tunnelled untouched: the client sees the real certificate, a tunnel row counts the bytes', async () => {
  const up = await startTestUpstream((_req, res) => res.end('real upstream'));
  const p = await startProtocolProxy({ support: { passthrough: ['127.0.0.1:' + up.port] } });
  try {
    // Only the upstream's own CA is trusted: this succeeds only when we did not intercept.
    const r = await curl(['-x', p.url, '--cacert', up.caFile, `${up.url}/x`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'real upstream');
    const [rec] = await p.waitFor(1);
    assert.equal(rec!.kind, 'tunnel');
    assert.deepEqual([rec!.server.host, rec!.server.port, rec!.server.tls], ['127.0.0.1', up.port, true]);
    assert.equal(rec!.tunnel!.reason, 'passthrough');
    assert.ok(rec!.tunnel!.bytesUp > 300, `bytesUp ${rec!.tunnel!.bytesUp}`);
    assert.ok(rec!.tunnel!.bytesDown > 500, `bytesDown ${rec!.tunnel!.bytesDown}`);
    assert.ok(rec!.tunnel!.durationMs > 0);
    assert.equal(rec!.request, undefined);
    assert.equal(rec!.error, null);
  } finally {
    await p.close();
    await up.close();
  }
});

test('a client that rejects our CA teaches the proxy: the host goes into passthrough.json and the next connection is tunnelled', async () => {
  const up = await startTestUpstream((_req, res) => res.end('hello from upstream'));
  const p = await startProtocolProxy();
  try {
    // curl trusts only the upstream CA, so it refuses our leaf with an unknown_ca alert.
    const first = await curl(['-x', p.url, '--cacert', up.caFile, `${up.url}/first`]);
    assert.notEqual(first.code, 0);
    const [learned] = await p.waitFor(1);
    assert.equal(learned!.kind, 'tunnel');
    assert.equal(learned!.tunnel!.reason, 'learned');
    assert.equal(learned!.error?.phase, 'tls');
    assert.match(learned!.error!.message, /client rejected our certificate \(tlsv1 alert unknown ca\): 127\.0\.0\.1 learned into passthrough\.json/);
    assert.ok(p.logs.some((l) => /learned into passthrough\.json/.test(l)));
    const file = JSON.parse(readFileSync(p.home.file('passthrough.json'), 'utf8')) as { hosts: { host: string; why: string }[] };
    assert.deepEqual(file.hosts.map((h) => [h.host, h.why]), [['127.0.0.1', 'tlsv1 alert unknown ca']]);
    const second = await curl(['-x', p.url, '--cacert', up.caFile, `${up.url}/second`]);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout, 'hello from upstream');
    const recs = await p.waitFor(2);
    assert.equal(recs[1]!.kind, 'tunnel');
    assert.equal(recs[1]!.tunnel!.reason, 'learned');
    assert.equal(recs[1]!.error, null);
  } finally {
    await p.close();
    await up.close();
  }
});

test('--no-learn: a rejecting client is logged but nothing is learned', async () => {
  const up = await startTestUpstream((_req, res) => res.end('x'));
  const p = await startProtocolProxy({ support: { learn: false } });
  try {
    const first = await curl(['-x', p.url, '--cacert', up.caFile, `${up.url}/`]);
    assert.notEqual(first.code, 0);
    const [rec] = await p.waitFor(1);
    assert.match(rec!.error!.message, /learning is off/);
    assert.throws(() => readFileSync(p.home.file('passthrough.json')));
  } finally {
    await p.close();
    await up.close();
  }
});

test('a passthrough host that closes early or is unreachable gives a tunnel row with the error; others are still served', async () => {
  const early = net.createServer((s) => s.destroy());
  await new Promise<void>((r) => early.listen(0, '127.0.0.1', r));
  const earlyPort = (early.address() as net.AddressInfo).port;
  const dead = net.createServer();
  await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
  const deadPort = (dead.address() as net.AddressInfo).port;
  await new Promise<void>((r) => dead.close(() => r()));
  const up = await startTestUpstream((_req, res) => res.end('fine'));
  const p = await startProtocolProxy({ support: { passthrough: [`127.0.0.1:${earlyPort}`, `127.0.0.1:${deadPort}`] } });
  try {
    const a = await curl(['-x', p.url, '-k', `https://127.0.0.1:${earlyPort}/`]);
    assert.notEqual(a.code, 0);
    const b = await curl(['-x', p.url, '-k', `https://127.0.0.1:${deadPort}/`]);
    assert.notEqual(b.code, 0);
    const ok = await curl(['-x', p.url, '--cacert', p.caFile, `${up.url}/`]);
    assert.equal(ok.stdout, 'fine');
    const recs = await p.waitFor(3);
    const e = recs.find((r) => r.server.port === earlyPort)!;
    assert.equal(e.kind, 'tunnel');
    assert.equal(e.error?.phase, 'upstream-reset');
    const d = recs.find((r) => r.server.port === deadPort)!;
    assert.equal(d.error?.phase, 'upstream-connect');
    assert.equal(d.error?.code, 'ECONNREFUSED');
    assert.ok(p.logs.some((l) => l.includes(`127.0.0.1:${deadPort}`)));
  } finally {
    await p.close();
    await up.close();
    early.close();
  }
});

test('non-TLS, non-HTTP bytes inside CONNECT become a not-tls tunnel; --map-remote redirects tunnels too', async () => {
  const echo = net.createServer((s) => s.on('data', (d) => s.write(Buffer.concat([Buffer.from('echo:'), d]))).on('error', () => {}));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  const echoPort = (echo.address() as net.AddressInfo).port;
  const { parseMapRemote } = await import('../../src/engine/map-remote.js');
  const p = await startProtocolProxy({ capture: { mapRemote: [parseMapRemote(`db.internal:5432=http://127.0.0.1:${echoPort}`)] } });
  try {
    const s = await connectTunnel(p.port, 'db.internal:5432');
    s.write(Buffer.from([0x00, 0x01, 0x02, 0x03]));
    const got = await new Promise<Buffer>((r) => s.once('data', r));
    assert.deepEqual([...got], [...Buffer.from('echo:'), 0, 1, 2, 3]);
    s.end();
    const [rec] = await p.waitFor(1);
    assert.equal(rec!.kind, 'tunnel');
    assert.equal(rec!.tunnel!.reason, 'not-tls');
    assert.equal(rec!.server.host, 'db.internal');
    assert.equal(rec!.server.port, 5432);
    assert.equal(rec!.server.tls, false);
    assert.equal(rec!.server.mappedTo, `http://127.0.0.1:${echoPort}`);
    assert.deepEqual([rec!.tunnel!.bytesUp, rec!.tunnel!.bytesDown], [4, 9]);
  } finally {
    await p.close();
    echo.close();
  }
});
