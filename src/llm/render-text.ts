// The terminal rendering of one normalized exchange (what `agenttap inspect` prints): detection
// with its reasons, the conversation by role, tool calls with arguments, results, usage and cost.
import { styleText } from 'node:util';
import type { CaptureRecord } from '../capture/record.js';
import { formatCost } from './pricing.js';
import type { Block, Detection, LlmExchange, Turn, Usage } from './types.js';

export interface RenderOptions {
  /** Longest text shown per block before it is cut with "…" (0 = no limit). */
  maxText?: number;
  color?: boolean;
}

function clip(text: string, max: number): string {
  if (max <= 0 || text.length <= max) return text;
  return `${text.slice(0, max)}… (+${text.length - max} chars)`;
}

function indent(text: string, pad: string): string {
  return text.split('\n').map((l) => pad + l).join('\n');
}

function json(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

function blockLines(b: Block, max: number): string {
  switch (b.type) {
    case 'text':
      return b.refusal ? `(refusal) ${clip(b.text, max)}` : clip(b.text, max);
    case 'thinking':
      return `(thinking) ${clip(b.text, max)}`;
    case 'tool_call':
      return `→ ${b.server ? 'server tool' : 'tool call'} ${b.name}${b.id ? ` [${b.id}]` : ''} ${clip(json(b.input), max)}`;
    case 'tool_result':
      return `← tool result${b.id ? ` [${b.id}]` : ''}${b.isError ? ' (error)' : ''}: ${clip(json(b.output), max)}`;
    case 'image':
      return `(image${b.mediaType ? ` ${b.mediaType}` : ''})`;
    case 'other':
      return `(other) ${clip(json(b.raw), Math.min(max || 200, 200))}`;
  }
}

type Paint = (style: Parameters<typeof styleText>[0], text: string) => string;
const plain: Paint = (_s, t) => t;
const ROLE_STYLE: Record<Turn['role'], Parameters<typeof styleText>[0]> = { system: 'magenta', user: 'green', assistant: 'cyan', tool: 'yellow' };

function turnLines(t: Turn, max: number, paint: Paint = plain): string {
  const head = paint(ROLE_STYLE[t.role], `[${t.role}]`);
  if (t.blocks.length === 0) return `  ${head} (empty)`;
  const lines = t.blocks.map((b) => blockLines(b, max));
  const first = lines[0]!;
  const rest = lines.slice(1);
  return [`  ${head} ${indent(first, '    ').trimStart()}`, ...rest.map((l) => indent(l, '    '))].join('\n');
}

export function usageLine(u: Usage | undefined): string {
  if (!u) return 'usage: not reported';
  const parts: string[] = [];
  if (u.input !== undefined) parts.push(`input ${u.input}`);
  if (u.output !== undefined) parts.push(`output ${u.output}`);
  if (u.cacheRead !== undefined) parts.push(`cache read ${u.cacheRead}`);
  if (u.cacheWrite !== undefined) parts.push(`cache write ${u.cacheWrite}`);
  if (u.reasoning !== undefined) parts.push(`reasoning ${u.reasoning}`);
  return `usage: ${parts.join(' · ') || 'none'}`;
}

function headLine(record: CaptureRecord): string {
  const req = record.request;
  const status = record.response ? String(record.response.status) : record.error ? `error ${record.error.phase}` : 'no response';
  const what = record.kind === 'tunnel' ? `tunnel ${record.server.host}:${record.server.port}` : `${req?.method ?? ''} ${req?.url ?? ''}`;
  return `━━ ${record.id} · ${record.startedAt} · ${what} · ${status}`;
}

function detectionLine(d: Detection, x?: LlmExchange): string {
  const parts: string[] = [d.kind];
  if (d.provider) parts.push(`provider ${d.provider}`);
  if (d.api) parts.push(`api ${d.api}`);
  if (d.agent) parts.push(`agent ${d.agent}`);
  if (x?.model) parts.push(`model ${x.model}`);
  if (x) parts.push(x.stream ? 'stream' : 'no stream');
  if (x?.contextKey) parts.push(`context ${x.contextKey}`);
  return `   ${parts.join(' · ')}`;
}

function timingLine(record: CaptureRecord): string | undefined {
  const t = record.timing;
  if (!t || (t.ttfbMs === undefined && t.totalMs === undefined)) return undefined;
  const parts: string[] = [];
  if (t.ttfbMs !== undefined) parts.push(`first byte ${Math.round(t.ttfbMs)} ms`);
  if (t.totalMs !== undefined) parts.push(`total ${Math.round(t.totalMs)} ms`);
  return `timing: ${parts.join(' · ')}`;
}

export function renderExchangeText(record: CaptureRecord, detection: Detection, x: LlmExchange | undefined, opts: RenderOptions = {}): string {
  const max = opts.maxText ?? 600;
  const paint: Paint = opts.color ? (style, text) => styleText(style, text) : plain;
  const out: string[] = [paint('bold', headLine(record)), detectionLine(detection, x)];
  for (const r of detection.reasons) out.push(paint('dim', `   why: ${r}`));
  if (!x) return out.join('\n');
  if (x.request.system !== undefined) out.push(`  ${paint('magenta', '[system]')} ${indent(clip(x.request.system, max), '    ').trimStart()}`);
  if (x.request.previousResponseId) out.push(`  (continues response ${x.request.previousResponseId})`);
  if (x.request.tools.length) out.push(`  tools offered (${x.request.tools.length}): ${x.request.tools.map((t) => t.name).join(', ')}`);
  for (const t of x.request.turns) out.push(turnLines(t, max, paint));
  out.push(paint('bold', `  ⇒ response${x.response.stopReason ? ` (stop: ${x.response.stopReason})` : ''}`));
  for (const t of x.response.turns) out.push(turnLines(t, max, paint));
  if (x.response.error) out.push(paint('red', `  error: ${x.response.error}`));
  out.push(`  ${usageLine(x.response.usage)} · cost ${formatCost(x.costUsd)}`);
  const timing = timingLine(record);
  if (timing) out.push(`  ${timing}`);
  return out.join('\n');
}
