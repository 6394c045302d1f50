import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { ProxyAgent, request } from 'undici';
import { runCli } from '../support/cli-process.js';
import { startProtocolProxy } from '../support/protocol-proxy.js';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

test('a loopback upstream (a local model server on localhost) under concurrency: no false loop, even with HTTP_PROXY pointing at the proxy itself', async () => {
  let inFlight = 0;
  let peak = 0;
  const local = http.createServer((req, res) => {
    inFlight++;
    peak = Math.max(peak, inFlight);
    setTimeout(() => {
      inFlight--;
      res.end(JSON.stringify({ model: 'llama3', path: req.url }));
    }, 20);
  });
  await new Promise<void>((r) => local.listen(0, '127.0.0.1', r));
  const localPort = (local.address() as net.AddressInfo).port;
  const port = await freePort();
  // The shell that started us exported HTTP(S)_PROXY=us: chaining to ourselves would loop.
  const self = `http://127.0.0.1:${port}`;
  const p = await startProtocolProxy({ capture: { port }, support: { env: { HTTP_PROXY: self, HTTPS_PROXY: self } } });
  const agent = new ProxyAgent(p.url);
  try {
    assert.ok(p.logs.some((l) => /point at this proxy itself/.test(l)));
    assert.equal(p.support.upstreamProxy.source, 'none');
    const bodies = await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const r = await request(`http://localhost:${localPort}/api/chat?i=${i}`, { dispatcher: agent });
        return (await r.body.json()) as { path: string };
      }),
    );
    assert.deepEqual(bodies.map((b) => b.path), Array.from({ length: 40 }, (_, i) => `/api/chat?i=${i}`));
    assert.ok(peak > 4, `requests ran concurrently (peak ${peak})`);
    const recs = await p.waitFor(40);
    assert.ok(recs.every((r) => r.error === null && r.response!.status === 200));
  } finally {
    await agent.close();
    await p.close();
    local.close();
  }
});

test('agenttap proxy: bad --upstream-proxy and --passthrough values are usage errors naming the flag', async () => {
  const a = await runCli(['proxy', '--port', '0', '--upstream-proxy', 'socks5://127.0.0.1:1080', '--out', '/dev/null']);
  assert.equal(a.code, 2);
  assert.match(a.stderr, /--upstream-proxy: socks5 proxies are not supported/);
  const b = await runCli(['proxy', '--port', '0', '--passthrough', 'has space.example', '--out', '/dev/null']);
  assert.equal(b.code, 2);
  assert.match(b.stderr, /--passthrough: "has space\.example" is not a host glob/);
});

test('agenttap proxy says which upstream proxy it chains through (here from HTTPS_PROXY, with NO_PROXY)', async () => {
  const { spawn } = await import('node:child_process');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { cliBin } = await import('../support/cli-process.js');
  const home = mkdtempSync(join(tmpdir(), 'agenttap-chain-cli-'));
  const child = spawn(process.execPath, [cliBin, 'proxy', '--port', '0', '--out', join(home, 'c.jsonl')], {
    env: { ...process.env, AGENTTAP_HOME: home, HTTPS_PROXY: 'http://corp-proxy.example:3128', HTTP_PROXY: '', NO_PROXY: 'localhost,.internal' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no upstream proxy line: ${out}`)), 20_000);
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (/upstream proxy: .*\n/.test(out)) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    assert.match(out, /upstream proxy: http:\/\/corp-proxy\.example:3128 \(HTTPS_PROXY\/HTTP_PROXY; not for localhost,\.internal\)/);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('close', r));
    rmSync(home, { recursive: true, force: true });
  }
});
