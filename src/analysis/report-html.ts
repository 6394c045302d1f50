// The HTML report: one self-contained file (inline CSS and JS, inline SVG charts, a CSP that
// forbids any network request) with the Markdown report's content, collapsible sessions,
// conversations and exchanges, tool calls linked to their results, and a search box.
// Every captured byte is untrusted: all text goes through esc().
import type { HeaderList } from '../capture/record.js';
import { promptTokens } from './exchange-summary.js';
import type { ReportData, ReportRenderer } from './report.js';
import { usageLine, type ExchangeView, type MessageRow } from './report-view.js';
import type { Conversation, Session } from './sessions.js';
import type { StatsRow } from './stats.js';
import { barChart } from './svg-chart.js';
import { formatBytes, formatDuration } from './text-table.js';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const HTML_SPECIAL = /[&<>"']/g;

export function esc(s: string): string {
  return HTML_SPECIAL.test(s) ? s.replace(HTML_SPECIAL, (c) => HTML_ESCAPES[c]!) : s;
}

/** An id usable in id="" and href="#…" whatever the tool call id contains. */
function anchor(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/g, (c) => `_${c.charCodeAt(0).toString(16)}`);
}

function ms(n: number | null | undefined): string {
  return n === null || n === undefined ? '-' : formatDuration(n);
}

function table(header: string[], rows: string[][], cls = ''): string {
  if (rows.length === 0) return '<p class="muted">none</p>';
  return `<table${cls ? ` class="${cls}"` : ''}><thead><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

function headersTable(headers: HeaderList): string {
  return table(['header', 'value'], headers.map(([k, v]) => [esc(k), esc(v)]), 'headers');
}

function pre(text: string, cls = ''): string {
  return `<pre${cls ? ` class="${cls}"` : ''}>${esc(text)}</pre>`;
}

function usageTable(rows: StatsRow[]): string {
  return table(
    ['key', 'requests', 'errors', 'input', 'output', 'cache read', 'cache write', 'reasoning', 'cost', 'latency p50', 'latency p95', 'ttft p50'],
    rows.map((r) => [esc(r.key), String(r.requests), String(r.errors), String(r.usage.input), String(r.usage.output), String(r.usage.cacheRead), String(r.usage.cacheWrite), String(r.usage.reasoning), r.costUsd ? `$${r.costUsd.toFixed(4)}` : '-', ms(r.latencyMs.p50), ms(r.latencyMs.p95), ms(r.ttftMs.p50)]),
  );
}

function messageRow(m: MessageRow): string {
  let cell = esc(m.text);
  let id = '';
  if (m.toolCallId && m.type.startsWith('tool_result')) {
    id = ` id="result-${anchor(m.toolCallId)}"`;
    cell = `<a class="pair" href="#call-${anchor(m.toolCallId)}">call ↑</a> ${cell}`;
  }
  return `<tr${id} class="msg ${esc(m.role)}${m.isError ? ' err' : ''}"><td>${m.index}</td><td>${esc(m.role)}</td><td>${esc(m.type)}</td><td><div class="cell">${cell}</div></td></tr>`;
}

const STYLE = `
:root{--fg:#1d2125;--muted:#68707a;--bg:#fff;--line:#dde1e6;--accent:#2f6fdf;--err:#c0392b;--soft:#f5f7fa}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;color:var(--fg);background:var(--bg);margin:0}
header{position:sticky;top:0;background:#fff;border-bottom:1px solid var(--line);padding:8px 20px;display:flex;gap:16px;align-items:center;z-index:2}
header h1{font-size:16px;margin:0}header input{flex:1;max-width:420px;padding:6px 10px;border:1px solid var(--line);border-radius:6px}
main{padding:12px 20px 60px;max-width:1280px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
.cards{display:flex;flex-wrap:wrap;gap:10px}.card{background:var(--soft);border-radius:8px;padding:8px 12px;min-width:140px}.card b{display:block;font-size:18px}
table{border-collapse:collapse;margin:6px 0;font-size:13px}th,td{border:1px solid var(--line);padding:3px 7px;text-align:left;vertical-align:top}th{background:var(--soft)}
td .cell{max-height:16em;overflow:auto;white-space:pre-wrap;word-break:break-word;max-width:900px}
pre{background:var(--soft);padding:8px;border-radius:6px;white-space:pre-wrap;word-break:break-word;max-height:30em;overflow:auto;font-size:12.5px}
details{margin:4px 0}summary{cursor:pointer}.session>summary{font-size:15px;font-weight:600}.conv{margin-left:12px;border-left:3px solid var(--line);padding-left:10px}
.exchange{margin:4px 0 4px 8px}.exchange>summary{font-family:ui-monospace,monospace;font-size:12.5px}.exchange .body{padding:4px 0 10px 14px}
.muted{color:var(--muted)}.err{color:var(--err)}.tag{display:inline-block;border-radius:4px;padding:0 5px;background:var(--soft);font-size:12px;margin-right:4px}
.call{border:1px solid var(--line);border-radius:6px;padding:4px 8px;margin:6px 0}.note{background:#fff8d6;border-left:4px solid #e5c100;padding:6px 10px}
.chart svg{width:100%;max-width:860px;height:auto}.chart .axis{stroke:#999}.chart .grid{stroke:#eee}.chart .tick{font-size:10px;fill:var(--muted)}
.legend{font-size:12px;margin-left:10px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
.hidden{display:none}mark{background:#ffe58a}a.pair{font-size:12px;margin-right:6px}
`;

const SCRIPT = `
(function(){
  var input=document.getElementById('q'),count=document.getElementById('count');
  var items=Array.prototype.slice.call(document.querySelectorAll('.exchange'));
  function openUp(el){for(var p=el;p;p=p.parentElement){if(p.tagName==='DETAILS')p.open=true;}}
  function run(){
    var q=input.value.trim().toLowerCase(),n=0;
    items.forEach(function(el){var hit=!q||el.textContent.toLowerCase().indexOf(q)>=0;el.classList.toggle('hidden',!hit);if(hit){n++;if(q)openUp(el);}});
    document.querySelectorAll('.conv,.session').forEach(function(c){var any=c.querySelector('.exchange:not(.hidden)');c.classList.toggle('hidden',!!q&&!any);});
    count.textContent=q?n+' of '+items.length+' exchanges match':items.length+' exchanges';
  }
  var t;input.addEventListener('input',function(){clearTimeout(t);t=setTimeout(run,150);});run();
  document.querySelectorAll('a.pair').forEach(function(a){var id=a.getAttribute('href').slice(1);if(!document.getElementById(id))a.classList.add('hidden');});
  document.addEventListener('click',function(e){var a=e.target.closest&&e.target.closest('a[href^="#"]');if(!a)return;var el=document.getElementById(a.getAttribute('href').slice(1));if(el){openUp(el);}});
  document.getElementById('expand').addEventListener('click',function(){document.querySelectorAll('details').forEach(function(d){d.open=true;});});
  document.getElementById('collapse').addEventListener('click',function(){document.querySelectorAll('details.exchange,details.conv').forEach(function(d){d.open=false;});});
})();
`;

export class HtmlReport implements ReportRenderer {
  exchange(v: ExchangeView): string {
    const l = v.llm;
    const head = `#${v.n} ${v.method} ${v.url}`;
    const tags = [
      v.status !== undefined ? `<span class="tag${v.status >= 400 ? ' err' : ''}">${v.status}</span>` : '<span class="tag err">no response</span>',
      l?.model ? `<span class="tag">${esc(l.model)}</span>` : '',
      l?.toolCalls.length ? `<span class="tag">${l.toolCalls.length} tool call${l.toolCalls.length > 1 ? 's' : ''}</span>` : '',
      v.durationMs !== undefined ? `<span class="tag">${ms(v.durationMs)}</span>` : '',
      l?.usage ? `<span class="tag">${promptTokens(l.usage, l.provider)} in / ${l.usage.output ?? 0} out</span>` : '',
      v.annotation ? '<span class="tag">note</span>' : '',
    ].join('');
    const body: string[] = [];
    body.push(`<p class="muted">id ${esc(v.id)} · ${esc(v.startedAt)} · ttfb ${ms(v.ttfbMs)}${l?.provider ? ` · ${esc(l.provider)}${l.api ? ` (${esc(l.api)})` : ''}` : ''}${l?.agent ? ` · ${esc(l.agent)}` : ''}</p>`);
    if (v.error) body.push(`<p class="err">error: ${esc(v.error)}</p>`);
    if (v.annotation) body.push(`<div class="note"><b>note</b> <span class="muted">${esc(v.annotation.at)}</span><br>${esc(v.annotation.note)}</div>`);
    body.push(`<details><summary>request headers (${v.requestHeaders.length})</summary>${headersTable(v.requestHeaders)}</details>`);
    if (v.responseHeaders.length) body.push(`<details><summary>response headers (${v.responseHeaders.length})</summary>${headersTable(v.responseHeaders)}</details>`);
    if (l) {
      if (l.system && 'text' in l.system) body.push(`<details><summary>system prompt (${l.system.text.length} chars)</summary>${pre(l.system.text)}</details>`);
      else if (l.system) body.push(`<p class="muted">system prompt: same as #${l.system.sameAs}</p>`);
      if (l.tools && 'names' in l.tools) body.push(`<p class="muted">tools (${l.tools.names.length}): ${esc(l.tools.names.join(', '))}</p>`);
      else if (l.tools) body.push(`<p class="muted">tools: the same ${l.tools.count} as #${l.tools.sameAs}</p>`);
      body.push(`<p><b>messages</b> ${l.messagesTotal}${l.messagesFrom > 1 ? ` <span class="muted">(${l.messagesFrom > 2 ? `1–${l.messagesFrom - 1}` : '1'} as in the previous turn)</span>` : ''}</p>`);
      if (l.messages.length) body.push(`<table class="msgs"><thead><tr><th>#</th><th>role</th><th>type</th><th>content</th></tr></thead><tbody>${l.messages.map(messageRow).join('')}</tbody></table>`);
      body.push(`<p><b>response</b>${l.stream ? ' (stream)' : ''}${l.stopReason ? ` · stop: ${esc(l.stopReason)}` : ''}</p>`);
      if (l.events.length) body.push(`<p class="muted">stream events: ${esc(l.events.map(([k, n]) => `${k} ×${n}`).join(', '))}</p>`);
      if (l.thinking) body.push(`<details><summary>thinking</summary>${pre(l.thinking)}</details>`);
      if (l.text) body.push(pre(l.text, 'answer'));
      for (const c of l.toolCalls) {
        const id = c.id ? ` id="call-${anchor(c.id)}"` : '';
        const link = c.id ? ` <a class="pair" href="#result-${anchor(c.id)}">result ↓</a>` : '';
        body.push(`<div class="call"${id}><b>tool call</b> <code>${esc(c.name)}</code>${c.id ? ` <span class="muted">${esc(c.id)}</span>` : ''}${c.server ? ' <span class="tag">server tool</span>' : ''}${link}${pre(c.input)}</div>`);
      }
      if (l.error) body.push(`<p class="err">${esc(l.error)}</p>`);
      if (l.usage) body.push(`<p class="muted">usage: ${esc(usageLine(l.usage, l.provider))}${l.costUsd !== undefined ? ` · $${l.costUsd.toFixed(6)}` : ''}</p>`);
    } else {
      if (v.requestBody) body.push(`<details><summary>request body</summary>${pre(v.requestBody)}</details>`);
      if (v.responseBody) body.push(`<details><summary>response body (${formatBytes(v.responseBodySize ?? 0)})</summary>${pre(v.responseBody)}</details>`);
    }
    return `<details class="exchange" id="x-${anchor(v.id)}"><summary>${esc(head)} ${tags}</summary><div class="body">${body.join('')}</div></details>\n`;
  }

  head(d: ReportData): string {
    const o = d.overview;
    const usage = d.byModel.reduce((a, r) => ({ input: a.input + r.usage.input, output: a.output + r.usage.output, cacheRead: a.cacheRead + r.usage.cacheRead, cacheWrite: a.cacheWrite + r.usage.cacheWrite, cost: a.cost + r.costUsd }), { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, cost: 0 });
    const duration = Number.isFinite(o.firstT) ? o.lastT - o.firstT : 0;
    const card = (label: string, value: string) => `<div class="card"><span class="muted">${esc(label)}</span><b>${esc(value)}</b></div>`;
    const series = o.series();
    const parts: string[] = [];
    parts.push(`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`);
    parts.push(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">`);
    parts.push(`<title>agenttap report: ${esc(d.file)}</title><style>${STYLE}</style></head><body>`);
    parts.push(`<header><h1>agenttap report</h1><input id="q" type="search" placeholder="search prompts, tool calls, answers, headers…" autocomplete="off"><span id="count" class="muted"></span><button id="expand" type="button">expand all</button><button id="collapse" type="button">collapse</button></header><main>`);
    parts.push(`<p class="muted">source ${esc(d.file)} · generated ${esc(d.generatedAt)}${d.badLines ? ` · ${d.badLines} bad lines skipped` : ''}</p>`);
    parts.push(`<div class="cards">${[
      card('requests', `${o.requests}`),
      card('LLM turns', `${o.llmExchanges}`),
      card('errors', `${o.errors}`),
      card('duration', formatDuration(duration)),
      card('payload', `${formatBytes(o.requestBytes)} ↑ ${formatBytes(o.responseBytes)} ↓`),
      card('tokens in / out', `${usage.input + usage.cacheRead + usage.cacheWrite} / ${usage.output}`),
      card('cost', `$${usage.cost.toFixed(4)}`),
      card('sessions', `${d.sessions.length}`),
    ].join('')}</div>`);
    parts.push(`<h2>Tokens and latency per LLM turn</h2>`);
    parts.push(barChart('tokens per turn', [{ name: 'input', color: '#7aa7f0', values: series.input }, { name: 'output', color: '#f0a35e', values: series.output }]));
    parts.push(barChart('latency per turn', [{ name: 'latency', color: '#6cbf84', values: series.latency }], { unit: 'ms', mode: 'max' }));
    parts.push(`<h2>Endpoints</h2>${table(['host', 'path', 'methods', 'count', 'errors'], o.endpointRows().map((e) => [esc(e.host), esc(e.path), esc(e.methods.join(', ')), String(e.count), String(e.errors)]))}`);
    parts.push(`<h2>HTTP methods</h2>${table(['method', 'count'], o.methodRows().map((r) => [esc(r.key), String(r.count)]))}`);
    parts.push(`<h2>Status codes</h2>${table(['status', 'count'], o.statusRows().map((r) => [esc(r.key), String(r.count)]))}`);
    parts.push(`<h2>Payload structure</h2><p>Top request keys</p>${table(['key', 'count', 'types'], o.requestKeyRows().map((k) => [`<code>${esc(k.key)}</code>`, String(k.count), esc(k.types.join(', '))]))}`);
    parts.push(`<p>Top response keys (JSON keys; <code>event: …</code> for stream events)</p>${table(['key', 'count', 'types'], o.responseKeyRows().map((k) => [`<code>${esc(k.key)}</code>`, String(k.count), esc(k.types.join(', '))]))}`);
    parts.push(`<h2>Usage by model</h2>${usageTable(d.byModel)}<h2>Usage by session</h2>${usageTable(d.bySession)}`);
    parts.push(`<h2>Sessions</h2>${table(['session', 'agent', 'client', 'start', 'duration', 'requests', 'conversations', 'models'], d.sessions.map((s, i) => [`<a href="#s-${i + 1}">${esc(s.id)}</a>`, esc(s.agent ?? '-'), esc(s.client), esc(s.start), formatDuration(Date.parse(s.end) - Date.parse(s.start)), String(s.requests), String(s.conversations.length), esc(s.models.join(', '))]))}`);
    parts.push(`<h2>Conversation log</h2>`);
    return parts.join('\n');
  }

  sessionStart(s: Session, i: number): string {
    return `<details class="session" id="s-${i + 1}" open><summary>Session ${i + 1}: ${esc(s.id)} <span class="muted">${esc(s.agent ?? 'unknown agent')} · ${esc(s.client)} · ${esc(s.start)} · ${s.requests} requests · ${esc(s.models.join(', '))}</span></summary>\n`;
  }

  sessionEnd(): string {
    return '</details>\n';
  }

  conversationStart(c: Conversation): string {
    const how = c.kind === 'subagent' && c.parent ? ` · sub-agent of ${esc(c.parent.conversation)}${c.parent.tool ? ` via ${esc(c.parent.tool)}` : ''}` : c.kind === 'continuation' && c.compactedFrom ? ` · continues ${esc(c.compactedFrom)} after compaction` : '';
    const first = c.turns.find((t) => t.prompt)?.prompt;
    return `<details class="conv"${c.kind === 'utility' ? '' : ' open'}><summary>Conversation ${esc(c.id)} <span class="tag">${esc(c.kind)}</span><span class="muted">${c.turns.length} turn${c.turns.length === 1 ? '' : 's'}${how}${first ? ` · ${esc(first)}` : ''}</span></summary>\n`;
  }

  conversationEnd(): string {
    return '</details>\n';
  }

  othersStart(count: number): string {
    return `<details class="session"><summary>Other exchanges (${count}) <span class="muted">non-LLM traffic, token counting, exchanges without a conversation</span></summary>\n`;
  }

  othersEnd(): string {
    return '</details>\n';
  }

  tail(): string {
    return `</main><script>${SCRIPT}</script></body></html>\n`;
  }
}
