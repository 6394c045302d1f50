// Analysis over a large capture of realistic agent traffic (Claude Code sessions with a long
// system prompt, growing histories, tool results, sub-agents, helper calls, count_tokens, plus
// OpenAI Chat traffic): `sessions`, `stats` and `report --format md` against the floor,
// JSON.parse of every line. Each runs as a child process that reports its own peak RSS.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchModule, BenchResult } from './types.js';
import { claudeCodeSession, openaiChatRecord } from '../test/support/analysis-records.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../..');
const main = join(repoRoot, 'dist/src/cli/main.js');
const reader = join(repoRoot, 'dist/src/capture/reader.js');

const MB = 1 << 20;

/** Writes about `bytes` of capture; returns the record count. */
function generate(file: string, bytes: number): number {
  const fd = openSync(file, 'w');
  const systemPad = '\n' + 'Follow the repository conventions. Prefer small, focused edits. '.repeat(160);
  const filePad = '\n' + '# helper code\ndef helper(x):\n    return x * 2\n'.repeat(90);
  let written = 0;
  let records = 0;
  let t = Date.UTC(2026, 10, 20, 8, 0, 0);
  let i = 0;
  while (written < bytes) {
    const lines: string[] = [];
    for (const r of claudeCodeSession(t, `5e1c0d2a-0000-4000-8000-${String(i).padStart(12, '0')}`, 4000 + (i % 7), { system: systemPad, file: filePad.repeat(1 + (i % 3)) })) lines.push(JSON.stringify(r));
    lines.push(JSON.stringify(openaiChatRecord({ t: t + 20000, messages: [{ role: 'user', content: `Summarize ticket ${i}` }], answer: 'The ticket asks for a retry on timeouts.', usage: { prompt_tokens: 120, completion_tokens: 14 } })));
    const chunk = lines.join('\n') + '\n';
    writeSync(fd, chunk);
    written += Buffer.byteLength(chunk);
    records += lines.length;
    t += 60_000 + (i % 5) * 400_000; // some gaps above 300 s, so client+gap sessions split too
    i++;
  }
  closeSync(fd);
  return records;
}

interface Run {
  seconds: number;
  /** CPU seconds (user + system) of the child: steadier than wall time on a shared machine. */
  cpuSeconds: number;
  maxRssMb: number;
}

const FLOOR = `
const { readRecords } = await import(${JSON.stringify(reader)});
let n = 0;
for await (const _ of readRecords(process.argv[1], { onBadLine() {} })) n++;
process.stderr.write('records ' + n + '\\n');
`;

function runChild(args: string[]): Run {
  // The child reports its own peak RSS on exit (portable: no /usr/bin/time needed).
  const preload = `process.on('exit', () => { const u = process.resourceUsage(); process.stderr.write('\\n@@maxrss ' + u.maxRSS + ' @@cpu ' + (u.userCPUTime + u.systemCPUTime) + '\\n'); });`;
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(preload)}`, ...args], { encoding: 'utf8', maxBuffer: 64 * MB, stdio: ['ignore', 'ignore', 'pipe'] });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr.slice(-500)}`);
  const m = /@@maxrss (\d+) @@cpu (\d+)/.exec(r.stderr);
  return { seconds, cpuSeconds: m ? Number(m[2]) / 1e6 : NaN, maxRssMb: m ? Number(m[1]) / 1024 : NaN };
}

function measure(file: string, out: string) {
  const floor = runChild(['--input-type=module', '-e', FLOOR, file]);
  const sessions = runChild([main, 'sessions', file, '--json']);
  const stats = runChild([main, 'stats', file, '--json']);
  const report = runChild([main, 'report', file, '--format', 'md', '-o', out]);
  return { floor, sessions, stats, report };
}

const bench: BenchModule = {
  title: 'analysis: sessions, stats, report over a large capture',
  async run({ quick, log }) {
    const dir = mkdtempSync(join(tmpdir(), 'agenttap-analysis-bench-'));
    const results: BenchResult[] = [];
    try {
      const small = quick ? 20 * MB : 100 * MB;
      const large = quick ? 100 * MB : 1024 * MB;
      const sizes: [string, number][] = [['small', small], ['large', large]];
      const timings: Record<string, ReturnType<typeof measure> & { mb: number; records: number }> = {};
      for (const [name, bytes] of sizes) {
        const file = join(dir, `${name}.jsonl`);
        const records = generate(file, bytes);
        const mb = statSync(file).size / MB;
        log(`${name}: ${mb.toFixed(0)} MB, ${records} records`);
        timings[name] = { ...measure(file, join(dir, `${name}.md`)), mb, records };
        rmSync(file);
        rmSync(join(dir, `${name}.md`), { force: true });
      }
      const big = timings.large!;
      const sm = timings.small!;
      const label = `${big.mb.toFixed(0)} MB`;
      results.push({ metric: `floor: JSON.parse every line (${label})`, value: big.floor.seconds, unit: 's' });
      for (const cmd of ['sessions', 'stats', 'report'] as const) {
        const run = big[cmd];
        const ratio = run.seconds / big.floor.seconds;
        results.push({ metric: `${cmd === 'report' ? 'report --format md' : cmd} (${label})`, value: run.seconds, unit: 's', baseline: big.floor.seconds, ratio, target: '≤ 3×', pass: ratio <= 3 });
        results.push({ metric: `${cmd} CPU time (${label})`, value: run.cpuSeconds, unit: 's', baseline: big.floor.cpuSeconds, ratio: run.cpuSeconds / big.floor.cpuSeconds });
        results.push({ metric: `${cmd} peak RSS (${label})`, value: run.maxRssMb, unit: 'MB', target: '< 512 MB', pass: run.maxRssMb < 512 });
        const growth = run.seconds / big.mb / (sm[cmd].seconds / sm.mb);
        results.push({ metric: `${cmd} time per MB, ${big.mb.toFixed(0)} MB vs ${sm.mb.toFixed(0)} MB`, value: growth, unit: '×', target: '≤ 1.5× (linear)', pass: growth <= 1.5 });
      }
      results.push({ metric: `floor peak RSS (${label})`, value: big.floor.maxRssMb, unit: 'MB' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    return results;
  },
};

export default bench;
