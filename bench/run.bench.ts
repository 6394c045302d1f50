// What `agenttap run` costs the command it wraps: the Node preload on every Node process the
// child starts, and the whole wrapper around a command that does nothing.
import { spawn, spawnSync } from 'node:child_process';
import net from 'node:net';
import { once } from 'node:events';
import { createClientProcessResolver } from '../src/engine/client-process.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeOptionsWithPreload } from '../src/targets/forward-env.js';
import type { BenchModule, BenchResult } from './types.js';

const preload = fileURLToPath(new URL('../src/targets/node-proxy-preload.js', import.meta.url));
const cli = fileURLToPath(new URL('../../bin/agenttap.js', import.meta.url));

function medianMs(n: number, fn: () => void): number {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return Math.round(times[Math.floor(times.length / 2)]! * 10) / 10;
}

const bench: BenchModule = {
  title: 'agenttap run: overhead on the wrapped command',
  async run(ctx) {
    const n = ctx.quick ? 5 : 15;
    const base = { PATH: process.env['PATH'] ?? '' };
    const node = (env: NodeJS.ProcessEnv) => () => spawnSync(process.execPath, ['-e', '0'], { env });
    const plain = medianMs(n, node(base));
    const withPreload = medianMs(n, node({ ...base, HTTPS_PROXY: 'http://127.0.0.1:9', NODE_OPTIONS: nodeOptionsWithPreload(undefined, preload) }));
    ctx.log(`node -e 0: ${plain} ms plain, ${withPreload} ms with the fetch preload`);
    const home = mkdtempSync(join(tmpdir(), 'agenttap-bench-run-'));
    const env = { ...base, HOME: home, AGENTTAP_HOME: join(home, '.agenttap') };
    spawnSync(process.execPath, [cli, 'run', '--no-summary', '--', 'true'], { env }); // creates the CA once
    const trueDirect = medianMs(n, () => spawnSync('true'));
    const wrapped = medianMs(n, () => spawnSync(process.execPath, [cli, 'run', '--no-summary', '--out', join(home, 'c.jsonl'), '--', 'true'], { env }));
    const results: BenchResult[] = [
      { metric: 'Node process start with the fetch preload, no fetch (median)', value: withPreload, unit: 'ms', baseline: plain, ratio: Math.round((withPreload / plain) * 100) / 100, target: '≤ +60 ms', pass: withPreload - plain <= 60 },
      { metric: 'agenttap run -- true, end to end (median)', value: wrapped, unit: 'ms', baseline: trueDirect, target: '≤ 1500 ms', pass: wrapped <= 1500 },
    ];
    results.push(...(await pidLookup(ctx.quick ? 50 : 300)));
    return results;
  },
};

/** Cost of finding the process behind a connection while `n` other loopback connections are open. */
async function pidLookup(n: number): Promise<BenchResult[]> {
  if (process.platform !== 'linux') return [];
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const accepted: net.Socket[] = [];
  server.on('connection', (s) => accepted.push(s));
  const child = spawn(process.execPath, ['-e', `const net=require('net');for(let i=0;i<${n};i++){net.connect(${port},'127.0.0.1').on('error',()=>{})}setInterval(()=>{},1000)`], { stdio: 'ignore' });
  while (accepted.length < n) await new Promise((r) => setTimeout(r, 20));
  const sock = accepted[n - 1]!;
  const cold = medianMs(9, () => createClientProcessResolver().lookupSync(sock.remotePort!, port));
  // The proxy itself uses the async lookup (thread pool); this is what the sync fallback costs.
  const warmResolver = createClientProcessResolver();
  warmResolver.lookupSync(sock.remotePort!, port);
  const warm = medianMs(51, () => warmResolver.lookupSync(accepted[Math.floor(Math.random() * n)]!.remotePort!, port));
  child.kill();
  for (const s of accepted) s.destroy();
  server.close();
  return [
    { metric: `pid lookup, first for a process (/proc scan), ${n} open connections (median)`, value: cold, unit: 'ms', target: '≤ 50 ms', pass: cold <= 50 },
    { metric: `pid lookup, known process (/proc/net/tcp read), ${n} open connections (median)`, value: warm, unit: 'ms', target: '≤ 5 ms', pass: warm <= 5 },
  ];
}

export default bench;
