// `agenttap report`: one streaming pass over the capture collects the overview, sessions and
// stats, and renders each exchange's log entry as a fragment (kept in memory up to a budget,
// spilled to a temporary file beyond); the report is then assembled (header and tables first,
// then the log grouped by session and conversation). Memory never holds records.
import { once } from 'node:events';
import type { BadLine } from '../capture/reader.js';
import { statSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { readAnnotations } from './annotations.js';
import { FragmentStore } from './fragment-store.js';
import { HttpOverview } from './http-overview.js';
import type { ExchangeSummary } from './exchange-summary.js';
import type { ExchangeView } from './report-view.js';
import { ViewContext } from './report-view.js';
import { scanParallel, workersFor } from './parallel-scan.js';
import { scanCapture, type ScanResult } from './scan.js';
import type { Assignment, Conversation, Session } from './sessions.js';
import { groupKey, StatsAccumulator, type StatsRow } from './stats.js';

export interface ReportData {
  file: string;
  generatedAt: string;
  overview: HttpOverview;
  sessions: Session[];
  byModel: StatsRow[];
  bySession: StatsRow[];
  records: number;
  badLines: number;
  /** Exchanges that are not conversation turns (other traffic, count_tokens). */
  others: number;
  annotations: number;
}

export interface ReportRenderer {
  exchange(view: ExchangeView): string;
  /** Characters of a message row's text the renderer reads at most (rows are cut to it before they cross threads). */
  readonly messageTextChars?: number;
  head(data: ReportData): string;
  sessionStart(session: Session, index: number): string;
  sessionEnd(): string;
  conversationStart(conversation: Conversation, session: Session): string;
  conversationEnd(): string;
  othersStart(count: number): string;
  othersEnd(): string;
  tail(data: ReportData): string;
}

export interface ReportOptions {
  gapSeconds?: number;
  progress?: string;
  onWarning?(message: string): void;
  /** Rendered log kept in memory up to this many characters, then spilled to a temp file. */
  memoryBudgetChars?: number;
  /** Called for each bad line (default: `FILE:LINE: reason` on stderr). */
  onBadLine?(bad: BadLine): void;
  /** Worker threads (0: all on this thread); default by file size and cores (parallel-scan.ts). */
  workers?: number;
  /** Bytes per range a worker takes (tests use small ones to cross many range boundaries). */
  rangeBytes?: number;
}

export async function writeReport(file: string, renderer: ReportRenderer, out: Writable, options: ReportOptions = {}): Promise<ReportData> {
  const annotations = readAnnotations(file, options.onWarning);
  const fragments = new FragmentStore(options.memoryBudgetChars);
  const others: string[] = [];
  const overview = new HttpOverview();
  const byModel = new StatsAccumulator();
  const bySession = new StatsAccumulator();
  const views = new ViewContext(annotations);
  const take = async (summary: ExchangeSummary, assignment: Assignment, view: ExchangeView) => {
    if (summary.llm) byModel.add(summary, groupKey(summary, 'model'));
    if (assignment.session) bySession.add(summary, assignment.session);
    if (!assignment.conversation) others.push(summary.id);
    await fragments.add(summary.id, renderer.exchange(view));
  };
  try {
    const workers = options.workers ?? workersFor(statSync(file).size);
    let scan: ScanResult;
    if (workers > 0) {
      scan = await scanParallel(file, {
        gapSeconds: options.gapSeconds,
        progress: options.progress,
        views,
        workers,
        onBadLine: options.onBadLine,
        rangeBytes: options.rangeBytes,
        rowTextChars: renderer.messageTextChars,
        onItem: async ({ summary, assignment, keys, view }) => {
          overview.addSummary(summary, keys!);
          await take(summary, assignment, view!);
        },
      });
    } else {
      scan = await scanCapture(file, {
        gapSeconds: options.gapSeconds,
        onBadLine: options.onBadLine,
        progress: options.progress,
        onItem: async (item) => {
          overview.add(item.record, item.summary);
          await take(item.summary, item.assignment, views.view(item));
        },
      });
    }
    await fragments.seal();
    const data: ReportData = {
      file,
      generatedAt: new Date().toISOString(),
      overview,
      sessions: scan.tracker.result(),
      byModel: byModel.rows(),
      bySession: bySession.rows(),
      records: scan.records,
      badLines: scan.badLines,
      others: others.length,
      annotations: Object.keys(annotations).length,
    };
    // The log in session → conversation → turn order, then the other exchanges; generated as it
    // is written, so no list of the whole report is built.
    function* parts(): Generator<string | { text: string }> {
      yield { text: renderer.head(data) };
      for (let i = 0; i < data.sessions.length; i++) {
        const s = data.sessions[i]!;
        yield { text: renderer.sessionStart(s, i) };
        for (const c of s.conversations) {
          yield { text: renderer.conversationStart(c, s) };
          for (const t of c.turns) yield t.exchangeId;
          yield { text: renderer.conversationEnd() };
        }
        yield { text: renderer.sessionEnd() };
      }
      if (others.length) {
        yield { text: renderer.othersStart(others.length) };
        for (const id of others) yield id;
        yield { text: renderer.othersEnd() };
      }
      yield { text: renderer.tail(data) };
    }
    const BATCH = 4096;
    let slice: (string | { text: string })[] = [];
    const flush = async () => {
      const got = await fragments.get(slice.filter((x): x is string => typeof x === 'string'));
      let k = 0;
      let chunk = '';
      let ok = true;
      for (const item of slice) {
        const part = typeof item === 'string' ? got[k++]! : item.text;
        if (typeof part === 'string') chunk += part;
        else {
          if (chunk) ok = out.write(chunk) && ok;
          chunk = '';
          ok = out.write(part) && ok;
        }
      }
      if (chunk) ok = out.write(chunk) && ok;
      slice = [];
      if (!ok) await once(out, 'drain');
    };
    for (const part of parts()) {
      slice.push(part);
      if (slice.length >= BATCH) await flush();
    }
    await flush();
    return data;
  } finally {
    await fragments.close();
  }
}
