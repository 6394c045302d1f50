// Turns the engine's exchange events into capture records: redaction, body decoding and caps,
// per-chunk timing. Emits 'record' for each finished exchange and, when someone listens,
// 'update' for exchanges in flight (the live UI). Hooks: `annotate` (labels, pid attribution,
// summaries) and `decide` (capture tiers: keep everything, metadata only, or drop).
import { EventEmitter } from 'node:events';
import type { Exchange, ExchangeEnd, ExchangeEvents, ResponseHead, TunnelRow } from '../engine/exchange.js';
import { BodyCollector, DEFAULT_MAX_BODY } from './body-decode.js';
import { headerValue, RECORD_VERSION, type CaptureRecord, type HeaderList, type RecordBody, type RecordError, type RecordRequest, type RecordResponse, type WsMessage } from './record.js';
import { redactHeaders, redactUrl } from './redact.js';

export type CaptureTier = 'full' | 'metadata' | 'drop';

export interface RecorderOptions {
  /** Cap per body in bytes (decoded); beyond it the head is kept with truncated + sha256. */
  maxBody?: number;
  /** Keep secrets in the record (--keep-secrets). Default false: redact. */
  keepSecrets?: boolean;
  /** Labels added to every record (e.g. run's session and target). */
  labels?: Record<string, string>;
  /**
   * Called on the partial record when an exchange starts (phase "start": the client is still
   * connected, so pid lookups work; labels and client fields set here are kept) and on the
   * finished record before `decide` (phase "end").
   */
  annotate?(record: CaptureRecord, phase: 'start' | 'end'): void;
  /** Capture tier for a finished record: full (default), metadata (bodies dropped), drop. */
  decide?(record: CaptureRecord): CaptureTier;
}

/** A live view of an exchange in flight (only emitted while someone listens to 'update'). */
export type RecordUpdate =
  | { id: string; stage: 'start' | 'response-head'; record: CaptureRecord }
  | { id: string; stage: 'chunk'; from: 'client' | 'server'; t: number; data: Buffer };

export interface RecorderEvents {
  record: [record: CaptureRecord];
  update: [update: RecordUpdate];
}

interface InFlight {
  ex: Exchange;
  partial: CaptureRecord;
  reqBody?: BodyCollector;
  reqChunks?: [number, number][];
  head?: ResponseHead;
  resBody?: BodyCollector;
  resChunks: [number, number][];
  ws?: WsMessage[];
  /** Top-level keys an annotate hook added to the partial record (kept, after request). */
  extraKeys?: string[];
}

/** The keys finish() places itself; anything else an annotate hook adds is carried over. */
const STANDARD_KEYS = new Set(['v', 'id', 'kind', 'mode', 'startedAt', 'client', 'server', 'request', 'response', 'timing', 'ws', 'wsClose', 'error', 'labels', 'llm']);

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

export class Recorder extends EventEmitter<RecorderEvents> {
  /**
   * Each exchange in flight carries its recording state under this recorder's own key. Not a
   * Map keyed by id: the Map's table lives in the old generation, and the young objects it had
   * held survived minor collections and were promoted (~300 KB per scavenge at full load: a
   * third of what recording cost).
   */
  private readonly slot = Symbol('agenttap recorder');
  private inFlightCount = 0;
  private readonly finishing = new Set<Promise<void>>();
  private readonly maxBody: number;
  /** Records emitted so far. */
  count = 0;

  constructor(readonly options: RecorderOptions = {}) {
    super();
    this.maxBody = options.maxBody ?? DEFAULT_MAX_BODY;
  }

  /** Observe an engine (any emitter of exchange events). Returns a function that detaches. */
  attach(engine: EventEmitter<ExchangeEvents>): () => void {
    const on = {
      start: (ex: Exchange) => this.onStart(ex),
      'request-chunk': (ex: Exchange, chunk: Buffer, t: number) => {
        const f = this.stateOf(ex);
        if (!f) return;
        // Created at the first byte: most requests (GETs) never send one.
        (f.reqBody ??= new BodyCollector(headerValue(ex.request.headers, 'content-encoding'), this.maxBody, contentLength(ex.request.headers))).push(chunk);
        (f.reqChunks ??= []).push([round(t), chunk.length]);
        if (this.listenerCount('update')) this.emit('update', { id: ex.id, stage: 'chunk', from: 'client', t, data: chunk });
      },
      'response-head': (ex: Exchange, head: ResponseHead) => {
        const f = this.stateOf(ex);
        if (!f) return;
        f.head = head;
        f.resBody = new BodyCollector(headerValue(head.headers, 'content-encoding'), this.maxBody, contentLength(head.headers));
        if (this.listenerCount('update')) this.emit('update', { id: ex.id, stage: 'response-head', record: this.snapshot(f) });
      },
      'response-chunk': (ex: Exchange, chunk: Buffer, t: number) => {
        const f = this.stateOf(ex);
        if (!f?.resBody) return;
        f.resBody.push(chunk);
        f.resChunks.push([round(t), chunk.length]);
        if (this.listenerCount('update')) this.emit('update', { id: ex.id, stage: 'chunk', from: 'server', t, data: chunk });
      },
      'ws-message': (ex: Exchange, msg: WsMessage) => {
        const f = this.stateOf(ex);
        if (f) (f.ws ??= []).push(msg);
      },
      end: (ex: Exchange, end: ExchangeEnd) => this.onEnd(ex, null, end),
      abort: (ex: Exchange, error: RecordError, end: ExchangeEnd) => this.onEnd(ex, error, end),
      tunnel: (row: TunnelRow) => this.onTunnel(row),
    };
    for (const [k, fn] of Object.entries(on)) engine.on(k as keyof ExchangeEvents, fn as never);
    return () => {
      for (const [k, fn] of Object.entries(on)) engine.off(k as keyof ExchangeEvents, fn as never);
    };
  }

  private stateOf(ex: Exchange): InFlight | undefined {
    return (ex as unknown as Record<symbol, InFlight | undefined>)[this.slot];
  }

  /** Exchanges started and not yet finished. */
  get pending(): number {
    return this.inFlightCount;
  }

  /** Resolves when every finished exchange has been turned into a record and emitted. */
  async flush(): Promise<void> {
    while (this.finishing.size) await Promise.all([...this.finishing]);
  }

  private onStart(ex: Exchange): void {
    const partial: CaptureRecord = {
      v: RECORD_VERSION,
      id: ex.id,
      kind: ex.kind,
      mode: ex.mode,
      startedAt: ex.startedAt,
      client: { ...ex.client },
      server: ex.server,
      request: {
        method: ex.request.method,
        url: this.options.keepSecrets ? ex.request.url : redactUrl(ex.request.url),
        httpVersion: ex.request.httpVersion,
        headers: this.options.keepSecrets ? ex.request.headers : redactHeaders(ex.request.headers),
      },
      error: null,
    };
    if (this.options.labels || ex.labels) {
      const labels = mergeLabels(this.options.labels, ex.labels);
      if (Object.keys(labels).length) partial.labels = labels;
    }
    try {
      this.options.annotate?.(partial, 'start');
    } catch {
      // An observer's bug must not lose the exchange.
    }
    const f: InFlight = { ex, partial, resChunks: [] };
    if (this.options.annotate) {
      // Only an annotate hook can add keys of its own.
      const extra = Object.keys(partial).filter((k) => !STANDARD_KEYS.has(k));
      if (extra.length) f.extraKeys = extra;
    }
    (ex as unknown as Record<symbol, InFlight | undefined>)[this.slot] = f;
    this.inFlightCount++;
    if (this.listenerCount('update')) this.emit('update', { id: ex.id, stage: 'start', record: this.snapshot(f) });
  }

  /** The partial record so far (no bodies): request head, response head, chunk timings. */
  private snapshot(f: InFlight): CaptureRecord {
    const r: CaptureRecord = { ...f.partial, server: { ...f.ex.server }, timing: { ...f.ex.timing } };
    if (f.head) r.response = { status: f.head.status, statusText: f.head.statusText, httpVersion: f.head.httpVersion, headers: this.headers(f.head.headers), chunks: f.resChunks.slice() };
    return r;
  }

  private headers(h: HeaderList): HeaderList {
    return this.options.keepSecrets ? h : redactHeaders(h);
  }

  private onEnd(ex: Exchange, error: RecordError | null, end: ExchangeEnd): void {
    const f = this.stateOf(ex);
    if (!f) return;
    (ex as unknown as Record<symbol, InFlight | undefined>)[this.slot] = undefined;
    this.inFlightCount--;
    const warn = (e: Error): void => {
      process.emitWarning(`agenttap recorder: could not record ${ex.id}: ${e.message}`);
    };
    const reqBody = f.reqBody?.finishNow();
    const resBody = f.resBody?.finishNow();
    if (!(reqBody instanceof Promise) && !(resBody instanceof Promise)) {
      // No body to decode (the usual case): the record is built and emitted in this tick.
      try {
        this.finish(f, error, end, reqBody, resBody);
      } catch (e) {
        warn(e as Error);
      }
      return;
    }
    const p = Promise.all([reqBody, resBody])
      .then(([rq, rs]) => this.finish(f, error, end, rq, rs))
      .catch(warn);
    this.finishing.add(p);
    void p.finally(() => this.finishing.delete(p));
  }

  private finish(f: InFlight, error: RecordError | null, end: ExchangeEnd, reqBody: RecordBody | undefined, resBody: RecordBody | undefined): void {
    const { ex, partial } = f;
    const pr = partial.request!;
    const request: RecordRequest = { method: pr.method, url: pr.url, httpVersion: pr.httpVersion, headers: pr.headers };
    if (reqBody) request.body = reqBody;
    if (end.requestTrailers?.length) request.trailers = this.headers(end.requestTrailers);
    if (f.reqChunks && f.reqChunks.length > 1) request.chunks = f.reqChunks;
    // Built in one go, keys in DESIGN.md section 4's order, so lines read the same everywhere
    // (and the object keeps one fast shape for JSON.stringify).
    const record = { v: partial.v, id: partial.id, kind: partial.kind, mode: partial.mode, startedAt: partial.startedAt, client: partial.client, server: { ...ex.server }, request } as CaptureRecord; // error is set below, after the response
    if (f.extraKeys) for (const k of f.extraKeys) (record as unknown as Record<string, unknown>)[k] = (partial as unknown as Record<string, unknown>)[k];
    if (f.head) {
      const h = f.head;
      const response: RecordResponse = h.statusText !== undefined ? { status: h.status, statusText: h.statusText, httpVersion: h.httpVersion, headers: this.headers(h.headers) } : { status: h.status, httpVersion: h.httpVersion, headers: this.headers(h.headers) };
      if (end.trailers?.length) response.trailers = this.headers(end.trailers);
      if (resBody) response.body = resBody;
      response.chunks = f.resChunks;
      record.response = response;
    }
    record.timing = roundTiming(ex.timing);
    if (f.ws) record.ws = f.ws;
    if (end.wsClose) record.wsClose = end.wsClose;
    record.error = error;
    if (partial.labels) record.labels = partial.labels;
    if (partial.llm) record.llm = partial.llm;
    this.emitFinished(record);
  }

  private onTunnel(row: TunnelRow): void {
    const record: CaptureRecord = {
      v: RECORD_VERSION,
      id: row.id,
      kind: 'tunnel',
      mode: row.mode,
      startedAt: row.startedAt,
      client: row.client,
      server: row.server,
      tunnel: row.tunnel,
      error: row.error,
    };
    const labels = mergeLabels(this.options.labels, row.labels);
    if (Object.keys(labels).length) record.labels = labels;
    this.emitFinished(record);
  }

  private emitFinished(record: CaptureRecord): void {
    try {
      this.options.annotate?.(record, 'end');
    } catch {
      // keep the record
    }
    let tier: CaptureTier = 'full';
    try {
      tier = this.options.decide?.(record) ?? 'full';
    } catch {
      tier = 'full';
    }
    if (tier === 'drop') return;
    if (tier === 'metadata') stripBodies(record);
    this.count++;
    this.emit('record', record);
  }
}

/**
 * Both label sets in one object. Not `{ ...a, ...b }`: spreading two objects into a fresh one
 * makes V8 allocate a new hidden class each time (old-generation garbage on every exchange).
 */
function mergeLabels(a: Record<string, string> | undefined, b: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (a) for (const k in a) out[k] = a[k]!;
  if (b) for (const k in b) out[k] = b[k]!;
  return out;
}

/** The announced body length, when the head gives one plain number. */
function contentLength(headers: HeaderList): number | undefined {
  const v = headerValue(headers, 'content-length');
  return v !== undefined && /^\d{1,15}$/.test(v) ? Number(v) : undefined;
}

function roundTiming(t: Exchange['timing']): Exchange['timing'] {
  const out: Exchange['timing'] = {};
  for (const k of ['connectMs', 'tlsMs', 'ttfbMs', 'totalMs'] as const) if (t[k] !== undefined) out[k] = round(t[k]!);
  return out;
}

/** Metadata tier: sizes, headers and timing stay; contents go. */
export function stripBodies(record: CaptureRecord): void {
  for (const part of [record.request, record.response]) {
    if (!part?.body) continue;
    delete part.body.text;
    delete part.body.base64;
  }
  if (record.ws) for (const m of record.ws) {
    delete m.text;
    delete m.base64;
  }
}
