// Turns a record (finished or in flight) plus its LLM facts into the compact list row the UI
// renders and filters on, so the browser never holds 100,000 full records.
import type { CaptureRecord } from '../capture/record.js';
import type { LlmFacts } from '../analysis/llm-layer.js';
import type { Row } from './protocol.js';

function splitUrl(record: CaptureRecord): { host: string; path: string } {
  const url = record.request?.url;
  if (!url) return { host: record.server.host, path: '' };
  try {
    const u = new URL(url);
    return { host: u.host || record.server.host, path: u.pathname + u.search };
  } catch {
    return { host: record.server.host, path: url };
  }
}

// The first event that carries generated content, across the SSE dialects we know.
const FIRST_CONTENT = /"(?:text_delta|thinking_delta|input_json_delta|response\.output_text\.delta)"|"delta":\{[^{}]*"(?:content|reasoning_content)":"[^"]|"parts":\[\{"text":"[^"]/;

/** Time to first token of a stream: when the chunk holding the first content event arrived. */
export function timeToFirstToken(record: CaptureRecord): number | undefined {
  const res = record.response;
  const text = res?.body?.text;
  const chunks = res?.chunks;
  if (!text || !chunks?.length || res.body?.contentEncoding) return undefined;
  const m = FIRST_CONTENT.exec(text.length > 262_144 ? text.slice(0, 262_144) : text);
  if (!m) return undefined;
  const offset = Buffer.byteLength(text.slice(0, m.index));
  let seen = 0;
  for (const [t, n] of chunks) {
    seen += n;
    if (seen > offset) return t;
  }
  return undefined;
}

export function rowOf(record: CaptureRecord, seq: number, facts: LlmFacts, live: boolean): Row {
  const { host, path } = splitUrl(record);
  const t = Date.parse(record.startedAt);
  const row: Row = {
    seq,
    id: record.id,
    t: Number.isFinite(t) ? t : 0,
    kind: record.kind,
    method: record.kind === 'tunnel' ? 'CONNECT' : (record.request?.method ?? '?'),
    host,
    path,
    state: live ? 'live' : record.error ? 'error' : 'done',
    size: record.kind === 'tunnel' ? (record.tunnel?.bytesDown ?? 0) : (record.response?.body?.size ?? 0),
    reqSize: record.kind === 'tunnel' ? (record.tunnel?.bytesUp ?? 0) : (record.request?.body?.size ?? 0),
    llm: facts.detection?.kind === 'llm',
  };
  if (record.response) row.status = record.response.status;
  if (record.error) row.err = record.error.phase;
  const dur = record.timing?.totalMs ?? record.tunnel?.durationMs;
  if (dur !== undefined) row.dur = dur;
  if (record.timing?.ttfbMs !== undefined) row.ttfb = record.timing.ttfbMs;
  const ttft = live ? undefined : timeToFirstToken(record);
  if (ttft !== undefined) row.ttft = ttft;
  const d = facts.detection;
  if (d?.provider) row.provider = d.provider;
  if (d?.api) row.api = d.api;
  const agent = d?.agent ?? record.labels?.target;
  if (agent) row.agent = agent;
  if (record.labels?.session) row.session = record.labels.session;
  if (record.replayOf) row.replayOf = record.replayOf;
  const x = facts.exchange;
  if (x) {
    if (x.model) row.model = x.model;
    if (x.contextKey) row.ctx = x.contextKey;
    row.stream = x.stream;
    const u = x.response.usage;
    if (u?.input !== undefined) row.tin = u.input;
    if (u?.output !== undefined) row.tout = u.output;
    if (u?.cacheRead !== undefined) row.tcacheR = u.cacheRead;
    if (u?.cacheWrite !== undefined) row.tcacheW = u.cacheWrite;
    if (u?.reasoning !== undefined) row.treason = u.reasoning;
    if (x.costUsd !== undefined) row.cost = x.costUsd;
    row.msgs = x.request.turns.length;
    const names: string[] = [];
    for (const turn of x.response.turns) for (const b of turn.blocks) if (b.type === 'tool_call') names.push(b.name);
    if (names.length) {
      row.tools = names.length;
      row.toolNames = names.slice(0, 20);
    }
  }
  return row;
}
