// A pass over a capture on several threads: worker threads (scan-worker.ts) each take byte
// ranges of the file in turn and prepare their records (parse, LLM facts, summary, grouping
// facts, the state-free part of the report view); the main thread takes the ranges' results in
// file order and does what depends on order — session grouping, the report's numbering and
// "new since the previous turn" messages, bad-line numbers — so the output is the same as the
// one-thread pass (scan.ts). Records a worker cannot fully prepare (Responses-API chains, a view
// whose conversation began in an earlier range) are read again by offset and done here.
import { closeSync, openSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { BadLine } from '../capture/reader.js';
import { installedPricingFiles } from '../llm/pricing.js';
import { installedRegistryFiles } from '../llm/registry.js';
import { recordAt } from './chunk-reader.js';
import { sessionHints, summarizeExchange, type ExchangeSummary, type SessionHints } from './exchange-summary.js';
import { payloadKeysOf, type PayloadKeys } from './http-overview.js';
import { createLlmReader } from './llm-layer.js';
import type { PreparedItem } from './prepare.js';
import { createProgress } from './progress.js';
import { prepareView, type ExchangeView, type ViewContext } from './report-view.js';
import { EmptyCaptureError, reportBadLine, type ScanOptions, type ScanResult } from './scan.js';
import type { RangeResult, RangeTask, WorkerSetup } from './scan-worker.js';
import { factsFromPlain, MissingTurnHash, SessionTracker, turnFactsOf, type Assignment } from './sessions.js';

export interface ParallelItem {
  line: number;
  offset: number;
  summary: ExchangeSummary;
  hints: SessionHints;
  assignment: Assignment;
  /** With `views`: the payload keys and the finished view. */
  keys?: PayloadKeys;
  view?: ExchangeView;
}

export interface ParallelScanOptions extends Omit<ScanOptions, 'onItem'> {
  onItem?(item: ParallelItem): void | Promise<void>;
  /** Report views, finished in file order on this context. */
  views?: ViewContext;
  /** Message row texts are cut to this many characters (what the renderer reads). */
  rowTextChars?: number;
  workers?: number;
  /** Nominal bytes per range handed to a worker. */
  rangeBytes?: number;
}

const DEFAULT_RANGE = 1 << 20;
/** A worker's garbage is per record: a small young generation keeps its memory down at no measurable cost. */
const WORKER_YOUNG_MB = 24;

/** Worker threads worth starting for a file of this size: none for small files, or with AGENTTAP_WORKERS=0. */
export function workersFor(bytes: number): number {
  const env = process.env.AGENTTAP_WORKERS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    return Number.isInteger(n) && n >= 0 ? Math.min(n, 16) : 0;
  }
  const cores = availableParallelism();
  if (cores < 2 || bytes < 24 << 20) return 0;
  return Math.min(4, Math.max(2, cores - 1));
}

export async function scanParallel(file: string, options: ParallelScanOptions = {}): Promise<ScanResult> {
  const bytes = (await stat(file)).size;
  if (bytes === 0) throw new EmptyCaptureError(`${file} is empty: no records to analyse`);
  const rangeBytes = Math.max(1, options.rangeBytes ?? DEFAULT_RANGE);
  const ranges = Math.ceil(bytes / rangeBytes);
  const workerCount = Math.max(1, Math.min(options.workers ?? 2, ranges));
  const sessions = options.sessions !== false;
  const requests = options.requests !== false;
  const views = options.views;
  const tracker = new SessionTracker({ gapSeconds: options.gapSeconds });
  const progress = options.progress ? createProgress(options.progress, bytes) : undefined;
  // The main thread's own LLM reader: deferred exchanges and redone views, in file order (chains resolve).
  const llmFacts = createLlmReader({ requests });
  const setup: WorkerSetup = { file, requests, sessions, report: !!views, rowTextChars: options.rowTextChars, registryFiles: installedRegistryFiles(), pricingFiles: installedPricingFiles() };
  const fd = openSync(file, 'r');
  const pool = new Map<string, string>();
  const workers: Worker[] = [];
  let failure: Error | undefined;
  const done = new Map<number, RangeResult>();
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  let next = 0;
  const busy = new Map<Worker, number>();
  const maxAhead = workerCount * 3;
  let consumed = 0;
  const dispatch = () => {
    for (const w of workers) {
      while ((busy.get(w) ?? 0) < 2 && next < ranges && next - consumed < maxAhead) {
        const task: RangeTask = { index: next, start: next * rangeBytes, end: Math.min(bytes, (next + 1) * rangeBytes) };
        next++;
        busy.set(w, (busy.get(w) ?? 0) + 1);
        w.postMessage(task);
      }
    }
  };
  let records = 0;
  let badLines = 0;
  const onBad = (bad: BadLine) => {
    badLines++;
    reportBadLine(bad, options.onBadLine);
  };
  try {
    for (let i = 0; i < workerCount; i++) {
      const w = new Worker(new URL('./scan-worker.js', import.meta.url), { workerData: setup, resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_MB } });
      w.on('message', (r: RangeResult) => {
        busy.set(w, (busy.get(w) ?? 1) - 1);
        done.set(r.index, r);
        notify();
      });
      w.on('error', (e) => {
        failure ??= e;
        notify();
      });
      w.on('exit', (code) => {
        if (code !== 0 && next > consumed) failure ??= new Error(`analysis worker exited with code ${code}`);
        notify();
      });
      workers.push(w);
    }
    dispatch();
    let linesBefore = 0;
    let bytesDone = 0;
    while (consumed < ranges) {
      const r = done.get(consumed);
      if (!r) {
        if (failure) throw failure;
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      done.delete(consumed);
      consumed++;
      dispatch();
      for (const b of r.bad) onBad({ file, line: linesBefore + b.line, reason: b.reason });
      for (const p of r.items) {
        records++;
        if (typeof p.keys === 'number') p.keys = r.items[p.keys]!.keys;
        const item = finishItem(p, linesBefore);
        if (options.onItem) await options.onItem(item);
      }
      linesBefore += r.lines;
      bytesDone = Math.max(bytesDone, r.stop);
      progress?.update(bytesDone, records);
    }
  } finally {
    for (const w of workers) void w.terminate();
    closeSync(fd);
  }
  progress?.done();
  if (records === 0) {
    throw new EmptyCaptureError(badLines > 0 ? `${file} has no valid records (${badLines} bad line${badLines === 1 ? '' : 's'})` : `${file} is empty: no records to analyse`);
  }
  return { tracker, records, badLines, bytes };

  // Strings that repeat on every record (host, path, model…) arrive as fresh copies from a worker;
  // the session data keeps them for the whole pass, so one copy of each is kept.
  function intern(v: string): string {
    const hit = pool.get(v);
    if (hit !== undefined) return hit;
    if (pool.size < 20_000) pool.set(v, v);
    return v;
  }

  function internSummary(s: ExchangeSummary): void {
    s.host = intern(s.host);
    s.path = intern(s.path);
    s.method = intern(s.method);
    s.client = intern(s.client);
    s.clientKey = intern(s.clientKey);
    const l = s.llm;
    if (l) {
      if (l.model !== undefined) l.model = intern(l.model);
      if (l.provider !== undefined) l.provider = intern(l.provider);
      if (l.api !== undefined) l.api = intern(l.api);
      if (l.agent !== undefined) l.agent = intern(l.agent);
      for (let i = 0; i < l.toolCalls.length; i++) l.toolCalls[i] = intern(l.toolCalls[i]!);
    }
  }

  function reread(p: PreparedItem, line: number) {
    const record = recordAt(fd, p.offset, p.length, line === 1);
    if (!record) throw new Error(`${file}:${line}: record changed while it was read`);
    return record;
  }

  function finishItem(p: PreparedItem, linesBefore: number): ParallelItem {
    const line = linesBefore + p.line;
    if (p.deferred) {
      // All of it here, as the one-thread pass does.
      const record = reread(p, line);
      const { exchange, detection } = llmFacts(record);
      const summary = summarizeExchange(record, exchange, detection);
      const hints = sessions ? sessionHints(record) : {};
      const assignment = sessions ? tracker.add(summary, hints, exchange ? turnFactsOf(exchange) : undefined) : {};
      const item: ParallelItem = { line, offset: p.offset, summary, hints, assignment };
      if (views) {
        item.keys = payloadKeysOf(record);
        item.view = views.view({ record, line, offset: p.offset, summary, hints, exchange, assignment });
      }
      return item;
    }
    const summary = p.summary!;
    internSummary(summary);
    const hints = p.hints ?? {};
    if (hints.user !== undefined) hints.user = intern(hints.user);
    let assignment: Assignment = {};
    if (sessions) {
      try {
        assignment = tracker.add(summary, hints, p.facts ? factsFromPlain(p.facts) : undefined);
      } catch (e) {
        if (!(e instanceof MissingTurnHash)) throw e;
        // The conversation to match began in an earlier range at a turn the worker did not hash
        // (the tracker changed nothing before asking): hash from the record itself.
        const { exchange } = llmFacts(reread(p, line));
        assignment = tracker.add(summary, hints, turnFactsOf(exchange!));
      }
    }
    const item: ParallelItem = { line, offset: p.offset, summary, hints, assignment };
    if (views) {
      item.keys = p.keys as PayloadKeys;
      let view = views.finish(p.view!, assignment);
      if (!view) {
        // The conversation showed fewer messages than the worker could see: prepare the view again here.
        const record = reread(p, line);
        const { exchange } = llmFacts(record);
        const from = exchange ? views.messagesFrom(record.id, assignment, exchange.request.turns.length) : 0;
        view = views.finish(prepareView({ record, summary, exchange }, from, (key) => views.needsSystemText(key), options.rowTextChars), assignment)!;
      }
      item.view = view;
    }
    return item;
  }
}
