// The per-record half of an analysis pass, done where the record is parsed (a worker thread
// reading one byte range): LLM facts, the exchange summary, session hints, the facts grouping
// needs, and for reports the payload keys and the state-free part of the exchange's view. The
// result is plain data, small next to the record; the main thread applies it in file order
// (parallel-scan.ts). Work that depends on records of other ranges is left to the main thread:
// Responses-API exchanges (previous_response_id chains) are deferred whole.
import type { ChunkRecord } from './chunk-reader.js';
import { sessionHints, summarizeExchange, type ExchangeSummary, type SessionHints } from './exchange-summary.js';
import { payloadKeysOf, type PayloadKeys } from './http-overview.js';
import type { LlmReader } from './llm-layer.js';
import { prepareView, type PreparedView } from './report-view.js';
import { plainTurnFacts, turnFactsOf, type PlainTurnFacts, type TurnFacts } from './sessions.js';

export interface PrepareOptions {
  /** Group into sessions (hints and grouping facts). */
  sessions: boolean;
  /** Report data: payload keys and the prepared view. */
  report: boolean;
  /** Message row texts cut to this many characters. */
  rowTextChars?: number;
}

export interface PreparedItem {
  line: number;
  offset: number;
  length: number;
  /** Left to the main thread: it reads the line again and does all of it. */
  deferred?: true;
  summary?: ExchangeSummary;
  hints?: SessionHints;
  facts?: PlainTurnFacts;
  /** The payload keys, or the index (in the same range's items) of an item with the same keys. */
  keys?: PayloadKeys | number;
  view?: PreparedView;
}

/** A conversation head seen in this range (see SessionTracker: same matching rules, range-local). */
interface LocalHead {
  conv: number;
  len: number;
  lastHash: string;
  contextKey?: string;
}

/**
 * Prepares the records of one byte range. The view's message rows start at a guess of what the
 * conversation already showed (the turns of the latest request in this range that this one
 * extends); the main thread checks the guess and redoes the view when it was too short-sighted.
 */
export class RangePreparer {
  private readonly systemKeys = new Set<string>();
  private readonly heads = new Map<string, LocalHead[]>();
  private convs = 0;

  constructor(
    private readonly llmFacts: LlmReader,
    private readonly options: PrepareOptions,
  ) {}

  prepare({ record, line, offset, length }: ChunkRecord): PreparedItem {
    const item: PreparedItem = { line, offset, length };
    const { exchange, detection, deferred } = this.llmFacts(record);
    if (deferred) {
      item.deferred = true;
      return item;
    }
    const summary = summarizeExchange(record, exchange, detection);
    item.summary = summary;
    const hints = this.options.sessions ? sessionHints(record) : {};
    if (this.options.sessions) item.hints = hints;
    const isTurn = !!exchange && !!summary.llm && !summary.llm.countOnly && summary.kind !== 'tunnel';
    const facts = this.options.sessions && isTurn ? turnFactsOf(exchange!) : undefined;
    if (this.options.report) {
      item.keys = payloadKeysOf(record);
      const rowsFrom = facts ? this.rowsFrom(hints, facts, summary.llm!.contextKey) : 0;
      item.view = prepareView({ record, summary, exchange }, rowsFrom, (key) => {
        // The full text goes with the first use in this range: the report's first use is one of those.
        if (this.systemKeys.has(key)) return false;
        this.systemKeys.add(key);
        return true;
      }, this.options.rowTextChars);
    }
    // After the local matching above, so the turns it hashed go along (the main thread matches the same heads).
    if (facts) item.facts = plainTurnFacts(facts);
    return item;
  }

  private rowsFrom(hints: SessionHints, facts: TurnFacts, contextKey: string | undefined): number {
    const count = facts.count;
    if (count === 0) return 0;
    const explicit = hints.label ? `label:${hints.label}` : hints.agentSession ? `agent:${hints.agentSession}` : '';
    const key = `${explicit}\0${facts.hashAt(0)}`;
    let list = this.heads.get(key);
    if (!list) this.heads.set(key, (list = []));
    let match: LocalHead | undefined;
    for (let i = list.length - 1; i >= 0; i--) {
      const h = list[i]!;
      if (h.len > count) continue;
      if (h.len === 1 && h.contextKey !== contextKey) continue;
      if (h.len > 1 && facts.hashAt(h.len - 1) !== h.lastHash) continue;
      match = h;
      break;
    }
    const from = match ? (match.len < count ? match.len : Math.max(0, count - 1)) : 0;
    const conv = match ? match.conv : ++this.convs;
    if (match) list.splice(list.indexOf(match), 1);
    const head: LocalHead = { conv, len: count, lastHash: facts.hashAt(count - 1) };
    if (contextKey) head.contextKey = contextKey;
    list.push(head);
    if (list.length > 32) list.shift();
    return from;
  }
}
