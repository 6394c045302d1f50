// `agenttap stats FILE [--by model|provider|agent|session|host] [--json]`
import type { Command } from 'commander';
import { usageError } from './errors.js';
import { parseGap, requireCapture, toCliError } from './sessions.js';
import { statSync } from 'node:fs';
import type { ExchangeSummary } from '../analysis/exchange-summary.js';
import { scanParallel, workersFor } from '../analysis/parallel-scan.js';
import { scanCapture } from '../analysis/scan.js';
import type { Assignment } from '../analysis/sessions.js';
import { groupKey, STATS_GROUPINGS, StatsAccumulator, type StatsGrouping, type StatsRow } from '../analysis/stats.js';
import { formatTokens, renderTable } from '../analysis/text-table.js';

function ms(n: number | null): string {
  return n === null ? '-' : n >= 1000 ? `${(n / 1000).toFixed(2)}s` : `${Math.round(n)}ms`;
}

function statsTable(by: StatsGrouping, rows: StatsRow[]): string {
  return renderTable(
    [by, 'requests', 'errors', 'input', 'output', 'cache read', 'cache write', 'reasoning', 'cost', 'latency p50', 'p95', 'ttft p50', 'p95'],
    rows.map((r) => [
      r.key,
      String(r.requests),
      String(r.errors),
      formatTokens(r.usage.input),
      formatTokens(r.usage.output),
      formatTokens(r.usage.cacheRead),
      formatTokens(r.usage.cacheWrite),
      formatTokens(r.usage.reasoning),
      r.costUsd ? `$${r.costUsd.toFixed(4)}` : '-',
      ms(r.latencyMs.p50),
      ms(r.latencyMs.p95),
      ms(r.ttftMs.p50),
      ms(r.ttftMs.p95),
    ]),
    [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12],
  );
}

export function register(program: Command): void {
  program
    .command('stats')
    .description('requests, errors, tokens, cost, latency and TTFT p50/p95 per model, provider, agent, session or host')
    .argument('<file>', 'capture file (record v1 JSONL)')
    .option('--by <grouping>', `group by: ${STATS_GROUPINGS.join(', ')}`, 'model')
    .option('--gap <seconds>', 'session gap for --by session', '300')
    .option('--json', 'one JSON object per group (JSON Lines)')
    .action(async (file: string, flags: { by: string; gap: string; json?: boolean }) => {
      if (!(STATS_GROUPINGS as readonly string[]).includes(flags.by)) throw usageError(`--by must be one of ${STATS_GROUPINGS.join(', ')}, got "${flags.by}"`);
      const by = flags.by as StatsGrouping;
      const gapSeconds = parseGap(flags.gap);
      requireCapture(file);
      const acc = new StatsAccumulator();
      try {
        const options = {
          gapSeconds,
          sessions: by === 'session',
          requests: by === 'session',
          progress: `reading ${file}`,
          onItem: ({ summary, assignment }: { summary: ExchangeSummary; assignment: Assignment }) => acc.add(summary, groupKey(summary, by, assignment.session)),
        };
        const workers = workersFor(statSync(file).size);
        if (workers > 0) await scanParallel(file, { ...options, workers });
        else await scanCapture(file, options);
      } catch (e) {
        throw toCliError(e);
      }
      const rows = acc.rows();
      if (flags.json) for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
      else process.stdout.write(statsTable(by, rows));
    });
}
