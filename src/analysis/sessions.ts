// Grouping exchanges into sessions and conversations, online (one record at a time, in file
// order), keeping only compact turns. Strongest evidence first:
//   1. explicit ids: labels.session (one `agenttap run`), an agent's session id (Claude Code
//      x-claude-code-session-id / metadata.user_id "…_session_<uuid>", Codex session_id),
//      conversation/thread ids, Responses previous_response_id chains;
//   2. conversation continuity: a request whose messages extend an earlier request's messages
//      (same first message, and the earlier request's last message at the same position);
//   3. the system-prompt context key: one-shot helper calls (titles, summaries) with the same
//      system prompt form one "utility" conversation;
//   4. client (pid, else IP) + time gap (the original tracer's rule, default 300 s).
// Sub-agents (a conversation whose first prompt is a parent's tool-call prompt, e.g. Claude
// Code's Task tool) and compaction (a conversation restarted from a summary) are linked.
import { createHash } from 'node:crypto';
import type { LlmExchange, Turn, Usage } from '../llm/types.js';
import type { ExchangeSummary, SessionHints } from './exchange-summary.js';
import { firstUserTexts, isInjectedText, lastUserText, promptTokens } from './exchange-summary.js';

export interface SessionTurn {
  exchangeId: string;
  timestamp: string;
  host: string;
  path: string;
  model: string | null;
  messages: number;
  user: string | null;
  status: number | null;
  usage: Usage | null;
  /** The newest user prompt text of the request (short), when it has one. */
  prompt?: string;
  toolCalls?: string[];
  durationMs?: number;
  costUsd?: number;
  /** "compaction" when the request asks the model to summarize the conversation. */
  purpose?: 'compaction';
}

export type ConversationKind = 'main' | 'utility' | 'subagent' | 'continuation';

export interface Conversation {
  id: string;
  kind: ConversationKind;
  turns: SessionTurn[];
  /** Sub-agent: the parent conversation and the tool call that started it. */
  parent?: { conversation: string; toolCall?: string; tool?: string };
  /** Continuation after compaction: the conversation it was summarized from. */
  compactedFrom?: string;
  contextKey?: string;
}

export interface Session {
  id: string;
  client: string;
  agent: string | null;
  start: string;
  end: string;
  models: string[];
  /** All exchanges attributed to the session (LLM or not, count_tokens included). */
  requests: number;
  errors: number;
  usage: Required<Usage>;
  /** All prompt tokens (cache reads and writes included, whatever each provider's `input` means). */
  promptTokens: number;
  costUsd: number;
  /** How the session was recognized: label, agent-session, continuity, client-gap. */
  basis: 'label' | 'agent-session' | 'client-gap';
  conversations: Conversation[];
}

interface SessionState {
  session: Session;
  /** label:… or agent:… for sessions named by the client. */
  explicitKey?: string;
  clientKey: string;
  lastT: number;
  models: Set<string>;
  /** Utility conversations of this session by context key. */
  utility: Map<string, ConvState>;
  lastMain?: ConvState;
}

interface ConvState {
  conv: Conversation;
  session: SessionState;
}

interface Head {
  conv: ConvState;
  len: number;
  lastHash: string;
  /** The system prompt's key: a one-message head only matches a request with the same one. */
  contextKey?: string;
}

interface PendingPrompt {
  conv: ConvState;
  toolCall?: string;
  tool: string;
}

/**
 * What grouping needs of a request's conversation, as plain data or lazily computed: the
 * tracker never sees the normalized exchange, so a worker thread can compute these facts and
 * hand them over (see parallel-scan.ts).
 */
export interface TurnFacts {
  /** Messages (turns) in the request. */
  count: number;
  /** The identity hash of turn i (0-based, i < count). */
  hashAt(i: number): string;
  /** promptKey() of each of the first user turn's own texts. */
  firstPromptKeys(): string[];
  /** The first user turn starts from a compaction summary. */
  startsFromSummary(): boolean;
  /** The newest user prompt, shortened (sessions --json `prompt`). */
  prompt(): string | undefined;
  /** The last turn asks the model to summarize the conversation (compaction). */
  asksForSummary(): boolean;
  /** Tool calls of the response that hand a prompt to a sub-agent. */
  handoffs(): Handoff[];
}

export interface Handoff {
  tool: string;
  toolCall?: string;
  /** promptKey() of the prompt handed over. */
  key: string;
}

export interface SessionOptions {
  /** Max seconds between exchanges of one client in one session (default 300). */
  gapSeconds?: number;
}

export interface Assignment {
  session?: string;
  conversation?: string;
  /** The conversation's kind at the time of this exchange. */
  kind?: ConversationKind;
}

const COMPACTION_START = /^\s*(this session is being continued from a previous conversation|.{0,200}(conversation is summarized below|summary of (our|the) (previous )?conversation))/is;
const COMPACTION_REQUEST = /(create a detailed summary of the conversation|summarize the conversation so far|your task is to create a detailed summary|create a summary of the conversation)/i;
const PROMPT_KEY_LEN = 400;
const MAX_HEADS = 32;
const MAX_PENDING = 256;

function explicitKey(hints: SessionHints): string | undefined {
  return hints.label ? `label:${hints.label}` : hints.agentSession ? `agent:${hints.agentSession}` : undefined;
}

function headKey(explicit: string | undefined, firstHash: string): string {
  return `${explicit ?? ''}\0${firstHash}`;
}

/**
 * A turn's identity for continuity. Injected context (Claude Code's <system-reminder> blocks)
 * is left out: agents drop or move it between requests of one conversation (compaction does).
 */
export function hashTurn(turn: Turn): string {
  const h = createHash('sha1').update(turn.role);
  for (const b of turn.blocks) {
    // Strings are hashed as they are; only structured values pay for JSON.stringify.
    if (b.type === 'text') {
      if (!isInjectedText(b.text)) h.update('\0t').update(b.text);
    } else if (b.type === 'tool_result' && typeof b.output === 'string') h.update('\0r').update(b.id ?? '').update('\0').update(b.output);
    else if (b.type === 'thinking') h.update('\0k').update(b.text);
    else h.update('\0').update(JSON.stringify(b));
  }
  return h.digest('base64');
}

export function promptKey(text: string): string {
  return text.trim().slice(0, PROMPT_KEY_LEN);
}

export function short(text: string | undefined, max = 160): string | undefined {
  if (text === undefined) return undefined;
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

function addUsage(into: Required<Usage>, u: Usage | undefined): void {
  if (!u) return;
  into.input += u.input ?? 0;
  into.output += u.output ?? 0;
  into.cacheRead += u.cacheRead ?? 0;
  into.cacheWrite += u.cacheWrite ?? 0;
  into.reasoning += u.reasoning ?? 0;
}

export function emptyUsage(): Required<Usage> {
  return { input: 0, output: 0, cacheRead: 0, cacheWrite: 0, reasoning: 0 };
}

export class SessionTracker {
  private readonly gapMs: number;
  private readonly sessions: SessionState[] = [];
  private readonly byExplicit = new Map<string, SessionState>();
  private readonly openByClient = new Map<string, SessionState>();
  private readonly heads = new Map<string, Head[]>();
  private readonly byConversationId = new Map<string, ConvState>();
  private readonly byResponseId = new Map<string, ConvState>();
  private readonly pendingPrompts = new Map<string, PendingPrompt[]>();
  private readonly conversations = new Map<string, Conversation>();

  constructor(options: SessionOptions = {}) {
    this.gapMs = (options.gapSeconds ?? 300) * 1000;
  }

  /** Adds one exchange (in file order); returns the session and conversation it joined. */
  add(summary: ExchangeSummary, hints: SessionHints, facts?: TurnFacts): Assignment {
    const llm = summary.llm;
    const isTurn = !!facts && !!llm && !llm.countOnly && summary.kind !== 'tunnel';
    if (!isTurn) {
      // Not a conversation turn: attribute to the explicit or open session of its client, if any.
      const state = this.explicitSession(summary, hints) ?? this.openSession(summary, false);
      if (!state) return {};
      this.count(state, summary);
      return { session: state.session.id };
    }
    const count = facts!.count;
    const firstHash = count > 0 ? facts!.hashAt(0) : undefined;
    let conv = this.findConversation(hints, facts!, llm!.contextKey, firstHash);
    let state = conv?.session ?? this.explicitSession(summary, hints);
    let isNew = false;
    if (!conv) {
      const pending = this.takePending(facts!.firstPromptKeys(), state);
      state ??= pending?.conv.session ?? this.openSession(summary, true)!;
      const utilityKey = llm!.contextKey ?? `model:${llm!.model ?? '?'}`;
      const oneShot = count <= 1 && llm!.tools === 0 && !pending;
      const existingUtility = oneShot ? state.utility.get(utilityKey) : undefined;
      if (existingUtility) conv = existingUtility;
      else {
        const c: Conversation = { id: hints.conversation ?? summary.id, kind: oneShot ? 'utility' : 'main', turns: [] };
        if (llm!.contextKey) c.contextKey = llm!.contextKey;
        if (pending) {
          c.kind = 'subagent';
          c.parent = { conversation: pending.conv.conv.id, tool: pending.tool };
          if (pending.toolCall) c.parent.toolCall = pending.toolCall;
        } else if (state.lastMain && facts!.startsFromSummary()) {
          c.kind = 'continuation';
          c.compactedFrom = state.lastMain.conv.id;
        }
        conv = { conv: c, session: state };
        state.session.conversations.push(c);
        this.conversations.set(c.id, c);
        if (oneShot) state.utility.set(utilityKey, conv);
        if (hints.conversation) this.byConversationId.set(hints.conversation, conv);
        isNew = true;
      }
    }
    state = conv.session;
    if (conv.conv.kind === 'utility' && !isNew && count > 1) conv.conv.kind = 'main';
    if (conv.conv.kind !== 'utility') state.lastMain = conv;
    this.count(state, summary);
    this.recordTurn(conv, summary, hints, facts!, firstHash);
    return { session: state.session.id, conversation: conv.conv.id, kind: conv.conv.kind };
  }

  private explicitSession(summary: ExchangeSummary, hints: SessionHints): SessionState | undefined {
    const key = explicitKey(hints);
    if (!key) return undefined;
    let state = this.byExplicit.get(key);
    if (!state) {
      state = this.newSession(hints.label ?? hints.agentSession!, summary, hints.label ? 'label' : 'agent-session');
      state.explicitKey = key;
      this.byExplicit.set(key, state);
    }
    return state;
  }

  /** The client's session still within the gap; a new one when `create`. */
  private openSession(summary: ExchangeSummary, create: boolean): SessionState | undefined {
    const open = this.openByClient.get(summary.clientKey);
    if (open && summary.t - open.lastT <= this.gapMs) return open;
    if (!create) return undefined;
    const startSecs = (summary.t / 1000).toFixed(3);
    const state = this.newSession(`${summary.clientKey}_${startSecs}`, summary, 'client-gap');
    this.openByClient.set(summary.clientKey, state);
    return state;
  }

  private newSession(id: string, summary: ExchangeSummary, basis: Session['basis']): SessionState {
    const session: Session = {
      id,
      client: summary.client,
      agent: summary.llm?.agent ?? summary.labels?.target ?? null,
      start: summary.startedAt,
      end: summary.startedAt,
      models: [],
      requests: 0,
      errors: 0,
      usage: emptyUsage(),
      promptTokens: 0,
      costUsd: 0,
      basis,
      conversations: [],
    };
    const state: SessionState = { session, clientKey: summary.clientKey, lastT: summary.t, models: new Set(), utility: new Map() };
    this.sessions.push(state);
    return state;
  }

  private findConversation(hints: SessionHints, facts: TurnFacts, contextKey: string | undefined, firstHash: string | undefined): ConvState | undefined {
    if (hints.previousResponseId) {
      const c = this.byResponseId.get(hints.previousResponseId);
      if (c) return c;
    }
    if (hints.conversation) {
      const c = this.byConversationId.get(hints.conversation);
      if (c) return c;
    }
    if (firstHash === undefined) return undefined;
    const explicit = explicitKey(hints);
    // An explicit session id that is new starts a new conversation, whatever it resembles.
    if (explicit && !this.byExplicit.has(explicit)) return undefined;
    // Heads live per explicit session (or in one pool for client-gap sessions), so thousands of
    // sessions that start with the same prompt never make one lookup scan them all.
    const heads = this.heads.get(headKey(explicit, firstHash));
    if (!heads) return undefined;
    const count = facts.count;
    for (let i = heads.length - 1; i >= 0; i--) {
      const h = heads[i]!;
      if (h.len > count) continue;
      // A one-message head says little (a title helper gets the same first message as the
      // agent's main loop): it must share the system prompt too.
      if (h.len === 1 && (h.contextKey !== contextKey || (h.conv.conv.kind === 'utility' && count > 1))) continue;
      if (h.len > 1 && facts.hashAt(h.len - 1) !== h.lastHash) continue;
      return h.conv;
    }
    return undefined;
  }

  /** The tool call whose prompt one of these first-turn texts (as prompt keys) is (a sub-agent's task), preferring the same session. */
  private takePending(keys: string[], session: SessionState | undefined): PendingPrompt | undefined {
    if (this.pendingPrompts.size === 0) return undefined;
    const take = (key: string, list: PendingPrompt[]) => {
      let i = session ? list.findIndex((p) => p.conv.session === session) : list.length - 1;
      if (i < 0) {
        if (session && session.session.basis !== 'client-gap') return undefined;
        i = list.length - 1;
      }
      const [p] = list.splice(i, 1);
      if (list.length === 0) this.pendingPrompts.delete(key);
      return p;
    };
    for (const key of keys) {
      const exact = this.pendingPrompts.get(key);
      if (exact) {
        const p = take(key, exact);
        if (p) return p;
      }
      for (const [k, list] of this.pendingPrompts) {
        if (k.length >= 20 && key.includes(k.slice(0, 200))) {
          const p = take(k, list);
          if (p) return p;
        }
      }
    }
    return undefined;
  }

  private count(state: SessionState, summary: ExchangeSummary): void {
    const s = state.session;
    s.requests++;
    if (summary.errorPhase || (summary.status !== undefined && summary.status >= 400) || summary.llm?.error) s.errors++;
    if (summary.t > Date.parse(s.end)) s.end = summary.startedAt;
    if (summary.t < Date.parse(s.start)) s.start = summary.startedAt;
    state.lastT = Math.max(state.lastT, summary.t);
    const llm = summary.llm;
    // count_tokens answers a question about tokens; it consumes none.
    if (llm && !llm.countOnly) {
      addUsage(s.usage, llm.usage);
      s.promptTokens += promptTokens(llm.usage, llm.provider);
      s.costUsd += llm.costUsd ?? 0;
      if (llm.model && !state.models.has(llm.model)) {
        state.models.add(llm.model);
        s.models.push(llm.model);
      }
      if (!s.agent && llm.agent) s.agent = llm.agent;
    }
    // The client's latest session takes its unlabelled traffic (telemetry, count_tokens) too.
    this.openByClient.set(summary.clientKey, state);
  }

  private recordTurn(conv: ConvState, summary: ExchangeSummary, hints: SessionHints, facts: TurnFacts, firstHash: string | undefined): void {
    const count = facts.count;
    const llm = summary.llm!;
    const turn: SessionTurn = {
      exchangeId: summary.id,
      timestamp: summary.startedAt,
      host: summary.host,
      path: summary.path,
      model: llm.model ?? null,
      messages: count,
      user: hints.user ?? null,
      status: summary.status ?? null,
      usage: llm.usage ?? null,
    };
    const prompt = facts.prompt();
    if (prompt) turn.prompt = prompt;
    if (llm.toolCalls.length) turn.toolCalls = llm.toolCalls;
    if (summary.durationMs !== undefined) turn.durationMs = summary.durationMs;
    if (llm.costUsd !== undefined) turn.costUsd = llm.costUsd;
    if (facts.asksForSummary()) turn.purpose = 'compaction';
    conv.conv.turns.push(turn);
    if (firstHash !== undefined) {
      const key = headKey(conv.session.explicitKey, firstHash);
      let list = this.heads.get(key);
      if (!list) this.heads.set(key, (list = []));
      const head: Head = { conv, len: count, lastHash: count === 1 ? firstHash : facts.hashAt(count - 1) };
      if (llm.contextKey) head.contextKey = llm.contextKey;
      const same = list.findIndex((h) => h.conv === conv);
      if (same >= 0) list.splice(same, 1);
      list.push(head);
      // The most recent heads are the ones continued; older ones are let go (bounded scans).
      if (list.length > MAX_HEADS) list.shift();
    }
    if (hints.responseId) this.byResponseId.set(hints.responseId, conv);
    // Tool calls that hand a prompt to a sub-agent.
    for (const handoff of facts.handoffs()) {
      const p: PendingPrompt = { conv, tool: handoff.tool };
      if (handoff.toolCall) p.toolCall = handoff.toolCall;
      const list = this.pendingPrompts.get(handoff.key);
      if (list) list.push(p);
      else {
        this.pendingPrompts.set(handoff.key, [p]);
        // Prompts no sub-agent picked up are forgotten, oldest first (bounded lookups).
        if (this.pendingPrompts.size > MAX_PENDING) this.pendingPrompts.delete(this.pendingPrompts.keys().next().value as string);
      }
    }
  }

  /** A conversation by id (its kind may still change as turns arrive). */
  conversation(id: string | undefined): Conversation | undefined {
    return id === undefined ? undefined : this.conversations.get(id);
  }

  /** Sessions in order of their first exchange. */
  result(): Session[] {
    return this.sessions
      .map((s) => s.session)
      .filter((s) => s.requests > 0)
      .sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  }
}

/** The grouping facts of a normalized exchange, computed when the tracker asks (hashes one turn at a time). */
export function turnFactsOf(exchange: LlmExchange): TurnFacts {
  const turns = exchange.request.turns;
  const hashes: (string | undefined)[] = new Array(turns.length);
  let firstTexts: string[] | undefined;
  const first = () => (firstTexts ??= firstUserTexts(turns));
  const facts: TurnFacts & { knownHashes(): [number, string][] } = {
    count: turns.length,
    hashAt: (i) => (hashes[i] ??= hashTurn(turns[i]!)),
    knownHashes: () => {
      const out: [number, string][] = [];
      hashes.forEach((h, i) => h !== undefined && out.push([i, h]));
      return out;
    },
    firstPromptKeys: () => first().map(promptKey),
    startsFromSummary: () => first().some((t) => COMPACTION_START.test(t.slice(0, 400))),
    prompt: () => short(lastUserText(turns)),
    asksForSummary: () => {
      const last = turns[turns.length - 1];
      return last?.role === 'user' && last.blocks.some((b) => b.type === 'text' && COMPACTION_REQUEST.test(b.text.slice(0, 400)));
    },
    handoffs: () => handoffsOf(exchange),
  };
  return facts;
}

/** Tool calls in a response that hand a prompt (`prompt` or `task` input) to a sub-agent. */
export function handoffsOf(exchange: LlmExchange): Handoff[] {
  const out: Handoff[] = [];
  for (const t of exchange.response.turns) {
    for (const b of t.blocks) {
      if (b.type !== 'tool_call' || !b.input || typeof b.input !== 'object') continue;
      const input = b.input as Record<string, unknown>;
      const prompt = typeof input.prompt === 'string' ? input.prompt : typeof input.task === 'string' ? input.task : undefined;
      if (prompt && prompt.trim().length >= 20) {
        const h: Handoff = { tool: b.name, key: promptKey(prompt) };
        if (b.id) h.toolCall = b.id;
        out.push(h);
      }
    }
  }
  return out;
}

/** Facts as plain data (from a worker thread) behind the TurnFacts interface. */
export interface PlainTurnFacts {
  count: number;
  /** Turn hashes by index: the first and last few always, others when the worker needed them (sparse). */
  hashes: Record<number, string>;
  firstPromptKeys: string[];
  startsFromSummary: boolean;
  prompt?: string;
  asksForSummary: boolean;
  handoffs: Handoff[];
}

/** A turn hash the plain facts do not carry: the caller computes the facts from the exchange instead. */
export class MissingTurnHash extends Error {
  readonly code = 'missing-turn-hash';
}

/**
 * Plain facts of an exchange. Hashing every turn of every request costs as much as normalizing
 * it, so only these turns are hashed: the first, the last three (a conversation's previous
 * request usually ends two turns earlier) and the ones `facts.hashAt` was asked for already.
 */
export function plainTurnFacts(facts: TurnFacts): PlainTurnFacts {
  const hashes: Record<number, string> = {};
  const count = facts.count;
  for (const i of [0, count - 3, count - 2, count - 1]) if (i >= 0 && i < count) hashes[i] = facts.hashAt(i);
  const p: PlainTurnFacts = { count, hashes, firstPromptKeys: facts.firstPromptKeys(), startsFromSummary: facts.startsFromSummary(), asksForSummary: facts.asksForSummary(), handoffs: facts.handoffs() };
  const known = (facts as { knownHashes?: () => [number, string][] }).knownHashes?.();
  if (known) for (const [i, h] of known) hashes[i] = h;
  const prompt = facts.prompt();
  if (prompt !== undefined) p.prompt = prompt;
  return p;
}

export function factsFromPlain(p: PlainTurnFacts): TurnFacts {
  return {
    count: p.count,
    hashAt: (i) => {
      const h = p.hashes[i];
      if (h === undefined) throw new MissingTurnHash(`turn ${i} was not hashed`);
      return h;
    },
    firstPromptKeys: () => p.firstPromptKeys,
    startsFromSummary: () => p.startsFromSummary,
    prompt: () => p.prompt,
    asksForSummary: () => p.asksForSummary,
    handoffs: () => p.handoffs,
  };
}
