// One compact summary per exchange: what stats, sessions and reports keep in memory instead of
// the record (bodies are dropped as soon as the summary is made, so a 2 GB capture fits).
import type { CaptureRecord } from '../capture/record.js';
import { headerValue } from '../capture/record.js';
import { jsonBody } from '../llm/record-json.js';
import type { Block, Detection, LlmExchange, Turn, Usage } from '../llm/types.js';

export interface LlmSummary {
  provider?: string;
  api?: string;
  agent?: string;
  model?: string;
  stream: boolean;
  usage?: Usage;
  costUsd?: number;
  stopReason?: string;
  /** Messages (turns) in the request. */
  messages: number;
  tools: number;
  toolCalls: string[];
  contextKey?: string;
  /** count_tokens and similar: an exchange, not a conversation turn. */
  countOnly: boolean;
  error?: string;
}

export interface ExchangeSummary {
  id: string;
  /** startedAt as epoch ms. */
  t: number;
  startedAt: string;
  kind: CaptureRecord['kind'];
  method: string;
  host: string;
  path: string;
  status?: number;
  errorPhase?: string;
  /** pid:N when known, else the client IP. */
  clientKey: string;
  client: string;
  process?: string;
  reqBytes: number;
  resBytes: number;
  durationMs?: number;
  ttfbMs?: number;
  /** Time to the first streamed body chunk (first token) for streams. */
  ttftMs?: number;
  labels?: Record<string, string>;
  detection?: Detection['kind'];
  llm?: LlmSummary;
}

export function pathOf(url: string): string {
  const scheme = url.indexOf('://');
  const slash = url.indexOf('/', scheme >= 0 ? scheme + 3 : 0);
  if (slash < 0) return '/';
  const q = url.indexOf('?', slash);
  return q < 0 ? url.slice(slash) : url.slice(slash, q);
}

export function isCountOnly(api: string | undefined, path: string): boolean {
  return (api !== undefined && /count_tokens|countTokens/i.test(api)) || /count_tokens|:countTokens/.test(path);
}

export function summarizeExchange(record: CaptureRecord, exchange?: LlmExchange, detection?: Detection): ExchangeSummary {
  const req = record.request;
  const res = record.response;
  const client = record.client;
  const path = req ? pathOf(req.url) : '';
  const s: ExchangeSummary = {
    id: record.id,
    t: Date.parse(record.startedAt),
    startedAt: record.startedAt,
    kind: record.kind,
    method: req?.method ?? (record.kind === 'tunnel' ? 'CONNECT' : ''),
    host: record.server.host,
    path,
    clientKey: client?.pid !== undefined ? `pid:${client.pid}` : client?.ip ?? 'unknown',
    client: client ? (client.pid !== undefined ? `${client.process ?? 'pid'} ${client.pid}` : client.ip) : 'unknown',
    reqBytes: req?.body?.size ?? record.tunnel?.bytesUp ?? 0,
    resBytes: res?.body?.size ?? record.tunnel?.bytesDown ?? 0,
  };
  if (res) s.status = res.status;
  if (record.error) s.errorPhase = record.error.phase;
  if (client?.process) s.process = client.process;
  const timing = record.timing;
  if (timing?.totalMs !== undefined) s.durationMs = timing.totalMs;
  else if (record.tunnel) s.durationMs = record.tunnel.durationMs;
  if (timing?.ttfbMs !== undefined) s.ttfbMs = timing.ttfbMs;
  if (record.labels) s.labels = record.labels;
  const det = exchange?.detection ?? detection;
  if (det) s.detection = det.kind;
  if (exchange) {
    const toolCalls: string[] = [];
    for (const turn of exchange.response.turns) for (const b of turn.blocks) if (b.type === 'tool_call') toolCalls.push(b.name);
    const llm: LlmSummary = {
      stream: exchange.stream,
      messages: exchange.request.turns.length,
      tools: exchange.request.tools.length,
      toolCalls,
      countOnly: isCountOnly(exchange.detection.api, path),
    };
    if (exchange.detection.provider) llm.provider = exchange.detection.provider;
    if (exchange.detection.api) llm.api = exchange.detection.api;
    if (exchange.detection.agent) llm.agent = exchange.detection.agent;
    if (exchange.model) llm.model = exchange.model;
    if (exchange.response.usage) llm.usage = exchange.response.usage;
    if (exchange.costUsd !== undefined) llm.costUsd = exchange.costUsd;
    if (exchange.response.stopReason) llm.stopReason = exchange.response.stopReason;
    if (exchange.contextKey) llm.contextKey = exchange.contextKey;
    if (exchange.response.error) llm.error = exchange.response.error;
    s.llm = llm;
    // First token: the first body chunk after the head, for streams.
    const chunks = res?.chunks;
    if (exchange.stream && chunks && chunks.length > 0) s.ttftMs = chunks[0]![0];
  } else if (det && det.kind === 'llm') {
    s.llm = { stream: false, messages: 0, tools: 0, toolCalls: [], countOnly: isCountOnly(det.api, path) };
    if (det.provider) s.llm.provider = det.provider;
    if (det.api) s.llm.api = det.api;
    if (det.agent) s.llm.agent = det.agent;
  }
  return s;
}

/** Text an agent injects into user turns (Claude Code reminders, slash-command echoes): context, not the user's prompt. */
const INJECTED = /^\s*(<(system-reminder|command-name|command-message|command-args|local-command-stdout|local-command-stderr|user-prompt-submit-hook|environment_context|user_instructions)>|Caveat: The messages below were generated by the user|Caveat: The messages below are were generated by the user|The user opened the file \S.* in the IDE\.)/;

export function isInjectedText(text: string): boolean {
  return INJECTED.test(text);
}

/** The user's own text blocks of a turn (injected context left out). */
export function userTexts(turn: Turn): string[] {
  const out: string[] = [];
  for (const b of turn.blocks) if (b.type === 'text' && b.text.trim() !== '' && !INJECTED.test(b.text)) out.push(b.text);
  return out;
}

/** Text of a block list (text blocks only). */
export function blocksText(blocks: Block[]): string {
  const parts: string[] = [];
  for (const b of blocks) {
    if (b.type === 'text') parts.push(b.text);
  }
  return parts.join('\n');
}

/** The last user turn's own text (not tool results, not injected context): the prompt of this request. */
export function lastUserText(turns: Turn[]): string | undefined {
  for (let i = turns.length - 1; i >= 0; i--) {
    const t = turns[i]!;
    if (t.role !== 'user') continue;
    const texts = userTexts(t);
    if (texts.length) return texts.join('\n').trim();
    if (t.blocks.some((b) => b.type === 'tool_result')) return undefined;
  }
  return undefined;
}

/** The first user turn's own text blocks. */
export function firstUserTexts(turns: Turn[]): string[] {
  for (const t of turns) {
    if (t.role !== 'user') continue;
    const texts = userTexts(t);
    if (texts.length) return texts;
  }
  return [];
}

export function firstUserText(turns: Turn[]): string | undefined {
  const texts = firstUserTexts(turns);
  return texts.length ? texts.join('\n').trim() : undefined;
}

/** Values a client sends that name its session or conversation, strongest first. */
export interface SessionHints {
  /** labels.session (one `agenttap run`). */
  label?: string;
  /** An agent's own session id (Claude Code, Codex, generic session headers). */
  agentSession?: string;
  /** An explicit conversation/thread id. */
  conversation?: string;
  previousResponseId?: string;
  responseId?: string;
  user?: string;
}

const SESSION_HEADERS = ['x-claude-code-session-id', 'session_id', 'session-id', 'x-session-id'];
const CONVERSATION_HEADERS = ['conversation_id', 'conversation-id', 'thread-id', 'thread_id', 'x-thread-id'];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function short(v: unknown, max: number): string | undefined {
  return typeof v === 'string' && v !== '' ? v.slice(0, max) : undefined;
}

/**
 * Explicit ids a client sends. The request body is the LLM layer's cached parse (jsonBody),
 * so reading ids costs no second parse.
 */
export function sessionHints(record: CaptureRecord): SessionHints {
  const h: SessionHints = {};
  const label = record.labels?.session;
  if (label) h.label = label;
  const headers = record.request?.headers;
  for (const name of SESSION_HEADERS) {
    const v = headerValue(headers, name);
    if (v) {
      h.agentSession = v;
      break;
    }
  }
  for (const name of CONVERSATION_HEADERS) {
    const v = headerValue(headers, name);
    if (v) {
      h.conversation = v;
      break;
    }
  }
  const body = record.request?.body;
  const json = body?.text !== undefined && body.text.charCodeAt(0) === 0x7b ? jsonBody(body) : undefined;
  if (isRecord(json)) {
    const metadata = isRecord(json.metadata) ? json.metadata : undefined;
    const userId = short(metadata?.user_id, 500);
    if (userId) {
      // Claude Code: "user_<hash>_account_<uuid>_session_<uuid>", or a JSON string with session_id.
      const session = /_session_([0-9a-f-]{8,})/i.exec(userId) ?? /"session_id"\s*:\s*"([^"]+)"/.exec(userId);
      if (session && !h.agentSession) h.agentSession = session[1];
      h.user = userId.replace(/_session_[0-9a-f-]+$/i, '');
    } else {
      const user = short(json.user, 300);
      if (user) h.user = user;
    }
    const prev = short(json.previous_response_id, 200);
    if (prev) h.previousResponseId = prev;
    if (!h.conversation) {
      const cacheKey = short(json.prompt_cache_key, 200);
      if (cacheKey) h.conversation = cacheKey;
    }
  }
  const res = record.response?.body;
  if (res?.text && record.request && record.request.url.includes('/responses')) {
    const m = /"id"\s*:\s*"(resp_[^"\\]{1,200})"/.exec(res.text.slice(0, 4096));
    if (m) h.responseId = m[1];
  }
  return h;
}

/** All prompt tokens of a usage: Anthropic reports cache reads/writes beside `input`, OpenAI and Gemini inside it. */
export function promptTokens(u: Usage | undefined, provider?: string): number {
  if (!u) return 0;
  const separate = provider === undefined || provider === 'anthropic' || provider === 'aws-bedrock' || provider === 'google-vertex-anthropic';
  return (u.input ?? 0) + (separate ? (u.cacheRead ?? 0) + (u.cacheWrite ?? 0) : 0);
}
