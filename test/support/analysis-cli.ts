// Spawning the real CLI (node bin/agenttap.js) for analysis/interop tests, and fixture paths.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const fixtures = resolve(repoRoot, '../shared/fixtures');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function agenttap(args: string[], options: { env?: NodeJS.ProcessEnv } = {}): CliResult {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin/agenttap.js'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...options.env },
    maxBuffer: 256 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The same, without blocking the event loop (for tests that also run a server). */
export function agenttapAsync(args: string[]): Promise<CliResult> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin/agenttap.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

const made: string[] = [];
process.once('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A temporary directory, removed when the test process exits. */
export function tempDir(prefix = 'agenttap-analysis-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function jsonLines<T = Record<string, unknown>>(text: string): T[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as T);
}

/** assert.match without dumping a whole report into the test log. */
export function assertHas(text: string, re: RegExp, message?: string): void {
  if (re.test(text)) return;
  const probe = re.source.replace(/\\(.)/g, '$1').replace(/[\^$().*+?[\]{}|]/g, ' ').trim().split(/\s+/)[0] ?? '';
  const at = probe ? text.indexOf(probe) : -1;
  const near = at >= 0 ? text.slice(Math.max(0, at - 200), at + 400) : text.slice(0, 300);
  throw new Error(`${message ?? 'output does not match'} ${re} (${text.length} chars); near: ${JSON.stringify(near)}`);
}

export function assertHasNot(text: string, re: RegExp, message?: string): void {
  const m = re.exec(text);
  if (!m) return;
  throw new Error(`${message ?? 'output must not match'} ${re}; found ${JSON.stringify(text.slice(Math.max(0, m.index - 150), m.index + 150))}`);
}
