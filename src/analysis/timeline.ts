// The step-by-step reasoning trace of a session (after the original tracer's reconstruction):
// step 1 the task prompt, then each model turn with its thinking summary and tool calls (name,
// arguments, the files or commands they touch), the tool results that came back, and the
// final answer, with time and tokens per step. Built online from scan items; texts are kept
// short so a whole day of sessions fits in memory.
import type { Block, Turn, Usage } from '../llm/types.js';
import type { ScanItem } from './scan.js';
import { toolTouches } from './tool-touches.js';
import { userTexts } from './exchange-summary.js';

export type StepKind = 'prompt' | 'model' | 'tool_call' | 'tool_result' | 'answer';

export interface TimelineStep {
  session: string;
  step: number;
  kind: StepKind;
  timestamp: string;
  conversation: string;
  exchangeId: string;
  model?: string;
  durationMs?: number;
  usage?: Usage;
  text?: string;
  thinking?: string;
  tool?: string;
  toolCallId?: string;
  arguments?: string;
  files?: string[];
  commands?: string[];
  output?: string;
  isError?: boolean;
  /** Sub-agent steps: the conversation runs inside a parent's tool call. */
  subagent?: boolean;
}

export interface TimelineOptions {
  session?: string;
  /** Include one-shot helper calls (titles, summaries); off by default. */
  includeUtility?: boolean;
  /** Max characters kept per text field. */
  maxText?: number;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Keeps both ends: a prompt after a compaction summary is at the end of a long first turn. */
function clipMiddle(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = Math.floor(max / 3);
  return `${text.slice(0, head)} […] ${text.slice(text.length - (max - head - 7))}`;
}

export function outputText(output: unknown): string {
  if (typeof output === 'string') return output;
  if (Array.isArray(output)) {
    return output
      .map((p) => (p && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : typeof p === 'string' ? p : JSON.stringify(p)))
      .join('\n');
  }
  return output === undefined || output === null ? '' : JSON.stringify(output);
}

function textOf(blocks: Block[]): string {
  return blocks
    .filter((b): b is Extract<Block, { type: 'text' }> => b.type === 'text')
    .map((b) => b.text)
    .join('\n')
    .trim();
}

interface ConvState {
  prompted: boolean;
  lastCount: number;
  calls: Map<string, string>;
}

export class TimelineBuilder {
  private readonly steps = new Map<string, TimelineStep[]>();
  private readonly convs = new Map<string, ConvState>();
  /** The last exchange's steps of each helper conversation, in case it turns into a real one. */
  private readonly held = new Map<string, Omit<TimelineStep, 'step'>[]>();
  private readonly max: number;

  constructor(private readonly options: TimelineOptions = {}) {
    this.max = options.maxText ?? 2000;
  }

  add(item: ScanItem, kind: string | undefined): void {
    const { exchange, assignment, summary } = item;
    if (!exchange || !assignment.session || !assignment.conversation) return;
    if (this.options.session && assignment.session !== this.options.session) return;
    const session = assignment.session;
    const conversation = assignment.conversation;
    let list = this.steps.get(session);
    if (!list) this.steps.set(session, (list = []));
    let conv = this.convs.get(conversation);
    if (!conv) this.convs.set(conversation, (conv = { prompted: false, lastCount: 0, calls: new Map() }));
    const subagent = kind === 'subagent' ? true : undefined;
    const base = { session, timestamp: summary.startedAt, conversation, exchangeId: summary.id, ...(subagent ? { subagent } : {}) };
    const local: Omit<TimelineStep, 'step'>[] = [];
    const push = (s: Omit<TimelineStep, 'step' | 'session' | 'timestamp' | 'conversation' | 'exchangeId'>) => local.push({ ...base, ...s });

    // New input since the previous turn of this conversation: tool results and user prompts.
    const turns = exchange.request.turns;
    const fresh: Turn[] = turns.length > conv.lastCount ? turns.slice(conv.lastCount) : turns.slice(-1);
    conv.lastCount = turns.length;
    for (const t of fresh) {
      if (t.role === 'assistant' || t.role === 'system') continue;
      for (const b of t.blocks) {
        if (b.type !== 'tool_result') continue;
        const tool = b.id ? conv.calls.get(b.id) : undefined;
        const s: Parameters<typeof push>[0] = { kind: 'tool_result', output: clip(outputText(b.output), this.max) };
        if (tool) s.tool = tool;
        if (b.id) s.toolCallId = b.id;
        if (b.isError) s.isError = true;
        push(s);
      }
      if (t.role === 'user') {
        const text = userTexts(t).join('\n').trim();
        // The task prompt (first turn), then any later prompt the user typed.
        if (text && (t === fresh[fresh.length - 1] || !conv.prompted)) {
          push({ kind: 'prompt', text: clipMiddle(text, this.max) });
          conv.prompted = true;
        }
      }
    }

    const blocks = exchange.response.turns.flatMap((t) => t.blocks);
    const calls = blocks.filter((b): b is Extract<Block, { type: 'tool_call' }> => b.type === 'tool_call');
    const thinking = blocks
      .filter((b): b is Extract<Block, { type: 'thinking' }> => b.type === 'thinking')
      .map((b) => b.text)
      .join('\n')
      .trim();
    const text = textOf(blocks);
    const model: Parameters<typeof push>[0] = { kind: calls.length ? 'model' : 'answer' };
    if (exchange.model) model.model = exchange.model;
    if (summary.durationMs !== undefined) model.durationMs = summary.durationMs;
    if (exchange.response.usage) model.usage = exchange.response.usage;
    if (text) model.text = clip(text, this.max);
    if (thinking) model.thinking = clip(thinking, Math.min(this.max, 600));
    if (exchange.response.error) {
      model.isError = true;
      model.output = clip(exchange.response.error, this.max);
    }
    push(model);
    for (const c of calls) {
      const touches = toolTouches(c.input);
      const s: Parameters<typeof push>[0] = { kind: 'tool_call', tool: c.name, arguments: clip(typeof c.input === 'string' ? c.input : JSON.stringify(c.input) ?? '', this.max) };
      if (c.id) {
        s.toolCallId = c.id;
        conv.calls.set(c.id, c.name);
      }
      if (touches.files.length) s.files = touches.files;
      if (touches.commands.length) s.commands = touches.commands.map((x) => clip(x, 500));
      push(s);
    }

    // A one-shot helper call stays out of the trace, unless its conversation goes on: then its
    // steps (the conversation's start) come first.
    if (kind === 'utility' && !this.options.includeUtility) {
      this.held.set(conversation, local);
      return;
    }
    const held = this.held.get(conversation);
    if (held) this.held.delete(conversation);
    for (const s of [...(held ?? []), ...local]) list.push({ ...s, step: list.length + 1 } as TimelineStep);
  }

  /** Steps per session, sessions in order of first step. */
  result(): Map<string, TimelineStep[]> {
    return this.steps;
  }
}
