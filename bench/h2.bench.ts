// HTTP/2 benchmark: a Node http2 client direct to an h2 upstream vs through agenttap (CONNECT,
// TLS interception, h2 on both legs), side by side in one run, on loopback. The proxy runs in a
// child process (own event loop, own RSS); the upstream and the client share this process.
// AGENTTAP_BENCH_PROXY_FLAGS="--flag …" passes extra node flags to the proxy child (--cpu-prof).
// AGENTTAP_BENCH_SECTIONS=sequential,sse,throughput runs only those sections (profiling).
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import type { BenchContext, BenchModule, BenchResult } from './types.js';

const CHILD_ENV = 'AGENTTAP_BENCH_H2_PROXY_CHILD';

interface ChildConfig {
  upstreamCaPem: string;
  home: string;
  out: string;
}

async function childMain(cfg: ChildConfig): Promise<void> {
  const { startCaptureProxy } = await import('../src/capture/capture-proxy.js');
  const cp = await startCaptureProxy({ home: cfg.home, port: 0, out: cfg.out, upstreamCa: [cfg.upstreamCaPem], protocols: { env: {} } });
  // The kernel's high-water mark (ru_maxrss, KiB): the exact peak, with no sampling timer reading
  // /proc every few ms on the proxy's CPU.
  const peakRss = (): number => process.resourceUsage().maxRSS * 1024;
  process.send!({ type: 'ready', port: cp.address!.port, caPem: cp.ca.certPem });
  process.on('message', (m: string) => {
    if (m === 'rss') {
      // The breakdown says where the memory is: JS heap, Buffers outside it, or neither (native).
      const u = process.memoryUsage();
      const mb = (n: number) => Math.round(n / 1048576);
      const cpu = process.cpuUsage();
      process.send!({ type: 'rss', peak: Math.max(peakRss(), u.rss), cpuUs: cpu.user + cpu.system, detail: `rss ${mb(u.rss)}, heap ${mb(u.heapUsed)}/${mb(u.heapTotal)}, external ${mb(u.external)}, arrayBuffers ${mb(u.arrayBuffers)} MB` });
    }
    if (m === 'close') void cp.close().then(() => process.exit(0));
  });
  // A bench that died must not leave its proxy behind (it would hold the bench lock's fd).
  process.on('disconnect', () => process.exit(1));
}

if (process.env[CHILD_ENV]) await childMain(JSON.parse(process.env[CHILD_ENV]) as ChildConfig);

interface ProxyChild {
  child: ChildProcess;
  port: number;
  caPem: string;
  peakRss(): Promise<number>;
  /** Memory breakdown at the last peakRss() call. */
  lastDetail: string;
  /** The proxy process's CPU time (user + system, µs) at the last peakRss() call. */
  lastCpuUs: number;
  close(): Promise<void>;
}

function startProxyChild(cfg: ChildConfig): Promise<ProxyChild> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, [CHILD_ENV]: JSON.stringify(cfg), HTTPS_PROXY: '', HTTP_PROXY: '' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [...process.execArgv, ...(process.env.AGENTTAP_BENCH_PROXY_FLAGS?.split(' ').filter(Boolean) ?? [])] });
    const waiters: ((n: number) => void)[] = [];
    let px: ProxyChild | undefined;
    child.on('message', (m: { type: string; port: number; caPem: string; peak: number; detail: string; cpuUs: number }) => {
      if (m.type === 'ready') {
        px = {
          child,
          port: m.port,
          caPem: m.caPem,
          lastDetail: '',
          lastCpuUs: 0,
          peakRss: () => new Promise((r) => (waiters.push(r), child.send('rss'))),
          close: () => new Promise((r) => (child.once('exit', () => r()), child.send('close'))),
        };
        resolve(px);
      } else if (m.type === 'rss') {
        if (px) {
          px.lastDetail = m.detail;
          px.lastCpuUs = m.cpuUs;
        }
        waiters.shift()?.(m.peak);
      }
    });
    child.once('exit', (code) => reject(new Error(`bench proxy child exited with ${code}`)));
  });
}

const SMALL = Buffer.from(JSON.stringify({ id: 'msg_bench', type: 'message', content: [{ type: 'text', text: 'x'.repeat(60) }] }));

async function startUpstream(ca: { leafFor(h: string): Promise<{ certPem: string; keyPem: string }> }): Promise<{ port: number; close(): Promise<void> }> {
  const leaf = await ca.leafFor('127.0.0.1');
  const server = http2.createSecureServer({ cert: leaf.certPem, key: leaf.keyPem, settings: { maxConcurrentStreams: 1000 } });
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => {
    stream.on('error', () => {});
    const url = String(headers[':path'] ?? '/');
    if (url.startsWith('/sse')) {
      const q = new URLSearchParams(url.split('?')[1]);
      const n = Number(q.get('n') ?? 50);
      const gap = Number(q.get('gap') ?? 10);
      stream.respond({ ':status': 200, 'content-type': 'text/event-stream' });
      let i = 0;
      const tick = () => {
        if (stream.destroyed) return;
        stream.write(`data: {"i":${i},"t":${performance.now()}}\n\n`);
        if (++i < n) setTimeout(tick, gap);
        else stream.end();
      };
      tick();
      return;
    }
    stream.respond({ ':status': 200, 'content-type': 'application/json', 'content-length': SMALL.length });
    stream.end(SMALL);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** bench/h2-relay-child.ts: TLS terminated on both legs, bytes piped (the floor for any intercepting proxy). */
async function startRelayChild(port: number, caPem: string, leaf: { certPem: string; keyPem: string }): Promise<{ port: number; close(): void }> {
  const child = fork(fileURLToPath(new URL('./h2-relay-child.js', import.meta.url)), [JSON.stringify({ port, caPem, certPem: leaf.certPem, keyPem: leaf.keyPem })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const relayPort = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`h2 relay child exited with ${code}`)));
  });
  return { port: relayPort, close: () => void child.kill() };
}

/** An h2 session to the upstream, directly or through the proxy's CONNECT tunnel. */
async function session(upPort: number, upCa: string, proxy?: ProxyChild): Promise<http2.ClientHttp2Session> {
  const origin = `https://127.0.0.1:${upPort}`;
  if (!proxy) return connected(http2.connect(origin, { ca: upCa, settings: { initialWindowSize: 4 << 20 } }));
  const raw = net.connect({ host: '127.0.0.1', port: proxy.port });
  await new Promise<void>((resolve, reject) => {
    raw.once('error', reject);
    raw.once('connect', () => raw.write(`CONNECT 127.0.0.1:${upPort} HTTP/1.1\r\nHost: 127.0.0.1:${upPort}\r\n\r\n`));
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString('latin1');
      if (!buf.includes('\r\n\r\n')) return;
      raw.off('data', onData);
      raw.pause();
      resolve();
    };
    raw.on('data', onData);
  });
  raw.setNoDelay(true);
  const t = tls.connect({ socket: raw, host: '127.0.0.1', ca: proxy.caPem, ALPNProtocols: ['h2'] });
  await new Promise<void>((resolve, reject) => {
    t.once('secureConnect', () => resolve());
    t.once('error', reject);
  });
  return connected(http2.connect(origin, { createConnection: () => t, settings: { initialWindowSize: 4 << 20 } }));
}

function connected(s: http2.ClientHttp2Session): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/** Requests opened per session (the capture file is checked against it). */
const opened = new WeakMap<http2.ClientHttp2Session, number>();
function request(s: http2.ClientHttp2Session, path: string): http2.ClientHttp2Stream {
  opened.set(s, (opened.get(s) ?? 0) + 1);
  return s.request({ ':path': path });
}

function get(s: http2.ClientHttp2Session, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(s, path);
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => resolve(n));
    req.on('error', reject);
    req.end();
  });
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Sequential requests on each session, interleaved request by request (the order rotating), so
 * background load and CPU frequency hit both alike; each session is warmed up first (the proxy's
 * h2 path is otherwise measured while V8 still compiles it).
 */
async function sequential(sessions: http2.ClientHttp2Session[], n: number, warm: number): Promise<number[][]> {
  for (const s of sessions) for (let i = 0; i < warm; i++) await get(s, '/small');
  const out: number[][] = sessions.map(() => []);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < sessions.length; k++) {
      const j = (i + k) % sessions.length;
      const t = performance.now();
      await get(sessions[j]!, '/small');
      out[j]!.push(performance.now() - t);
    }
  }
  return out.map((o) => o.sort((a, b) => a - b));
}

/**
 * Requests/s per session, measured in short windows that rotate between the sessions (after one
 * warm-up window each), so a burst of background load lands on both alike.
 */
async function throughputRotating(sessions: http2.ClientHttp2Session[], concurrency: number, ms: number, windows: number): Promise<number[]> {
  const each = ms / windows;
  for (const s of sessions) await throughput(s, concurrency, each);
  const done = sessions.map(() => 0);
  for (let w = 0; w < windows; w++) {
    for (let k = 0; k < sessions.length; k++) {
      const j = (w + k) % sessions.length;
      done[j]! += (await throughput(sessions[j]!, concurrency, each)) * (each / 1000);
    }
  }
  return done.map((n) => n / (ms / 1000));
}

async function throughput(s: http2.ClientHttp2Session, concurrency: number, ms: number): Promise<number> {
  let done = 0;
  const end = performance.now() + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await get(s, '/small');
        done++;
      }
    }),
  );
  return done / (ms / 1000);
}

/** Per-event delay (arrival − send time in the event) over `streams` concurrent SSE streams. */
async function sse(s: http2.ClientHttp2Session, streams: number, events: number): Promise<number[]> {
  const delays: number[] = [];
  await Promise.all(
    Array.from(
      { length: streams },
      () =>
        new Promise<void>((resolve, reject) => {
          const req = request(s, `/sse?n=${events}&gap=10`);
          let buf = '';
          req.setEncoding('utf8');
          req.on('data', (d: string) => {
            const now = performance.now();
            buf += d;
            let i: number;
            while ((i = buf.indexOf('\n\n')) >= 0) {
              const ev = buf.slice(0, i);
              buf = buf.slice(i + 2);
              const m = /"t":([\d.]+)/.exec(ev);
              if (m) delays.push(now - Number(m[1]));
            }
          });
          req.on('end', () => resolve());
          req.on('error', reject);
          req.end();
        }),
    ),
  );
  return delays.sort((a, b) => a - b);
}

const r3 = (n: number) => Math.round(n * 1000) / 1000;

const bench: BenchModule = {
  title: 'HTTP/2: Node http2 client direct vs through agenttap (CONNECT + TLS interception, h2 both legs)',
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const { loadOrCreateCA } = await import('../src/engine/cert-authority.js');
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'agenttap-h2-bench-'));
    const upCa = await loadOrCreateCA(path.join(tmp, 'upstream-ca'));
    const up = await startUpstream(upCa);
    const proxy = await startProxyChild({ upstreamCaPem: upCa.certPem, home: path.join(tmp, 'home'), out: path.join(tmp, 'capture.jsonl') });
    const results: BenchResult[] = [];
    let via: http2.ClientHttp2Session | undefined;
    try {
      const direct = await session(up.port, upCa.certPem);
      via = await session(up.port, upCa.certPem, proxy);
      const only = process.env.AGENTTAP_BENCH_SECTIONS?.split(',');
      const want = (section: string): boolean => !only || only.includes(section);
      const n = ctx.quick ? 300 : 2000;
      if (want('sequential')) {
        const warm = ctx.quick ? 50 : 300;
        const relay = await startRelayChild(up.port, upCa.certPem, await upCa.leafFor('127.0.0.1'));
        const viaRelay = await connected(http2.connect(`https://127.0.0.1:${relay.port}`, { ca: upCa.certPem, settings: { initialWindowSize: 4 << 20 } }));
        await proxy.peakRss();
        const [cpu0, sent0] = [proxy.lastCpuUs, opened.get(via) ?? 0];
        const [dSeq, pSeq, rSeq] = (await sequential([direct, via, viaRelay], n, warm)) as [number[], number[], number[]];
        viaRelay.close();
        relay.close();
        for (const p of [50, 95, 99]) results.push({ metric: `h2 sequential p${p} (floor: TLS both legs, bytes piped, no h2, no recording)`, value: r3(pct(rSeq, p)), baseline: r3(pct(dSeq, p)), unit: 'ms', ratio: r3(pct(rSeq, p) / pct(dSeq, p)) });
        for (const p of [50, 95, 99]) {
          const d = pct(dSeq, p);
          const v = pct(pSeq, p);
          results.push({ metric: `h2 sequential small requests p${p}`, value: r3(v), baseline: r3(d), unit: 'ms', ratio: r3(v / d), ...(p === 50 ? { target: '≤ 2.0×', pass: v / d <= 2 } : {}) });
        }
        const peakNow = await proxy.peakRss();
        const cpuPer = (proxy.lastCpuUs - cpu0) / Math.max(1, (opened.get(via) ?? 0) - sent0);
        ctx.log(`sequential p50 direct ${r3(pct(dSeq, 50))} ms, via agenttap ${r3(pct(pSeq, 50))} ms, proxy CPU ${Math.round(cpuPer)} µs/request; proxy peak RSS so far ${Math.round(peakNow / 1048576)} MB (${proxy.lastDetail})`);
      }
      // SSE before the throughput runs, so the proxy is not still writing their records meanwhile.
      if (want('sse')) {
        // Rounds alternate direct and proxied (the order rotating), so a burst of background load
        // or a GC in the bench process lands on both alike; the delays are pooled per side.
        const rounds = ctx.quick ? 2 : 4;
        const events = 15;
        const dSse: number[] = [];
        const pSse: number[] = [];
        for (let r = 0; r < rounds; r++) {
          for (const side of r % 2 ? (['via', 'direct'] as const) : (['direct', 'via'] as const)) {
            const got = await sse(side === 'direct' ? direct : via, 32, events);
            (side === 'direct' ? dSse : pSse).push(...got);
          }
        }
        dSse.sort((a, b) => a - b);
        pSse.sort((a, b) => a - b);
        results.push({ metric: 'h2 SSE per-event delay p50, 32 streams on one connection', value: r3(pct(pSse, 50)), baseline: r3(pct(dSse, 50)), unit: 'ms', ratio: r3(pct(pSse, 50) / pct(dSse, 50)) });
        const ratio99 = pct(pSse, 99) / pct(dSse, 99);
        results.push({ metric: 'h2 SSE per-event delay p99, 32 streams on one connection', value: r3(pct(pSse, 99)), baseline: r3(pct(dSse, 99)), unit: 'ms', ratio: r3(ratio99), target: '≤ 2×', pass: ratio99 <= 2 });
      }
      const dur = ctx.quick ? 1000 : 3000;
      for (const c of want('throughput') ? [16, 64] : []) {
        await proxy.peakRss();
        const [cpu0, sent0] = [proxy.lastCpuUs, opened.get(via) ?? 0];
        const [d, v] = (await throughputRotating([direct, via], c, dur, 6)) as [number, number];
        results.push({ metric: `h2 throughput c${c} (one connection)`, value: Math.round(v), baseline: Math.round(d), unit: 'req/s', ratio: r3(v / d), ...(c === 16 ? { target: '≥ 0.4×', pass: v / d >= 0.4 } : {}) });
        const peakNow = await proxy.peakRss();
        // CPU per request is steadier than req/s on a shared machine: it says what the proxy costs.
        const cpuPer = (proxy.lastCpuUs - cpu0) / Math.max(1, (opened.get(via) ?? 0) - sent0);
        ctx.log(`throughput c${c}: direct ${Math.round(d)} req/s, via agenttap ${Math.round(v)} req/s, proxy CPU ${Math.round(cpuPer)} µs/request; proxy peak RSS so far ${Math.round(peakNow / 1048576)} MB (${proxy.lastDetail})`);
      }
      direct.close();
      via.close();
      const rss = (await proxy.peakRss()) / 1024 / 1024;
      results.push({ metric: 'proxy peak RSS (h2 runs)', value: Math.round(rss), unit: 'MB', target: '≤ 120 MB', pass: rss <= 120 });
    } finally {
      await proxy.close();
      // The proxy measured is the product with recording on: say how many records it wrote.
      const out = path.join(tmp, 'capture.jsonl');
      const lines = existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean).length : 0;
      ctx.log(`capture file: ${lines} records written by the proxy (${via ? (opened.get(via) ?? 0) : 0} requests sent through it)`);
      await up.close();
      rmSync(tmp, { recursive: true, force: true });
    }
    return results;
  },
};

export default bench;
