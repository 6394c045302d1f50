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

/** Per-report memory between exchanges: what was already shown. */
export class ViewContext {
  private readonly systems = new Map<string, number>();
  private readonly convs = new Map<string, { seen: number; toolsKey: string; toolsAt: number }>();
  readonly toolNames = new Map<string, string>();
  n = 0;

  constructor(
    private readonly annotations: Record<string, Annotation>,
    private readonly maxText = 4000,
  ) {}

  clip(text: string, max = this.maxText): string {
    return text.length > max ? `${text.slice(0, max)}… (${text.length - max} more characters)` : text;
  }

  view(item: ScanItem): ExchangeView {
    const { record, summary, exchange, assignment } = item;
    const n = ++this.n;
    const v: ExchangeView = {
      n,
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
    const note = this.annotations[record.id];
    if (note) v.annotation = note;
    if (!exchange) {
      const req = record.request?.body;
      const res = record.response?.body;
      if (req && (req.text !== undefined || req.base64 !== undefined)) v.requestBody = this.clip(req.text ?? `(base64) ${req.base64}`, 2000);
      if (res && (res.text !== undefined || res.base64 !== undefined)) v.responseBody = this.clip(res.text ?? `(binary, ${res.size} bytes)`, 2000);
      if (res) v.responseBodySize = res.size;
      return v;
    }
    const turns = exchange.request.turns;
    const convKey = assignment.conversation ?? record.id;
    let conv = this.convs.get(convKey);
    if (!conv) this.convs.set(convKey, (conv = { seen: 0, toolsKey: '', toolsAt: 0 }));
    const from = conv.seen < turns.length ? conv.seen : Math.max(0, turns.length - 1);
    conv.seen = turns.length;
    const messages: MessageRow[] = [];
    for (let i = from; i < turns.length; i++) {
      const t = turns[i]!;
      for (const b of t.blocks) messages.push(this.row(i + 1, t.role, b));
    }
    const llm: NonNullable<ExchangeView['llm']> = {
      stream: exchange.stream,
      messagesFrom: from + 1,
      messagesTotal: turns.length,
      messages,
      events: [],
      text: '',
      thinking: '',
      toolCalls: [],
    };
    if (exchange.model) llm.model = exchange.model;
    const d = exchange.detection;
    if (d.provider) llm.provider = d.provider;
    if (d.api) llm.api = d.api;
    if (d.agent) llm.agent = d.agent;
    const system = exchange.request.system;
    if (system) {
      const key = exchange.contextKey ?? system.slice(0, 200) + system.length;
      const seen = this.systems.get(key);
      if (seen !== undefined) llm.system = { sameAs: seen };
      else {
        this.systems.set(key, n);
        llm.system = { text: this.clip(system, 20000) };
      }
    }
    const toolNames = exchange.request.tools.map((t) => t.name);
    if (toolNames.length) {
      const key = toolNames.join('\0');
      if (conv.toolsKey === key) llm.tools = { sameAs: conv.toolsAt, count: toolNames.length };
      else {
        conv.toolsKey = key;
        conv.toolsAt = n;
        llm.tools = { names: toolNames };
      }
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
          const call: ToolCallView = { name: b.name, input: this.clip(typeof b.input === 'string' ? b.input : JSON.stringify(b.input, null, 2) ?? '', 6000) };
          if (b.id) {
            call.id = b.id;
            this.toolNames.set(b.id, b.name);
          }
          if (b.server) call.server = true;
          llm.toolCalls.push(call);
        }
      }
    }
    llm.text = this.clip(texts.join('\n'), 20000);
    llm.thinking = this.clip(thinking.join('\n'), 6000);
    if (exchange.response.usage) llm.usage = exchange.response.usage;
    if (exchange.costUsd !== undefined) llm.costUsd = exchange.costUsd;
    if (exchange.response.stopReason) llm.stopReason = exchange.response.stopReason;
    if (exchange.response.error) llm.error = exchange.response.error;
    if (!exchange.response.turns.length && !exchange.response.error && res && record.response && record.response.status >= 400) llm.error = this.clip(bodyText(res), 2000);
    v.llm = llm;
    return v;
  }

  private row(index: number, role: string, b: Block): MessageRow {
    switch (b.type) {
      case 'text':
        return { index, role, type: b.refusal ? 'refusal' : 'text', text: this.clip(b.text, 2000) };
      case 'thinking':
        return { index, role, type: 'thinking', text: this.clip(b.text, 1000) };
      case 'tool_call': {
        const r: MessageRow = { index, role, type: `tool_call ${b.name}`, text: this.clip(JSON.stringify(b.input) ?? '', 1000) };
        if (b.id) r.toolCallId = b.id;
        return r;
      }
      case 'tool_result': {
        const name = b.id ? this.toolNames.get(b.id) : undefined;
        // A result is shown once (new messages only), so its call's name can be forgotten.
        if (b.id) this.toolNames.delete(b.id);
        const r: MessageRow = { index, role, type: `tool_result${name ? ` ${name}` : ''}`, text: this.clip(outputText(b.output), 1500) };
        if (b.id) r.toolCallId = b.id;
        if (b.isError) r.isError = true;
        return r;
      }
      case 'image':
        return { index, role, type: 'image', text: b.mediaType ?? '' };
      default:
        return { index, role, type: 'other', text: this.clip(JSON.stringify(b.raw) ?? '', 500) };
    }
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
