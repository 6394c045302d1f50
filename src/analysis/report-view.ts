// What the reports show of one exchange, computed once and rendered as Markdown or HTML.
// Long conversations are not repeated: a turn shows only the messages that are new since the
// conversation's previous turn, and a system prompt or tool list seen before is referenced.
import type { HeaderList } from '../capture/record.js';
import { bodyText } from '../capture/record.js';
import type { Block, Usage } from '../llm/types.js';
import type { Annotation } from './annotations.js';
import { promptTokens } from './exchange-summary.js';
import { responseEventCounts } from './http-overview.js';
import type { ScanItem } from './scan.js';
import { outputText } from './timeline.js';

export interface MessageRow {
  index: number;
  role: string;
  type: string;
  text: string;
  toolCallId?: string;
  isError?: boolean;
}

export interface ToolCallView {
  id?: string;
  name: string;
  input: string;
  server?: boolean;
}

export interface ExchangeView {
  n: number;
  id: string;
  method: string;
  url: string;
  status?: number;
  startedAt: string;
  durationMs?: number;
  ttfbMs?: number;
  error?: string;
  requestHeaders: HeaderList;
  responseHeaders: HeaderList;
  annotation?: Annotation;
  llm?: {
    model?: string;
    provider?: string;
    api?: string;
    agent?: string;
    stream: boolean;
    system?: { text: string } | { sameAs: number };
    messagesFrom: number;
    messagesTotal: number;
    messages: MessageRow[];
    tools?: { names: string[] } | { sameAs: number; count: number };
    events: [string, number][];
    text: string;
    thinking: string;
    toolCalls: ToolCallView[];
    usage?: Usage;
    costUsd?: number;
    stopReason?: string;
    error?: string;
  };
  /** Non-LLM exchanges: body heads. */
  requestBody?: string;
  responseBody?: string;
  responseBodySize?: number;
}

/** A message row before report-wide state is applied: a tool result's tool name is looked up later. */
export interface PreparedRow extends MessageRow {
  /** The row is a tool result whose call id names the tool (resolved in file order). */
  namedByCall?: true;
}

/**
 * Everything the reports show of one exchange that does not depend on the exchanges before it:
 * computed from the record alone (on a worker thread, or inline), then finished in file order by
 * ViewContext.finish, which adds the numbering, "same as #n" references and the messages that
 * are new in their conversation.
 */
type ExchangeLlmView = NonNullable<ExchangeView['llm']>;

export interface PreparedView extends Omit<ExchangeView, 'n' | 'annotation' | 'llm'> {
  llm?: Pick<ExchangeLlmView, 'model' | 'provider' | 'api' | 'agent' | 'stream' | 'events' | 'text' | 'thinking' | 'toolCalls' | 'usage' | 'costUsd' | 'stopReason' | 'error'> & {
    /** Request messages (turns). */
    turns: number;
    /** Rows are given for turns from this (0-based) index on. */
    rowsFrom: number;
    rows: PreparedRow[];
    /** The system prompt's key; its (clipped) text when the caller asked for it. */
    systemKey?: string;
    systemText?: string;
    toolNames: string[];
  };
}

export function clipText(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}… (${text.length - max} more characters)` : text;
}

/** The state-free part of an exchange's view; rows only for request turns from `rowsFrom`. */
export function prepareView(item: Pick<ScanItem, 'record' | 'summary' | 'exchange'>, rowsFrom: number, withSystemText: boolean | ((key: string) => boolean), rowTextChars = Infinity): PreparedView {
  const { record, summary, exchange } = item;
  const v: PreparedView = {
    id: record.id,
    method: summary.method,
    url: record.request?.url ?? `${record.server.host}:${record.server.port}`,
    startedAt: record.startedAt,
    requestHeaders: record.request?.headers ?? [],
    responseHeaders: record.response?.headers ?? [],
  };
  if (summary.status !== undefined) v.status = summary.status;
  if (summary.durationMs !== undefined) v.durationMs = summary.durationMs;
  if (summary.ttfbMs !== undefined) v.ttfbMs = summary.ttfbMs;
  if (record.error) v.error = `${record.error.phase}${record.error.code ? ` ${record.error.code}` : ''}: ${record.error.message}`;
  if (!exchange) {
    const req = record.request?.body;
    const res = record.response?.body;
    if (req && (req.text !== undefined || req.base64 !== undefined)) v.requestBody = clipText(req.text ?? `(base64) ${req.base64}`, 2000);
    if (res && (res.text !== undefined || res.base64 !== undefined)) v.responseBody = clipText(res.text ?? `(binary, ${res.size} bytes)`, 2000);
    if (res) v.responseBodySize = res.size;
    return v;
  }
  const turns = exchange.request.turns;
  const rows: PreparedRow[] = [];
  for (let i = rowsFrom; i < turns.length; i++) {
    const t = turns[i]!;
    for (const b of t.blocks) {
      const r = rowOf(i + 1, t.role, b);
      // A renderer that reads only the head of a row's text gets only that (less to copy between threads).
      if (r.text.length > rowTextChars) r.text = r.text.slice(0, rowTextChars);
      rows.push(r);
    }
  }
  const llm: NonNullable<PreparedView['llm']> = { stream: exchange.stream, turns: turns.length, rowsFrom, rows, toolNames: exchange.request.tools.map((t) => t.name), events: [], text: '', thinking: '', toolCalls: [] };
  if (exchange.model) llm.model = exchange.model;
  const d = exchange.detection;
  if (d.provider) llm.provider = d.provider;
  if (d.api) llm.api = d.api;
  if (d.agent) llm.agent = d.agent;
  const system = exchange.request.system;
  if (system) {
    const key = exchange.contextKey ?? system.slice(0, 200) + system.length;
    llm.systemKey = key;
    if (typeof withSystemText === 'function' ? withSystemText(key) : withSystemText) llm.systemText = clipText(system, 20000);
  }
  const res = record.response?.body;
  llm.events = responseEventCounts(record) ?? [];
  const texts: string[] = [];
  const thinking: string[] = [];
  for (const t of exchange.response.turns) {
    for (const b of t.blocks) {
      if (b.type === 'text') texts.push(b.refusal ? `(refusal) ${b.text}` : b.text);
      else if (b.type === 'thinking') thinking.push(b.text);
      else if (b.type === 'tool_call') {
        const call: ToolCallView = { name: b.name, input: clipText(typeof b.input === 'string' ? b.input : JSON.stringify(b.input, null, 2) ?? '', 6000) };
        if (b.id) call.id = b.id;
        if (b.server) call.server = true;
        llm.toolCalls.push(call);
      }
    }
  }
  llm.text = clipText(texts.join('\n'), 20000);
  llm.thinking = clipText(thinking.join('\n'), 6000);
  if (exchange.response.usage) llm.usage = exchange.response.usage;
  if (exchange.costUsd !== undefined) llm.costUsd = exchange.costUsd;
  if (exchange.response.stopReason) llm.stopReason = exchange.response.stopReason;
  if (exchange.response.error) llm.error = exchange.response.error;
  if (!exchange.response.turns.length && !exchange.response.error && res && record.response && record.response.status >= 400) llm.error = clipText(bodyText(res), 2000);
  v.llm = llm;
  return v;
}

function rowOf(index: number, role: string, b: Block): PreparedRow {
  switch (b.type) {
    case 'text':
      return { index, role, type: b.refusal ? 'refusal' : 'text', text: clipText(b.text, 2000) };
    case 'thinking':
      return { index, role, type: 'thinking', text: clipText(b.text, 1000) };
    case 'tool_call': {
      const r: PreparedRow = { index, role, type: `tool_call ${b.name}`, text: clipText(JSON.stringify(b.input) ?? '', 1000) };
      if (b.id) r.toolCallId = b.id;
      return r;
    }
    case 'tool_result': {
      const r: PreparedRow = { index, role, type: 'tool_result', text: clipText(outputText(b.output), 1500) };
      if (b.id) {
        r.toolCallId = b.id;
        r.namedByCall = true;
      }
      if (b.isError) r.isError = true;
      return r;
    }
    case 'image':
      return { index, role, type: 'image', text: b.mediaType ?? '' };
    default:
      return { index, role, type: 'other', text: clipText(JSON.stringify(b.raw) ?? '', 500) };
  }
}

/** Per-report memory between exchanges: what was already shown. */
export class ViewContext {
  private readonly systems = new Map<string, number>();
  private readonly convs = new Map<string, { seen: number; toolsKey: string; toolsAt: number }>();
  readonly toolNames = new Map<string, string>();
  n = 0;

  constructor(private readonly annotations: Record<string, Annotation>) {}

  /** The first request turn (0-based) this exchange shows: the ones before were shown in its conversation already. */
  messagesFrom(id: string, assignment: ScanItem['assignment'], turns: number): number {
    const conv = this.convs.get(assignment.conversation ?? id);
    const seen = conv ? conv.seen : 0;
    return seen < turns ? seen : Math.max(0, turns - 1);
  }

  /** Whether a system prompt with this key still has to be shown in full. */
  needsSystemText(key: string): boolean {
    return !this.systems.has(key);
  }

  view(item: ScanItem): ExchangeView {
    const { exchange, assignment, record } = item;
    const from = exchange ? this.messagesFrom(record.id, assignment, exchange.request.turns.length) : 0;
    return this.finish(prepareView(item, from, (key) => this.needsSystemText(key)), assignment)!;
  }

  /**
   * The view of a prepared exchange in file order, or undefined (and no state changed) when the
   * preparation lacks what this position needs (rows from an earlier turn, the system prompt's text).
   */
  finish(p: PreparedView, assignment: ScanItem['assignment']): ExchangeView | undefined {
    const l = p.llm;
    const convKey = assignment.conversation ?? p.id;
    let from = 0;
    if (l) {
      from = this.messagesFrom(p.id, assignment, l.turns);
      if (from < l.rowsFrom) return undefined;
      if (l.systemKey !== undefined && l.systemText === undefined && !this.systems.has(l.systemKey)) return undefined;
    }
    const n = ++this.n;
    const v: ExchangeView = { n, id: p.id, method: p.method, url: p.url, startedAt: p.startedAt, requestHeaders: p.requestHeaders, responseHeaders: p.responseHeaders };
    if (p.status !== undefined) v.status = p.status;
    if (p.durationMs !== undefined) v.durationMs = p.durationMs;
    if (p.ttfbMs !== undefined) v.ttfbMs = p.ttfbMs;
    if (p.error !== undefined) v.error = p.error;
    const note = this.annotations[p.id];
    if (note) v.annotation = note;
    if (!l) {
      if (p.requestBody !== undefined) v.requestBody = p.requestBody;
      if (p.responseBody !== undefined) v.responseBody = p.responseBody;
      if (p.responseBodySize !== undefined) v.responseBodySize = p.responseBodySize;
      return v;
    }
    let conv = this.convs.get(convKey);
    if (!conv) this.convs.set(convKey, (conv = { seen: 0, toolsKey: '', toolsAt: 0 }));
    conv.seen = l.turns;
    const messages: MessageRow[] = [];
    for (const r of l.rows) {
      if (r.index <= from) continue;
      if (r.namedByCall) {
        const name = this.toolNames.get(r.toolCallId!);
        // A result is shown once (new messages only), so its call's name can be forgotten.
        this.toolNames.delete(r.toolCallId!);
        const row: MessageRow = { index: r.index, role: r.role, type: `tool_result${name ? ` ${name}` : ''}`, text: r.text, toolCallId: r.toolCallId! };
        if (r.isError) row.isError = true;
        messages.push(row);
      } else messages.push(r);
    }
    const llm: NonNullable<ExchangeView['llm']> = {
      stream: l.stream,
      messagesFrom: from + 1,
      messagesTotal: l.turns,
      messages,
      events: l.events,
      text: l.text,
      thinking: l.thinking,
      toolCalls: l.toolCalls,
    };
    if (l.model !== undefined) llm.model = l.model;
    if (l.provider !== undefined) llm.provider = l.provider;
    if (l.api !== undefined) llm.api = l.api;
    if (l.agent !== undefined) llm.agent = l.agent;
    if (l.systemKey !== undefined) {
      const seen = this.systems.get(l.systemKey);
      if (seen !== undefined) llm.system = { sameAs: seen };
      else {
        this.systems.set(l.systemKey, n);
        llm.system = { text: l.systemText! };
      }
    }
    if (l.toolNames.length) {
      const key = l.toolNames.join('\0');
      if (conv.toolsKey === key) llm.tools = { sameAs: conv.toolsAt, count: l.toolNames.length };
      else {
        conv.toolsKey = key;
        conv.toolsAt = n;
        llm.tools = { names: l.toolNames };
      }
    }
    for (const c of l.toolCalls) if (c.id) this.toolNames.set(c.id, c.name);
    if (l.usage) llm.usage = l.usage;
    if (l.costUsd !== undefined) llm.costUsd = l.costUsd;
    if (l.stopReason !== undefined) llm.stopReason = l.stopReason;
    if (l.error !== undefined) llm.error = l.error;
    v.llm = llm;
    return v;
  }
}

export function usageLine(u: Usage | undefined, provider?: string): string {
  if (!u) return '';
  const parts = [`${u.input ?? 0} input`];
  if (u.cacheRead) parts.push(`${u.cacheRead} cache read`);
  if (u.cacheWrite) parts.push(`${u.cacheWrite} cache write`);
  parts.push(`${u.output ?? 0} output`);
  if (u.reasoning) parts.push(`${u.reasoning} reasoning`);
  const total = promptTokens(u, provider) + (u.output ?? 0);
  return `${parts.join(' | ')} | ${total} total`;
}
