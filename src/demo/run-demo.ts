// `agenttap demo`: everything offline. The fake LLM upstream (HTTPS, certificate from the
// agenttap CA), the capture proxy, and the bundled agent as a child process going through
// HTTPS_PROXY; then what was captured.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startCaptureProxy, type CaptureProxy } from '../capture/capture-proxy.js';
import type { CaptureRecord } from '../capture/record.js';
import { loadOrCreateCA } from '../engine/cert-authority.js';
import { agenttapHome } from '../engine/home.js';
import { startFakeLlm, type FakeLlm } from '../fake-llm/server.js';
import { parseMapRemote } from '../engine/map-remote.js';

const DEMO_HOSTS = ['api.anthropic.com', 'api.openai.com'];

export interface DemoOptions {
  out: string;
  home?: string;
  log?: (line: string) => void;
}

export interface DemoResult {
  out: string;
  records: CaptureRecord[];
  agentExitCode: number | null;
}

function runAgent(env: NodeJS.ProcessEnv, log: (s: string) => void): Promise<number | null> {
  const script = fileURLToPath(new URL('./agent.js', import.meta.url));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    const onOut = (d: Buffer) => {
      buf += d.toString();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        log(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    };
    child.stdout!.on('data', onOut);
    child.stderr!.on('data', onOut);
    child.on('close', (code) => resolve(code));
  });
}

export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const log = opts.log ?? ((s: string) => process.stdout.write(s + '\n'));
  const home = opts.home ?? agenttapHome();
  const ca = await loadOrCreateCA(home);
  const leaf = await ca.leafFor('127.0.0.1');
  let fake: FakeLlm | undefined;
  let cp: CaptureProxy | undefined;
  const records: CaptureRecord[] = [];
  rmSync(opts.out, { force: true });
  try {
    fake = await startFakeLlm({ tls: { cert: leaf.certPem, key: leaf.keyPem } });
    // The fake upstream's certificate comes from our own CA, so the proxy trusts that CA upstream.
    // The agent calls the real API hosts; --map-remote sends them to the fake upstream, so the
    // capture looks exactly like a real run (original URLs, provider detection) and stays offline.
    const mapRemote = DEMO_HOSTS.map((host) => parseMapRemote(`${host}=${fake!.url}`));
    cp = await startCaptureProxy({ home, ca, port: 0, out: opts.out, upstreamCa: [ca.certPem], mapRemote });
    cp.recorder.on('record', (r) => records.push(r));
    log(`fake LLM upstream (Anthropic Messages + OpenAI Chat Completions) on ${fake.url}, standing in for ${DEMO_HOSTS.join(' and ')}`);
    log(`capture proxy on ${cp.address!.url}, writing ${path.resolve(opts.out)}`);
    log('running the bundled agent through HTTPS_PROXY: a tool round trip per API, non-streaming then streaming');
    const agentExitCode = await runAgent(
      {
        AGENTTAP_DEMO_PROXY: cp.address!.url,
        AGENTTAP_DEMO_CA: ca.files.certPath,
        AGENTTAP_DEMO_ANTHROPIC: 'https://api.anthropic.com',
        AGENTTAP_DEMO_OPENAI: 'https://api.openai.com',
      },
      log,
    );
    await cp.close();
    return { out: opts.out, records, agentExitCode };
  } finally {
    await cp?.close();
    await fake?.close();
  }
}
