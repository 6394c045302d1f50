// Real agents for the run tests, installed from npm into a cache outside the package (never into
// its dependencies): ~/.cache/agenttap-test-agents/<name>-<version>. Pinned versions so a run is
// reproducible; AGENTTAP_TEST_AGENTS_DIR moves the cache.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface AgentPackage {
  name: 'claude-code' | 'codex' | 'gemini-cli' | 'opencode';
  pkg: string;
  version: string;
  bin: string;
}

export const AGENTS: Record<AgentPackage['name'], AgentPackage> = {
  'claude-code': { name: 'claude-code', pkg: '@anthropic-ai/claude-code', version: '2.1.330', bin: 'claude' },
  codex: { name: 'codex', pkg: '@openai/codex', version: '0.169.0', bin: 'codex' },
  'gemini-cli': { name: 'gemini-cli', pkg: '@google/gemini-cli', version: '0.61.0', bin: 'gemini' },
  opencode: { name: 'opencode', pkg: 'opencode-ai', version: '1.18.33', bin: 'opencode' },
};

export function agentCacheDir(): string {
  return process.env['AGENTTAP_TEST_AGENTS_DIR'] ?? join(homedir(), '.cache', 'agenttap-test-agents');
}

function agentDir(a: AgentPackage): string {
  return join(agentCacheDir(), `${a.pkg.replace(/^@/, '').replace('/', '-')}-${a.version}`);
}

export function agentBin(a: AgentPackage): string {
  return join(agentDir(a), 'node_modules', '.bin', a.bin);
}

/** The agent's executable, installing it into the cache first when needed. Rejects with npm's output on failure. */
export async function ensureAgent(a: AgentPackage): Promise<string> {
  const bin = agentBin(a);
  if (existsSync(bin)) return bin;
  const dir = agentDir(a);
  mkdirSync(dir, { recursive: true });
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  await new Promise<void>((resolve, reject) => {
    const p = spawn(npm, ['install', '--prefix', dir, '--no-audit', '--no-fund', '--loglevel=error', `${a.pkg}@${a.version}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const t = setTimeout(() => p.kill('SIGKILL'), 15 * 60_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(t);
      if (code === 0 && existsSync(bin)) resolve();
      else reject(new Error(`npm install ${a.pkg}@${a.version} failed (exit ${code}):\n${out.slice(-2000)}`));
    });
  });
  return bin;
}
