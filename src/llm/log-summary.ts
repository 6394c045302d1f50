// What the proxy's per-exchange log line adds for model calls: provider, model, tokens and cost.
import type { CaptureRecord } from '../capture/record.js';
import { llmSummaryOf, type LlmSummary } from './normalize.js';
import { formatCost } from './pricing.js';

export function llmLogFields(record: CaptureRecord): LlmSummary | undefined {
  try {
    return llmSummaryOf(record);
  } catch {
    return undefined;
  }
}

/** "  anthropic claude-sonnet-4-5 in 1200 (+800 cached) out 45 $0.0042", or "" for other traffic. */
export function llmLogSuffix(record: CaptureRecord): string {
  const s = llmLogFields(record);
  if (!s) return '';
  const parts: string[] = [s.provider ?? s.api ?? 'llm'];
  if (s.model) parts.push(s.model);
  const u = s.usage;
  if (u) {
    if (u.input !== undefined) parts.push(`in ${u.input}${u.cacheRead ? ` (cache read ${u.cacheRead})` : ''}${u.cacheWrite ? ` (cache write ${u.cacheWrite})` : ''}`);
    if (u.output !== undefined) parts.push(`out ${u.output}`);
    if (u.reasoning) parts.push(`reasoning ${u.reasoning}`);
  }
  if (u) parts.push(formatCost(s.costUsd));
  return `  ${parts.join(' ')}`;
}
