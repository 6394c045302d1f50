// Engine benchmark: direct vs through agenttap, side by side in one run, on loopback.
// The proxy runs in a child process (bench/engine-proxy-child.ts: its own event loop, and its RSS measured on its own); the
// HTTPS upstream and the undici client share this process. Modes: forward with TLS interception
// (ProxyAgent + CONNECT), reverse (plain listener → HTTPS upstream), and forward with recording off.
// AGENTTAP_BENCH_PROXY_FLAGS="--flag …" passes extra node flags to the proxy child (V8 sizing trials, --cpu-prof).
// AGENTTAP_BENCH_SECTIONS=sequential,throughput,sse,bodies,recording runs only those sections (profiling).
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import type http from 'node:http';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Agent, ProxyAgent, request, type Dispatcher } from 'undici';
import type { ProxyChildConfig } from './engine-proxy-child.js';
import type { BenchContext, BenchModule, BenchResult } from './types.js';

type ChildConfig = ProxyChildConfig;

interface ProxyChild {
  child: ChildProcess;
  forward: string;
  reverse: string;
  caPem: string;
  peakRss(): Promise<number>;
  /** CPU time the child has used so far (user + system), in µs: as of the last peakRss() answer. */
  cpuMicros: number;
  /** The child's memory right now, broken down. */
  lastDetail: string;
  close(): Promise<void>;
}

function startProxyChild(cfg: ChildConfig): Promise<ProxyChild> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL('./engine-proxy-child.js', import.meta.url)), [JSON.stringify(cfg)], { env: { ...process.env, HTTPS_PROXY: '', HTTP_PROXY: '' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv: [...process.execArgv, ...(process.env.AGENTTAP_BENCH_PROXY_FLAGS?.split(' ').filter(Boolean) ?? [])] });
    const waiters: ((n: number) => void)[] = [];
    let pc: ProxyChild;
    child.on('message', (m: { type: string; forward: string; reverse: string; caPem: string; peak: number; detail: string; cpu: number }) => {
      if (m.type === 'ready') {
        resolve(pc = {
          lastDetail: '',
          cpuMicros: 0,
          child,
          forward: m.forward,
          reverse: m.reverse,
          caPem: m.caPem,
          peakRss: () => new Promise((r) => (waiters.push(r), child.send('rss'))),
          close: () => new Promise((r) => (child.once('exit', () => r()), child.send('close'))),
        });
      } else if (m.type === 'rss') {
        pc.lastDetail = m.detail;
        pc.cpuMicros = m.cpu;
        waiters.shift()?.(m.peak);
      }
    });
    child.once('exit', (code) => reject(new Error(`bench proxy child exited with ${code}`)));
  });
}

/** bench/engine-relay-child.ts: a bare TLS byte relay in its own process (the floor for any proxy). */
function startRelayChild(upstreamUrl: string, caPem: string): Promise<{ url: string; close(): void }> {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(new URL('./engine-relay-child.js', import.meta.url)), [JSON.stringify({ port: Number(new URL(upstreamUrl).port), caPem })], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.once('message', (m: { port: number }) => resolve({ url: `http://127.0.0.1:${m.port}`, close: () => child.kill() }));
    child.once('exit', (code) => reject(new Error(`bench relay child exited with ${code}`)));
  });
}

// ---------------------------------------------------------------- upstream

const SMALL = Buffer.from(JSON.stringify({ id: 'msg_bench', type: 'message', content: [{ type: 'text', text: 'x'.repeat(60) }] }));
const TEN_MB = Buffer.alloc(10 * 1024 * 1024, 'a');

async function startUpstream(ca: { leafFor(h: string): Promise<{ certPem: string; keyPem: string }> }): Promise<{ url: string; close(): Promise<void> }> {
  const leaf = await ca.leafFor('127.0.0.1');
  const server = https.createServer({ cert: leaf.certPem, key: leaf.keyPem, keepAliveTimeout: 60_000 }, (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = req.url ?? '/';
    if (url.startsWith('/sse')) {
      // /sse?n=50&gap=10: n events, `gap` ms apart, each carrying its send time.
      const q = new URLSearchParams(url.split('?')[1]);
      const n = Number(q.get('n') ?? 50);
      const gap = Number(q.get('gap') ?? 10);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let i = 0;
      const tick = () => {
        res.write(`data: {"i":${i},"t":${performance.now()}}\n\n`);
        if (++i < n) setTimeout(tick, gap);
        else res.end();
      };
      tick();
      return;
    }
    if (url === '/upload') {
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => res.end(String(n)));
      return;
    }
    if (url === '/10mb') {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': TEN_MB.length });
      // Written in 64 KB pieces so backpressure is exercised end to end.
      let off = 0;
      const pump = () => {
        while (off < TEN_MB.length) {
          const piece = TEN_MB.subarray(off, off + 65536);
          off += piece.length;
          if (!res.write(piece)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
      return;
    }
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': SMALL.length });
      res.end(SMALL);
    });
  });
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => (sockets.add(s), s.on('close', () => sockets.delete(s))));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => (sockets.forEach((s) => s.destroy()), server.close(() => r()))),
  };
}

// ---------------------------------------------------------------- measurements

function pct(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function getSmall(d: Dispatcher, url: string): Promise<void> {
  const res = await request(`${url}/small`, { dispatcher: d });
  await res.body.arrayBuffer();
  if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
}

interface Target {
  d: Dispatcher;
  url: string;
}

/**
 * Sequential small requests, the modes interleaved request by request (order rotating), so a
 * burst of background load on these shared cores hits every mode alike. Latencies sorted, per mode.
 */
async function sequential(targets: Target[], n: number): Promise<number[][]> {
  for (const t of targets) for (let i = 0; i < 50; i++) await getSmall(t.d, t.url); // warm-up: connections, leaf certs, JIT
  const lat: number[][] = targets.map(() => []);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < targets.length; k++) {
      const j = (i + k) % targets.length;
      const t = performance.now();
      await getSmall(targets[j]!.d, targets[j]!.url);
      lat[j]!.push(performance.now() - t);
    }
  }
  return lat.map((l) => l.sort((a, b) => a - b));
}

/**
 * Requests per second at `concurrency`, per target: `rounds` short windows per target,
 * interleaved (order rotating), summed. Interleaving makes the ratios fair under background load.
 */
async function throughput(targets: Target[], concurrency: number, ms: number, rounds = 6, counts?: number[]): Promise<number[]> {
  const run = async (t: Target, windowMs: number): Promise<number> => {
    let done = 0;
    const end = performance.now() + windowMs;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        await getSmall(t.d, t.url);
        done++;
      }
    }));
    return done;
  };
  for (const t of targets) await run(t, 200); // warm-up: connections, JIT
  const done = targets.map(() => 0);
  const time = targets.map(() => 0);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < targets.length; k++) {
      const j = (r + k) % targets.length;
      const t0 = performance.now();
      done[j]! += await run(targets[j]!, ms / rounds);
      time[j]! += performance.now() - t0;
    }
  }
  counts?.push(...done);
  return done.map((n, j) => n / (time[j]! / 1000));
}

interface SseStats {
  ttfb: number[];
  delay: number[];
}

async function sseStreams(d: Dispatcher, url: string, streams: number, events: number, gap: number): Promise<SseStats> {
  const ttfb: number[] = [];
  const delay: number[] = [];
  await Promise.all(Array.from({ length: streams }, async () => {
    const t0 = performance.now();
    const res = await request(`${url}/sse?n=${events}&gap=${gap}`, { dispatcher: d });
    let first = true;
    let buf = '';
    for await (const chunk of res.body) {
      const now = performance.now();
      if (first) {
        ttfb.push(now - t0);
        first = false;
      }
      buf += chunk.toString();
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const ev = JSON.parse(buf.slice(6, i)) as { t: number };
        delay.push(now - ev.t);
        buf = buf.slice(i + 2);
      }
    }
  }));
  return { ttfb: ttfb.sort((a, b) => a - b), delay: delay.sort((a, b) => a - b) };
}

async function download(d: Dispatcher, url: string): Promise<number> {
  const t = performance.now();
  const res = await request(`${url}/10mb`, { dispatcher: d });
  let n = 0;
  for await (const c of res.body) n += (c as Buffer).length;
  if (n !== TEN_MB.length) throw new Error(`10 MB download got ${n} bytes`);
  return performance.now() - t;
}

const TWO_MB = Buffer.alloc(2 * 1024 * 1024, 'b');

async function upload(d: Dispatcher, url: string): Promise<number> {
  const t = performance.now();
  const res = await request(`${url}/upload`, { dispatcher: d, method: 'POST', body: TWO_MB });
  const got = await res.body.text();
  if (Number(got) !== TWO_MB.length) throw new Error(`2 MB upload: upstream got ${got}`);
  return performance.now() - t;
}

async function median(times: number, fn: () => Promise<number>): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < times; i++) xs.push(await fn());
  return xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

// ---------------------------------------------------------------- the module

const r3 = (n: number) => Math.round(n * 1000) / 1000;

const bench: BenchModule = {
  title: 'engine: direct vs through agenttap (HTTP/1.1, loopback)',
  async run(ctx: BenchContext): Promise<BenchResult[]> {
    const q = ctx.quick;
    const tmp = mkdtempSync(path.join(os.tmpdir(), 'agenttap-bench-'));
    const { loadOrCreateCA } = await import('../src/engine/cert-authority.js');
    const upstreamCa = await loadOrCreateCA(path.join(tmp, 'upstream-ca'));
    const upstream = await startUpstream(upstreamCa);
    const cfg = (record: boolean, file = record ? 'on.jsonl' : 'off.jsonl'): ChildConfig => ({ upstream: upstream.url, upstreamCaPem: upstreamCa.certPem, record, home: path.join(tmp, 'home'), out: path.join(tmp, file) });
    // The proxy's CA exists before it starts, as after any first run: generating one is a
    // one-off per install (and loads the X.509 library the steady-state proxy does without).
    await loadOrCreateCA(path.join(tmp, 'home'));
    const px = await startProxyChild(cfg(true));
    const direct = new Agent({ connect: { ca: upstreamCa.certPem }, keepAliveTimeout: 60_000 });
    const forward = new ProxyAgent({ uri: px.forward, requestTls: { ca: px.caPem }, keepAliveTimeout: 60_000 });
    const reverse = new Agent({ keepAliveTimeout: 60_000 });
    const results: BenchResult[] = [];
    const seqN = q ? 300 : 2000;
    const thrMs = q ? 1000 : 3000;
    const only = process.env.AGENTTAP_BENCH_SECTIONS?.split(',');
    const want = (section: string): boolean => !only || only.includes(section);
    try {
      // Sequential small requests.
      if (want('sequential')) {
      const relay = await startRelayChild(upstream.url, upstreamCa.certPem);
      const relayAgent = new Agent({ keepAliveTimeout: 60_000 });
      let seq: Record<'direct' | 'forward' | 'reverse' | 'relay', number[]>;
      try {
        const [sd, sf, sr, sy] = await sequential([{ d: direct, url: upstream.url }, { d: forward, url: upstream.url }, { d: reverse, url: px.reverse }, { d: relayAgent, url: relay.url }], seqN);
        seq = { direct: sd!, forward: sf!, reverse: sr!, relay: sy! };
      } finally {
        await relayAgent.close();
        relay.close();
      }
      // What one more process on the path costs here, whatever it does: the ratio no proxy can beat.
      results.push({ metric: 'sequential small p50 (floor: bare byte relay, no HTTP, no recording)', value: r3(pct(seq.relay, 50)), unit: 'ms', baseline: r3(pct(seq.direct, 50)), ratio: pct(seq.relay, 50) / pct(seq.direct, 50) });
      for (const p of [50, 95, 99]) {
        for (const mode of ['forward', 'reverse'] as const) {
          const v = pct(seq[mode], p);
          const b = pct(seq.direct, p);
          const res: BenchResult = { metric: `sequential small p${p} (${mode === 'forward' ? 'forward TLS' : 'reverse'})`, value: r3(v), unit: 'ms', baseline: r3(b), ratio: v / b };
          if (p === 50) Object.assign(res, { target: '≤ 2.0×', pass: v / b <= 2 });
          results.push(res);
        }
      }
      ctx.log(`sequential done (${seqN} requests per mode)` + `, proxy peak RSS so far ${Math.round((await px.peakRss()) / 1048576)} MB (${px.lastDetail})`);
      }

      // Throughput.
      if (want('throughput')) {
      for (const c of [16, 64]) {
        const [b, f, rv] = (await throughput([{ d: direct, url: upstream.url }, { d: forward, url: upstream.url }, { d: reverse, url: px.reverse }], c, thrMs)) as [number, number, number];
        for (const [mode, v] of [['forward TLS', f], ['reverse', rv]] as const) {
          const res: BenchResult = { metric: `throughput c${c} (${mode})`, value: Math.round(v), unit: 'req/s', baseline: Math.round(b), ratio: v / b };
          if (c === 16) Object.assign(res, { target: '≥ 0.4×', pass: v / b >= 0.4 });
          results.push(res);
        }
      }
      ctx.log('throughput done' + `, proxy peak RSS so far ${Math.round((await px.peakRss()) / 1048576)} MB (${px.lastDetail})`);
      }
      if (want('sse')) {

      // SSE: one stream (added TTFB), then 32 concurrent streams (per-event delay).
      const oneN = q ? 20 : 60;
      const one = { direct: [] as number[], forward: [] as number[], reverse: [] as number[] };
      await sseStreams(forward, upstream.url, 1, 2, 1);
      for (let i = 0; i < oneN; i++) {
        one.direct.push((await sseStreams(direct, upstream.url, 1, 2, 1)).ttfb[0]!);
        one.forward.push((await sseStreams(forward, upstream.url, 1, 2, 1)).ttfb[0]!);
        one.reverse.push((await sseStreams(reverse, px.reverse, 1, 2, 1)).ttfb[0]!);
      }
      for (const k of Object.values(one)) k.sort((a, b) => a - b);
      for (const mode of ['forward', 'reverse'] as const) {
        const added = pct(one[mode], 50) - pct(one.direct, 50);
        results.push({ metric: `SSE added TTFB, 1 stream, p50 (${mode === 'forward' ? 'forward TLS' : 'reverse'})`, value: r3(added), unit: 'ms', target: '≤ 1 ms', pass: added <= 1 });
      }
      const ev = q ? 30 : 100;
      // Rounds of the three modes in rotating order, samples pooled: one burst of background load
      // on these shared cores then lands on every mode alike rather than on one whole mode.
      const s32: Record<'direct' | 'forward' | 'reverse', SseStats> = { direct: { ttfb: [], delay: [] }, forward: { ttfb: [], delay: [] }, reverse: { ttfb: [], delay: [] } };
      const sseTargets = [['direct', direct, upstream.url], ['forward', forward, upstream.url], ['reverse', reverse, px.reverse]] as const;
      const sseRounds = q ? 1 : 3;
      // The first round opens 32 connections per mode at once (through the proxy: 32 CONNECTs and
      // 64 TLS handshakes) while earlier streams' events flow. That cold start is reported on its
      // own; the pooled rounds measure established streams, as an agent's are.
      const cold: Record<'direct' | 'forward' | 'reverse', SseStats> = { direct: { ttfb: [], delay: [] }, forward: { ttfb: [], delay: [] }, reverse: { ttfb: [], delay: [] } };
      for (const [mode, d, url] of sseTargets) cold[mode] = await sseStreams(d, url, 32, ev, 10);
      for (let r = 0; r < sseRounds; r++) {
        for (let k = 0; k < sseTargets.length; k++) {
          const [mode, d, url] = sseTargets[(r + k) % sseTargets.length]!;
          const got = await sseStreams(d, url, 32, ev, 10);
          s32[mode].ttfb.push(...got.ttfb);
          s32[mode].delay.push(...got.delay);
        }
      }
      for (const v of Object.values(s32)) {
        v.ttfb.sort((a, b) => a - b);
        v.delay.sort((a, b) => a - b);
      }
      for (const mode of ['forward', 'reverse'] as const) {
        const label = mode === 'forward' ? 'forward TLS' : 'reverse';
        results.push({ metric: `SSE 32 streams added TTFB p50 (${label})`, value: r3(pct(s32[mode].ttfb, 50) - pct(s32.direct.ttfb, 50)), unit: 'ms' });
        results.push({ metric: `SSE 32 streams per-event delay p50 (${label})`, value: r3(pct(s32[mode].delay, 50)), unit: 'ms', baseline: r3(pct(s32.direct.delay, 50)), ratio: pct(s32[mode].delay, 50) / pct(s32.direct.delay, 50) });
        const v = pct(s32[mode].delay, 99);
        const b = pct(s32.direct.delay, 99);
        results.push({ metric: `SSE 32 streams per-event delay p99 (${label})`, value: r3(v), unit: 'ms', baseline: r3(b), ratio: v / b, target: '≤ 2.0×', pass: v / b <= 2 });
        const cv = pct(cold[mode].delay, 99);
        const cb = pct(cold.direct.delay, 99);
        results.push({ metric: `SSE 32 streams per-event delay p99, first round with 32 new connections (${label})`, value: r3(cv), unit: 'ms', baseline: r3(cb), ratio: cv / cb });
      }
      ctx.log('SSE done' + `, proxy peak RSS so far ${Math.round((await px.peakRss()) / 1048576)} MB (${px.lastDetail})`);
      }
      if (want('bodies')) {

      // Big bodies.
      const reps = q ? 2 : 5;
      const dl = { direct: await median(reps, () => download(direct, upstream.url)), forward: await median(reps, () => download(forward, upstream.url)), reverse: await median(reps, () => download(reverse, px.reverse)) };
      const ul = { direct: await median(reps, () => upload(direct, upstream.url)), forward: await median(reps, () => upload(forward, upstream.url)), reverse: await median(reps, () => upload(reverse, px.reverse)) };
      for (const mode of ['forward', 'reverse'] as const) {
        const label = mode === 'forward' ? 'forward TLS' : 'reverse';
        results.push({ metric: `10 MB response (${label})`, value: r3(dl[mode]), unit: 'ms', baseline: r3(dl.direct), ratio: dl[mode] / dl.direct });
        results.push({ metric: `2 MB request (${label})`, value: r3(ul[mode]), unit: 'ms', baseline: r3(ul.direct), ratio: ul[mode] / ul.direct });
      }
      const rss = (await px.peakRss()) / 1024 / 1024;
      results.push({ metric: 'proxy peak RSS (whole run, recording on)', value: Math.round(rss), unit: 'MB', target: '≤ 120 MB', pass: rss <= 120 });
      ctx.log(`bodies done (${px.lastDetail})`);
      }
      if (want('recording')) {

      // Recording on vs off: same engine, forward TLS, c16, two fresh proxies (the main one has
      // a run's worth of heap and capture behind it by now).
      const on = await startProxyChild(cfg(true, 'recording-on.jsonl'));
      const off = await startProxyChild(cfg(false));
      const onAgent = new ProxyAgent({ uri: on.forward, requestTls: { ca: on.caPem }, keepAliveTimeout: 60_000 });
      const offAgent = new ProxyAgent({ uri: off.forward, requestTls: { ca: off.caPem }, keepAliveTimeout: 60_000 });
      try {
        await Promise.all([on.peakRss(), off.peakRss()]);
        const cpu0 = [on.cpuMicros, off.cpuMicros];
        const counts: number[] = [];
        const [onT, offT] = (await throughput([{ d: onAgent, url: upstream.url }, { d: offAgent, url: upstream.url }], 16, 2 * thrMs, 12, counts)) as [number, number];
        await Promise.all([on.peakRss(), off.peakRss()]);
        // CPU per request includes the warm-up window's requests in the count's absence: a small overstatement, alike for both.
        const perReq = [(on.cpuMicros - cpu0[0]!) / counts[0]!, (off.cpuMicros - cpu0[1]!) / counts[1]!];
        ctx.log(`recording on vs off: proxy CPU per request ${perReq[0]!.toFixed(1)} µs vs ${perReq[1]!.toFixed(1)} µs`);
        results.push({ metric: 'proxy CPU per request, c16 forward TLS, recording on vs off', value: r3(perReq[0]!), unit: 'µs', baseline: r3(perReq[1]!), ratio: perReq[0]! / perReq[1]! });
        results.push({ metric: 'throughput c16 forward TLS, recording on vs off', value: Math.round(onT), unit: 'req/s', baseline: Math.round(offT), ratio: onT / offT, target: '≥ 0.85×', pass: onT / offT >= 0.85 });
      } finally {
        await Promise.all([onAgent.close(), offAgent.close()]);
        await Promise.all([on.close(), off.close()]);
      }
      }
    } finally {
      await Promise.all([direct.close(), forward.close(), reverse.close()]);
      await px.close();
      await upstream.close();
      rmSync(tmp, { recursive: true, force: true });
    }
    return results;
  },
};

export default bench;
