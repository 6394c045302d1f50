// Per-group totals: requests, errors, tokens, cost, latency and TTFT percentiles. Groups keep
// numbers only (latencies as a growable Float64Array), never records.
import type { Usage } from '../llm/types.js';
import type { ExchangeSummary } from './exchange-summary.js';
import { emptyUsage } from './sessions.js';

export const STATS_GROUPINGS = ['model', 'provider', 'agent', 'session', 'host'] as const;
export type StatsGrouping = (typeof STATS_GROUPINGS)[number];

export interface Percentiles {
  p50: number | null;
  p95: number | null;
}

export interface StatsRow {
  key: string;
  requests: number;
  errors: number;
  usage: Required<Usage>;
  costUsd: number;
  latencyMs: Percentiles;
  ttftMs: Percentiles;
}

class NumberList {
  private data = new Float64Array(8);
  length = 0;
  push(n: number): void {
    if (this.length === this.data.length) {
      const next = new Float64Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = n;
  }
  percentiles(): Percentiles {
    if (this.length === 0) return { p50: null, p95: null };
    const sorted = this.data.slice(0, this.length).sort();
    const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
    return { p50: round(at(0.5)), p95: round(at(0.95)) };
  }
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

interface Group {
  row: StatsRow;
  latency: NumberList;
  ttft: NumberList;
}

export const NO_KEY = '(none)';

/** localeCompare's order (the default collator), without localeCompare's per-call collator setup: thousands of sessions sort fast. */
const byLocale = new Intl.Collator().compare;

export function groupKey(summary: ExchangeSummary, by: StatsGrouping, session?: string): string {
  switch (by) {
    case 'model':
      return summary.llm?.model ?? NO_KEY;
    case 'provider':
      return summary.llm?.provider ?? NO_KEY;
    case 'agent':
      return summary.llm?.agent ?? summary.labels?.target ?? NO_KEY;
    case 'session':
      return session ?? NO_KEY;
    case 'host':
      return summary.host || NO_KEY;
  }
}

export function isError(s: ExchangeSummary): boolean {
  return !!s.errorPhase || (s.status !== undefined && s.status >= 400) || !!s.llm?.error;
}

export class StatsAccumulator {
  private readonly groups = new Map<string, Group>();

  add(summary: ExchangeSummary, key: string): void {
    let g = this.groups.get(key);
    if (!g) {
      g = {
        row: { key, requests: 0, errors: 0, usage: emptyUsage(), costUsd: 0, latencyMs: { p50: null, p95: null }, ttftMs: { p50: null, p95: null } },
        latency: new NumberList(),
        ttft: new NumberList(),
      };
      this.groups.set(key, g);
    }
    const r = g.row;
    r.requests++;
    if (isError(summary)) r.errors++;
    const u = summary.llm && !summary.llm.countOnly ? summary.llm.usage : undefined;
    if (u) {
      r.usage.input += u.input ?? 0;
      r.usage.output += u.output ?? 0;
      r.usage.cacheRead += u.cacheRead ?? 0;
      r.usage.cacheWrite += u.cacheWrite ?? 0;
      r.usage.reasoning += u.reasoning ?? 0;
    }
    if (!summary.llm?.countOnly) r.costUsd += summary.llm?.costUsd ?? 0;
    if (summary.durationMs !== undefined) g.latency.push(summary.durationMs);
    if (summary.ttftMs !== undefined) g.ttft.push(summary.ttftMs);
  }

  /** Rows, most requests first. */
  rows(): StatsRow[] {
    const out: StatsRow[] = [];
    for (const g of this.groups.values()) {
      g.row.latencyMs = g.latency.percentiles();
      g.row.ttftMs = g.ttft.percentiles();
      g.row.costUsd = Math.round(g.row.costUsd * 1e6) / 1e6;
      out.push(g.row);
    }
    return out.sort((a, b) => b.requests - a.requests || byLocale(a.key, b.key));
  }
}
