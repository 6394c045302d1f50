// `agenttap timeline FILE [--session ID] [--json]`
import type { Command } from 'commander';
import { CliError } from './errors.js';
import { parseGap, requireCapture, toCliError } from './sessions.js';
import { scanCapture } from '../analysis/scan.js';
import type { SessionTracker } from '../analysis/sessions.js';
import { TimelineBuilder, type TimelineStep } from '../analysis/timeline.js';
import { formatDuration, formatTokens } from '../analysis/text-table.js';

function oneLine(text: string | undefined, max: number): string {
  if (!text) return '';
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

function stepLine(s: TimelineStep, width: number): string {
  const time = s.timestamp.slice(11, 19);
  const head = `${String(s.step).padStart(width)}  ${time}  ${s.subagent ? '↳ ' : ''}${s.kind.padEnd(11)}`;
  switch (s.kind) {
    case 'prompt':
      return `${head} ${oneLine(s.text, 300)}`;
    case 'model':
    case 'answer': {
      const u = s.usage;
      const facts = [s.model, s.durationMs !== undefined ? formatDuration(s.durationMs) : undefined, u ? `${formatTokens((u.input ?? 0) + (u.cacheRead ?? 0) + (u.cacheWrite ?? 0))} in / ${formatTokens(u.output ?? 0)} out` : undefined].filter(Boolean).join(' · ');
      const lines = [`${head} ${facts}`];
      if (s.thinking) lines.push(`${' '.repeat(width + 24)}thinking: ${oneLine(s.thinking, 200)}`);
      if (s.text) lines.push(`${' '.repeat(width + 24)}${s.kind === 'answer' ? 'answer' : 'says'}: ${oneLine(s.text, s.kind === 'answer' ? 600 : 200)}`);
      if (s.isError) lines.push(`${' '.repeat(width + 24)}error: ${oneLine(s.output, 200)}`);
      return lines.join('\n');
    }
    case 'tool_call': {
      const touches = [...(s.files ?? []).map((f) => `file ${f}`), ...(s.commands ?? []).map((c) => `$ ${oneLine(c, 120)}`)];
      return `${head} ${s.tool} ${oneLine(s.arguments, 160)}${touches.length ? `\n${' '.repeat(width + 24)}touches: ${touches.join(', ')}` : ''}`;
    }
    case 'tool_result':
      return `${head} ${s.tool ?? s.toolCallId ?? 'tool'}${s.isError ? ' (error)' : ''}: ${oneLine(s.output, 200)}`;
  }
}

export function register(program: Command): void {
  program
    .command('timeline')
    .description('the step-by-step reasoning trace: task prompt, model turns, tool calls and results, final answer')
    .argument('<file>', 'capture file (record v1 JSONL)')
    .option('--session <id>', 'only this session (ids from `agenttap sessions`)')
    .option('--all', 'include one-shot helper calls (titles, summaries)')
    .option('--gap <seconds>', 'session gap', '300')
    .option('--json', 'one JSON object per step (JSON Lines)')
    .action((file: string, flags: TimelineFlags) => printTimeline(file, flags, (s) => process.stdout.write(s)));
}

export interface TimelineFlags {
  session?: string;
  all?: boolean;
  gap: string;
  json?: boolean;
}

/** Prints a capture's timeline as text (or JSON Lines); `agenttap demo` reuses it. */
export async function printTimeline(file: string, flags: TimelineFlags, write: (s: string) => void): Promise<void> {
  const gapSeconds = parseGap(flags.gap);
  requireCapture(file);
  const builder = new TimelineBuilder({ session: flags.session, includeUtility: flags.all });
  let tracker: SessionTracker | undefined;
  try {
    const result = await scanCapture(file, {
      gapSeconds,
      progress: `reading ${file}`,
      onItem: (item) => builder.add(item, item.assignment.kind),
    });
    tracker = result.tracker;
  } catch (e) {
    throw toCliError(e);
  }
  const bySession = builder.result();
  if (flags.session && !bySession.has(flags.session)) {
    const known = tracker!.result().map((s) => s.id);
    throw new CliError(`no session "${flags.session}" in ${file}${known.length ? `; sessions: ${known.slice(0, 10).join(', ')}${known.length > 10 ? ', …' : ''}` : ''}`, 1, 'no-session');
  }
  if (flags.json) {
    for (const steps of bySession.values()) for (const s of steps) write(`${JSON.stringify(s)}\n`);
    return;
  }
  if (bySession.size === 0) {
    write('no LLM conversations in this capture\n');
    return;
  }
  const sessions = new Map(tracker!.result().map((s) => [s.id, s]));
  for (const [id, steps] of bySession) {
    const s = sessions.get(id);
    write(`\nsession ${id}${s?.agent ? ` · ${s.agent}` : ''}${s ? ` · ${s.models.join(', ')}` : ''} · ${steps.length} steps\n`);
    const width = String(steps.length).length;
    for (const step of steps) write(`${stepLine(step, width)}\n`);
  }
}
