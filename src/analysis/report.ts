// `agenttap report`: one streaming pass over the capture collects the overview, sessions and
// stats, and renders each exchange's log entry into a temporary fragments file; the report is
// then assembled (header and tables first, then the log grouped by session and conversation)
// by copying fragments. Memory holds summaries and fragment offsets, never records.
import { createWriteStream } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { readAnnotations } from './annotations.js';
import { HttpOverview } from './http-overview.js';
import type { ExchangeView } from './report-view.js';
import { ViewContext } from './report-view.js';
import { scanCapture } from './scan.js';
import type { Conversation, Session } from './sessions.js';
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
}

export async function writeReport(file: string, renderer: ReportRenderer, out: Writable, options: ReportOptions = {}): Promise<ReportData> {
  const annotations = readAnnotations(file, options.onWarning);
  const dir = await mkdtemp(join(tmpdir(), 'agenttap-report-'));
  const fragmentsPath = join(dir, 'fragments');
  const fragments = createWriteStream(fragmentsPath, { highWaterMark: 1 << 20 });
  const index = new Map<string, [number, number]>();
  const others: string[] = [];
  let written = 0;
  const overview = new HttpOverview();
  const byModel = new StatsAccumulator();
  const bySession = new StatsAccumulator();
  const views = new ViewContext(annotations);
  try {
    const scan = await scanCapture(file, {
      gapSeconds: options.gapSeconds,
      progress: options.progress,
      onItem: async (item) => {
        const { record, summary, assignment } = item;
        overview.add(record, summary);
        if (summary.llm) byModel.add(summary, groupKey(summary, 'model'));
        if (assignment.session) bySession.add(summary, assignment.session);
        const text = renderer.exchange(views.view(item));
        const bytes = Buffer.byteLength(text);
        index.set(record.id, [written, bytes]);
        written += bytes;
        if (!assignment.conversation) others.push(record.id);
        if (!fragments.write(text)) await once(fragments, 'drain');
      },
    });
    fragments.end();
    await once(fragments, 'finish');
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
    // The log in session → conversation → turn order, then the other exchanges.
    const order: (string | { text: string })[] = [{ text: renderer.head(data) }];
    for (let i = 0; i < data.sessions.length; i++) {
      const s = data.sessions[i]!;
      order.push({ text: renderer.sessionStart(s, i) });
      for (const c of s.conversations) {
        order.push({ text: renderer.conversationStart(c, s) });
        for (const t of c.turns) order.push(t.exchangeId);
        order.push({ text: renderer.conversationEnd() });
      }
      order.push({ text: renderer.sessionEnd() });
    }
    if (others.length) {
      order.push({ text: renderer.othersStart(others.length) });
      for (const id of others) order.push(id);
      order.push({ text: renderer.othersEnd() });
    }
    order.push({ text: renderer.tail(data) });
    const handle = await open(fragmentsPath, 'r');
    try {
      // Fragments are read in parallel batches and written in order, one write per batch.
      const BATCH = 256;
      for (let i = 0; i < order.length; i += BATCH) {
        const parts = await Promise.all(
          order.slice(i, i + BATCH).map(async (item) => {
            if (typeof item !== 'string') return Buffer.from(item.text);
            const at = index.get(item);
            if (!at) return Buffer.alloc(0);
            const buf = Buffer.allocUnsafe(at[1]);
            await handle.read(buf, 0, at[1], at[0]);
            return buf;
          }),
        );
        if (!out.write(Buffer.concat(parts))) await once(out, 'drain');
      }
    } finally {
      await handle.close();
    }
    return data;
  } finally {
    fragments.destroy();
    await rm(dir, { recursive: true, force: true });
  }
}
