// Start the capture proxy for a test: in-process (fast, direct access to the recorder) or as the
// real CLI in a child process (NODE_EXTRA_CA_CERTS, signals, exit codes). Loopback only.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readAllRecords } from '../../src/capture/reader.js';
import { startCaptureProxy, type CaptureProxy, type CaptureProxyOptions } from '../../src/capture/capture-proxy.js';
import type { CaptureRecord } from '../../src/capture/record.js';
import { cliBin } from './cli-process.js';
import { tempDir, type TempDir } from './temp-home.js';
import { upstreamTestCa } from './test-upstream.js';

export interface TestProxy {
  cp: CaptureProxy;
  /** Forward proxy URL, e.g. http://127.0.0.1:41234 */
  url: string;
  /** The proxy's CA certificate file (clients trust this). */
  caFile: string;
  caPem: string;
  home: TempDir;
  outFile: string;
  /** Records emitted so far (in memory, in finish order). */
  records: CaptureRecord[];
  /** Wait until `n` records were emitted (bounded). */
  waitForRecords(n: number, timeoutMs?: number): Promise<CaptureRecord[]>;
  /** Flush and read the capture file back. */
  fileRecords(): Promise<CaptureRecord[]>;
  close(): Promise<void>;
}

export async function startTestProxy(opts: CaptureProxyOptions = {}): Promise<TestProxy> {
  const home = tempDir('agenttap-home-');
  const { ca } = await upstreamTestCa();
  const outFile = home.file('capture.jsonl');
  const cp = await startCaptureProxy({ home: home.dir, port: 0, out: outFile, upstreamCa: [ca.certPem], ...opts });
  const records: CaptureRecord[] = [];
  cp.recorder.on('record', (r) => records.push(r));
  let closed = false;
  return {
    cp,
    url: cp.address?.url ?? '',
    caFile: cp.ca.files.certPath,
    caPem: cp.ca.certPem,
    home,
    outFile,
    records,
    async waitForRecords(n, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      while (records.length < n) {
        if (Date.now() > until) throw new Error(`expected ${n} records, got ${records.length}: ${JSON.stringify(records.map((r) => [r.request?.url, r.error]))}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return records;
    },
    async fileRecords() {
      await cp.recorder.flush();
      await cp.writer?.flush();
      return existsSync(cp.outFile ?? outFile) ? readAllRecords(cp.outFile ?? outFile) : [];
    },
    async close() {
      if (closed) return;
      closed = true;
      await cp.close();
      home.cleanup();
    },
  };
}

export interface CliProxy {
  child: ChildProcess;
  url?: string;
  reverse: { url: string; target: string }[];
  out: string;
  stdout(): string;
  stderr(): string;
  /** Send a signal and wait for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Run `agenttap proxy --json --port 0 …` and wait for its listening line. */
export function spawnCliProxy(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 15_000): Promise<CliProxy> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliBin, 'proxy', '--port', '0', '--json', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const exited: Promise<number | null> = new Promise((r) => child.on('exit', (code) => r(code)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`proxy did not start in time\nstdout: ${out}\nstderr: ${err}`));
    }, timeoutMs);
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (!out.includes('"listening"')) reject(new Error(`proxy exited with ${code}\nstdout: ${out}\nstderr: ${err}`));
    });
    child.stdout!.on('data', (d: Buffer) => {
      const before = out.includes('"listening"');
      out += d.toString();
      if (before) return;
      const line = out.split('\n').find((l) => l.includes('"listening"'));
      if (!line || !out.slice(out.indexOf(line)).includes('\n')) return;
      clearTimeout(timer);
      const info = JSON.parse(line) as { proxy?: string; reverse: { url: string; target: string }[]; out: string };
      resolve({
        child,
        url: info.proxy,
        reverse: info.reverse,
        out: info.out,
        stdout: () => out,
        stderr: () => err,
        stop: (signal = 'SIGINT') => {
          if (child.exitCode === null) child.kill(signal);
          const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
          return exited.finally(() => clearTimeout(t));
        },
      });
    });
  });
}
