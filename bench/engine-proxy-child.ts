// The proxy process of the engine benchmark (bench/engine.bench.ts forks it). Kept apart from the
// bench module so the proxy's RSS is the proxy's alone: the bench's client library (undici) and
// its 10 MB + 2 MB payload buffers live in the parent, as they would in a real agent.
import { startCaptureProxy } from '../src/capture/capture-proxy.js';

export interface ProxyChildConfig {
  upstream: string;
  upstreamCaPem: string;
  record: boolean;
  home: string;
  out: string;
}

const cfg = JSON.parse(process.argv[2]!) as ProxyChildConfig;
const cp = await startCaptureProxy({
  home: cfg.home,
  port: 0,
  out: cfg.record ? cfg.out : false,
  record: cfg.record,
  reverse: [{ port: 0, target: cfg.upstream }],
  upstreamCa: [cfg.upstreamCaPem],
});
// The kernel's high-water mark (ru_maxrss, KiB): the exact peak, with no sampling timer
// spending the proxy's CPU (reading /proc every few ms costs a few % here).
const peakRss = (): number => process.resourceUsage().maxRSS * 1024;
process.send!({ type: 'ready', forward: cp.address!.url, reverse: cp.reverseListeners[0]!.url, caPem: cp.ca.certPem });
process.on('message', (m: string) => {
  if (m === 'rss') {
    // The breakdown says where the memory is: JS heap, Buffers outside it, or neither (native).
    const u = process.memoryUsage();
    const mb = (n: number) => Math.round(n / 1048576);
    const cpu = process.cpuUsage();
    process.send!({ type: 'rss', peak: Math.max(peakRss(), u.rss), cpu: cpu.user + cpu.system, detail: `rss ${mb(u.rss)}, heap ${mb(u.heapUsed)}/${mb(u.heapTotal)}, external ${mb(u.external)}, arrayBuffers ${mb(u.arrayBuffers)} MB` });
  }
  if (m === 'close') void cp.close().then(() => process.exit(0));
});
// The bench died (crashed or killed): never outlive it holding ports and the bench lock.
process.on('disconnect', () => process.exit(0));
