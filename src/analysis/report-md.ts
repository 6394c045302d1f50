// The Markdown report (after the traffic probe's analysis report): header with totals,
// endpoints, methods, status codes, payload structure, usage per model and per session, then
// the full conversation log grouped by session and conversation. Untrusted text goes in code
// fences (longer than any backtick run inside) or escaped table cells.
import type { HeaderList } from '../capture/record.js';
import type { ReportData, ReportRenderer } from './report.js';
import { usageLine, type ExchangeView } from './report-view.js';
import type { Conversation, Session } from './sessions.js';
import type { StatsRow } from './stats.js';
import { formatBytes, formatDuration } from './text-table.js';

const MD_ESCAPES: Record<string, string> = { '\\': '\\\\', '`': '\\`', '*': '\\*', '_': '\\_', '[': '\\[', ']': '\\]', '&': '&amp;', '<': '&lt;', '>': '&gt;', '|': '\\|' };
const MD_SPECIAL = /[\\`*_[\]&<>|]/g;

const shortCache = new Map<string, string>();

/** Text safe inside a Markdown table cell or heading: no pipes, newlines or HTML (one pass per string). */
export function mdText(text: string, max = 300): string {
  // Roles, block types, tool names and models repeat on every row: escape them once.
  if (text.length <= 64 && text.length <= max) {
    let hit = shortCache.get(text);
    if (hit === undefined) {
      hit = escapeCell(text, max);
      if (shortCache.size < 4096) shortCache.set(text, hit);
    }
    return hit;
  }
  return escapeCell(text, max);
}

/** The characters of a text that mdText(text, max) reads at most. */
export function cellSourceChars(max: number): number {
  return max * 2 + 64;
}

function escapeCell(text: string, max: number): string {
  // Cut first: a 50 KB tool result must not be scanned whole for a 500-character cell.
  let t = text.length > cellSourceChars(max) ? text.slice(0, cellSourceChars(max)) : text;
  if (/[\n\r\t]|\s\s/.test(t)) t = t.replace(/\s+/g, ' ');
  t = t.trim();
  if (t.length > max) t = `${t.slice(0, max - 1)}…`;
  return MD_SPECIAL.test(t) ? t.replace(MD_SPECIAL, (c) => MD_ESCAPES[c]!) : t;
}

export function fence(text: string, lang = ''): string {
  let longest = 2;
  if (text.includes('```')) for (const m of text.matchAll(/`{3,}/g)) longest = Math.max(longest, m[0].length);
  const f = '`'.repeat(longest + 1);
  return `${f}${lang}\n${text}\n${f}\n`;
}

function table(header: string[], rows: (string | number)[][]): string {
  if (rows.length === 0) return '_none_\n';
  return `| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}\n`;
}

function ms(n: number | null | undefined): string {
  return n === null || n === undefined ? '-' : formatDuration(n);
}

/** Headers as `name: value` lines in a fence: exact text, no escaping needed. */
function headersBlock(headers: HeaderList): string {
  let text = '';
  for (const [k, v] of headers) text += `${k}: ${v}\n`;
  return fence(text.slice(0, -1));
}

function usageRows(rows: StatsRow[]): (string | number)[][] {
  return rows.map((r) => [mdText(r.key, 80), r.requests, r.errors, r.usage.input, r.usage.output, r.usage.cacheRead, r.usage.cacheWrite, r.usage.reasoning, r.costUsd ? `$${r.costUsd.toFixed(4)}` : '-', ms(r.latencyMs.p50), ms(r.latencyMs.p95), ms(r.ttftMs.p50)]);
}

const USAGE_HEADER = ['key', 'requests', 'errors', 'input', 'output', 'cache read', 'cache write', 'reasoning', 'cost', 'latency p50', 'latency p95', 'ttft p50'];

const MESSAGE_CELL = 500;

export class MarkdownReport implements ReportRenderer {
  /** A message row shows mdText(text, 500), which reads this much of the text. */
  readonly messageTextChars = cellSourceChars(MESSAGE_CELL);

  exchange(v: ExchangeView): string {
    const out: string[] = [];
    const title = `#${v.n} ${v.method} ${v.url}`;
    out.push(`##### ${mdText(title, 200)}\n\n<a id="x-${v.id}"></a>`);
    const facts = [`**id** \`${v.id}\``, `**time** ${v.startedAt}`, `**status** ${v.status ?? '-'}`, `**duration** ${ms(v.durationMs)}`, `**ttfb** ${ms(v.ttfbMs)}`];
    if (v.llm?.model) facts.push(`**model** ${mdText(v.llm.model, 80)}`);
    if (v.llm?.provider) facts.push(`**provider** ${mdText(v.llm.provider, 40)}${v.llm.api ? ` (${mdText(v.llm.api, 40)})` : ''}`);
    out.push(`\n${facts.join(' · ')}\n`);
    if (v.error) out.push(`\n**error:** ${mdText(v.error, 500)}\n`);
    if (v.annotation) out.push(`\n> **note** (${mdText(v.annotation.at, 40)}): ${mdText(v.annotation.note, 2000)}\n`);
    out.push(`\n<details><summary>request headers (${v.requestHeaders.length})</summary>\n\n${headersBlock(v.requestHeaders)}\n</details>\n`);
    if (v.responseHeaders.length) out.push(`\n<details><summary>response headers (${v.responseHeaders.length})</summary>\n\n${headersBlock(v.responseHeaders)}\n</details>\n`);
    const l = v.llm;
    if (l) {
      out.push('\n**Request**\n');
      if (l.system && 'text' in l.system) out.push(`\nSystem prompt:\n\n${fence(l.system.text)}`);
      else if (l.system) out.push(`\nSystem prompt: same as #${l.system.sameAs}\n`);
      const range = l.messagesFrom > 2 ? ` (messages 1–${l.messagesFrom - 1} as in the previous turn)` : l.messagesFrom === 2 ? ' (message 1 as in the previous turn)' : '';
      out.push(`\nMessages: ${l.messagesTotal}${range}\n\n`);
      out.push(table(['#', 'role', 'type', 'content'], l.messages.map((m) => [m.index, m.role, mdText(m.type + (m.isError ? ' (error)' : ''), 60), mdText(m.text, MESSAGE_CELL)])));
      if (l.tools && 'names' in l.tools) out.push(`\nTools (${l.tools.names.length}): ${l.tools.names.map((n) => `\`${n.replace(/`/g, '')}\``).join(', ')}\n`);
      else if (l.tools) out.push(`\nTools: the same ${l.tools.count} as #${l.tools.sameAs}\n`);
      out.push(`\n**Response**${l.stream ? ' (stream)' : ''}${l.stopReason ? ` · stop: ${mdText(l.stopReason, 40)}` : ''}\n`);
      if (l.events.length) out.push(`\nStream events: ${l.events.map(([k, n]) => `${mdText(k, 60)} ×${n}`).join(', ')}\n`);
      if (l.thinking) out.push(`\nThinking:\n\n${fence(l.thinking)}`);
      if (l.text) out.push(`\nText:\n\n${fence(l.text)}`);
      for (const c of l.toolCalls) out.push(`\nTool call \`${c.name.replace(/`/g, '')}\`${c.id ? ` (${mdText(c.id, 80)})` : ''}${c.server ? ' (server tool)' : ''}:\n\n${fence(c.input, 'json')}`);
      if (l.error) out.push(`\nError: ${mdText(l.error, 1000)}\n`);
      if (l.usage) out.push(`\nUsage: ${usageLine(l.usage, l.provider)}${l.costUsd !== undefined ? ` · $${l.costUsd.toFixed(6)}` : ''}\n`);
    } else {
      if (v.requestBody) out.push(`\nRequest body:\n\n${fence(v.requestBody)}`);
      if (v.responseBody) out.push(`\nResponse body (${formatBytes(v.responseBodySize ?? 0)}):\n\n${fence(v.responseBody)}`);
    }
    out.push('\n');
    return out.join('');
  }

  head(d: ReportData): string {
    const o = d.overview;
    const usage = d.byModel.reduce(
      (acc, r) => ({ input: acc.input + r.usage.input, output: acc.output + r.usage.output, cacheRead: acc.cacheRead + r.usage.cacheRead, cacheWrite: acc.cacheWrite + r.usage.cacheWrite, cost: acc.cost + r.costUsd }),
      { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, cost: 0 },
    );
    const duration = Number.isFinite(o.firstT) ? o.lastT - o.firstT : 0;
    const lines: string[] = [];
    lines.push(`# agenttap report\n`);
    lines.push(`- Source: \`${d.file.replace(/`/g, '')}\``);
    lines.push(`- Generated at: ${d.generatedAt}`);
    lines.push(`- Total requests: ${o.requests} (${o.llmExchanges} LLM turns, ${o.errors} errors)`);
    lines.push(`- Capture duration: ${formatDuration(duration)}${Number.isFinite(o.firstT) ? ` (${new Date(o.firstT).toISOString()} → ${new Date(o.lastT).toISOString()})` : ''}`);
    lines.push(`- Payload bytes: ${formatBytes(o.requestBytes)} sent, ${formatBytes(o.responseBytes)} received`);
    lines.push(`- Tokens: ${usage.input} input, ${usage.output} output, ${usage.cacheRead} cache read, ${usage.cacheWrite} cache write`);
    lines.push(`- Cost: $${usage.cost.toFixed(4)}`);
    lines.push(`- Sessions: ${d.sessions.length}, conversations: ${d.sessions.reduce((n, s) => n + s.conversations.length, 0)}`);
    if (d.badLines) lines.push(`- Bad lines skipped: ${d.badLines}`);
    if (d.annotations) lines.push(`- Notes: ${d.annotations}`);
    lines.push('');
    lines.push(`## Endpoints\n\n${table(['host', 'path', 'methods', 'count', 'errors'], o.endpointRows().map((e) => [mdText(e.host, 80), mdText(e.path, 120), e.methods.join(', '), e.count, e.errors]))}`);
    lines.push(`## HTTP methods\n\n${table(['method', 'count'], o.methodRows().map((r) => [mdText(r.key, 20), r.count]))}`);
    lines.push(`## Status codes\n\n${table(['status', 'count'], o.statusRows().map((r) => [mdText(r.key, 60), r.count]))}`);
    lines.push(`## Payload structure\n\nTop request keys:\n\n${table(['key', 'count', 'types'], o.requestKeyRows().map((k) => [`\`${k.key.replace(/`/g, '')}\``, k.count, k.types.join(', ')]))}`);
    lines.push(`Top response keys (JSON keys; \`event: …\` for stream events):\n\n${table(['key', 'count', 'types'], o.responseKeyRows().map((k) => [`\`${k.key.replace(/`/g, '')}\``, k.count, k.types.join(', ')]))}`);
    lines.push(`## Usage by model\n\n${table(USAGE_HEADER, usageRows(d.byModel))}`);
    lines.push(`## Usage by session\n\n${table(USAGE_HEADER, usageRows(d.bySession))}`);
    lines.push(`## Sessions\n\n${table(['session', 'agent', 'client', 'start', 'duration', 'requests', 'conversations', 'models', 'tokens in', 'tokens out'], d.sessions.map((s) => [mdText(s.id, 80), mdText(s.agent ?? '-', 40), mdText(s.client, 60), s.start, formatDuration(Date.parse(s.end) - Date.parse(s.start)), s.requests, s.conversations.length, mdText(s.models.join(', '), 200), s.promptTokens, s.usage.output]))}`);
    lines.push(`## Conversation log\n`);
    return `${lines.join('\n')}\n`;
  }

  sessionStart(s: Session, i: number): string {
    return `\n### Session ${i + 1}: ${mdText(s.id, 120)}\n\n${mdText(s.agent ?? 'unknown agent', 60)} · ${mdText(s.client, 60)} · ${s.start} → ${s.end} · ${s.requests} requests · models: ${mdText(s.models.join(', ') || '-', 200)}\n`;
  }

  sessionEnd(): string {
    return '';
  }

  conversationStart(c: Conversation): string {
    const how = c.kind === 'subagent' && c.parent ? ` · sub-agent of ${mdText(c.parent.conversation, 80)}${c.parent.tool ? ` via ${mdText(c.parent.tool, 40)}` : ''}` : c.kind === 'continuation' && c.compactedFrom ? ` · continues ${mdText(c.compactedFrom, 80)} after compaction` : '';
    return `\n#### Conversation ${mdText(c.id, 80)} (${c.kind}, ${c.turns.length} turn${c.turns.length === 1 ? '' : 's'})${how}\n\n`;
  }

  conversationEnd(): string {
    return '';
  }

  othersStart(count: number): string {
    return `\n### Other exchanges (${count})\n\nNon-LLM traffic, token counting and exchanges without a conversation.\n\n`;
  }

  othersEnd(): string {
    return '';
  }

  tail(): string {
    return '';
  }
}
