// The lines `agenttap run` prints when the child is done: exchanges, LLM calls by model, tokens,
// cost, and where the capture is. The LLM layer is loaded when present; without it the summary
// still counts exchanges and hosts.
import type { CaptureRecord } from '../capture/record.js';
import type { LlmExchange, Usage } from '../llm/types.js';

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
  costOf?(model: string, usage: Usage): number | undefined;
}

/** The LLM layer's functions, when its modules are built (they are optional for `run`). */
export async function loadLlmHooks(): Promise<LlmHooks | undefined> {
  const load = async (spec: string): Promise<Record<string, unknown> | undefined> => {
    try {
      return (await import(spec)) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  };
  const norm = await load('../llm/normalize.js');
  if (typeof norm?.['normalizeExchange'] !== 'function') return undefined;
  const pricing = (await load('../llm/pricing.js')) ?? norm;
  const costOf = typeof pricing['costOf'] === 'function' ? (pricing['costOf'] as LlmHooks['costOf']) : undefined;
  return { normalizeExchange: norm['normalizeExchange'] as LlmHooks['normalizeExchange'], ...(costOf ? { costOf } : {}) };
}

export function summarize(records: readonly CaptureRecord[], llm?: LlmHooks): RunSummary {
  const byModel = new Map<string, ModelLine>();
  const hosts = new Map<string, number>();
  let llmCalls = 0;
  let errors = 0;
  let cost: number | undefined;
  for (const r of records) {
    hosts.set(r.server.host, (hosts.get(r.server.host) ?? 0) + 1);
    if (r.error) errors++;
    let ex: LlmExchange | undefined;
    try {
      ex = llm?.normalizeExchange(r);
    } catch {
      ex = undefined; // one odd exchange must not lose the summary
    }
    if (!ex || ex.detection.kind !== 'llm') continue;
    llmCalls++;
    const model = ex.model ?? '(unknown model)';
    const line = byModel.get(model) ?? { model, calls: 0, input: 0, output: 0, cacheRead: 0, cacheWrite: 0 };
    const u = ex.response.usage ?? {};
    line.calls++;
    line.input += u.input ?? 0;
    line.output += u.output ?? 0;
    line.cacheRead += u.cacheRead ?? 0;
    line.cacheWrite += u.cacheWrite ?? 0;
    const c = ex.costUsd ?? (ex.model && llm?.costOf ? llm.costOf(ex.model, u) : undefined);
    if (c !== undefined) {
      line.costUsd = (line.costUsd ?? 0) + c;
      cost = (cost ?? 0) + c;
    }
    byModel.set(model, line);
  }
  return {
    exchanges: records.length,
    errors,
    llmCalls,
    byModel: [...byModel.values()].sort((a, b) => b.calls - a.calls),
    hosts: [...hosts].map(([host, count]) => ({ host, count })).sort((a, b) => b.count - a.count),
    ...(cost !== undefined ? { costUsd: cost } : {}),
  };
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
