// The lines `agenttap run` prints when the child is done: exchanges, LLM calls by model, tokens,
// cost, and where the capture is. The LLM layer is loaded when present; without it the summary
// still counts exchanges and hosts.
import type { CaptureRecord } from '../capture/record.js';
import type { LlmExchange } from '../llm/types.js';

export interface ModelLine {
  model: string;
  calls: number;
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
  costUsd?: number;
}

export interface RunSummary {
  exchanges: number;
  errors: number;
  llmCalls: number;
  byModel: ModelLine[];
  hosts: { host: string; count: number }[];
  costUsd?: number;
}

export interface LlmHooks {
  normalizeExchange(record: CaptureRecord): LlmExchange | undefined;
}

/** The LLM layer's functions (a seam so the summary can be tested without it). */
export async function loadLlmHooks(): Promise<LlmHooks | undefined> {
  try {
    const norm = await import('../llm/normalize.js');
    return { normalizeExchange: (r) => norm.normalizeExchange(r) };
  } catch {
    return undefined;
  }
}

/** Accumulates the summary record by record (a run's capture is read back streaming). */
export class SummaryBuilder {
  private readonly byModel = new Map<string, ModelLine>();
  private readonly hosts = new Map<string, number>();
  private exchanges = 0;
  private llmCalls = 0;
  private errors = 0;
  private cost: number | undefined;

  constructor(private readonly llm?: LlmHooks) {}

  add(r: CaptureRecord): void {
    this.exchanges++;
    this.hosts.set(r.server.host, (this.hosts.get(r.server.host) ?? 0) + 1);
    if (r.error) this.errors++;
    let ex: LlmExchange | undefined;
    try {
      ex = this.llm?.normalizeExchange(r);
    } catch {
      ex = undefined; // one odd exchange must not lose the summary
    }
    if (!ex || ex.detection.kind !== 'llm') return;
    this.llmCalls++;
    const model = ex.model ?? '(unknown model)';
    const line = this.byModel.get(model) ?? { model, calls: 0, input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
    const u = ex.response.usage ?? {};
    line.calls++;
    line.input += u.input ?? 0;
    line.output += u.output ?? 0;
    line.cacheRead += u.cacheRead ?? 0;
    line.cacheWrite += u.cacheWrite ?? 0;
    if (ex.costUsd !== undefined) {
      line.costUsd = (line.costUsd ?? 0) + ex.costUsd;
      this.cost = (this.cost ?? 0) + ex.costUsd;
    }
    this.byModel.set(model, line);
  }

  result(): RunSummary {
    return {
      exchanges: this.exchanges,
      errors: this.errors,
      llmCalls: this.llmCalls,
      byModel: [...this.byModel.values()].sort((a, b) => b.calls - a.calls),
      hosts: [...this.hosts].map(([host, count]) => ({ host, count })).sort((a, b) => b.count - a.count),
      ...(this.cost !== undefined ? { costUsd: this.cost } : {}),
    };
  }
}

export function summarize(records: Iterable<CaptureRecord>, llm?: LlmHooks): RunSummary {
  const b = new SummaryBuilder(llm);
  for (const r of records) b.add(r);
  return b.result();
}

const n = (x: number): string => x.toLocaleString('en-US');
const usd = (x: number): string => `$${x < 0.01 && x > 0 ? x.toFixed(4) : x.toFixed(2)}`;

export function formatSummary(s: RunSummary, capturePath: string, llmAvailable: boolean): string {
  const lines = [`agenttap: ${s.exchanges} exchange${s.exchanges === 1 ? '' : 's'}${s.errors ? ` (${s.errors} with errors)` : ''}, ${llmAvailable ? `${s.llmCalls} LLM call${s.llmCalls === 1 ? '' : 's'}` : 'LLM analysis not available in this build'}`];
  for (const m of s.byModel) {
    const cache = m.cacheRead || m.cacheWrite ? `, cache read ${n(m.cacheRead)} / write ${n(m.cacheWrite)}` : '';
    lines.push(`  ${m.model}: ${m.calls} call${m.calls === 1 ? '' : 's'}, ${n(m.input)} in / ${n(m.output)} out tokens${cache}${m.costUsd !== undefined ? `, ${usd(m.costUsd)}` : ''}`);
  }
  if (s.costUsd !== undefined) lines.push(`  total cost: ${usd(s.costUsd)}`);
  if (s.hosts.length) lines.push(`  hosts: ${s.hosts.slice(0, 6).map((h) => `${h.host} (${h.count})`).join(', ')}${s.hosts.length > 6 ? ', …' : ''}`);
  lines.push(`  capture: ${capturePath}`);
  return lines.join('\n') + '\n';
}
