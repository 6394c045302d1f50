// One streaming pass over a capture: each record is parsed once, summarized (with LLM facts),
// given its session and conversation, handed to the caller, and dropped.
import { stat } from 'node:fs/promises';
import type { CaptureRecord } from '../capture/record.js';
import { readRecords, type BadLine } from '../capture/reader.js';
import type { LlmExchange } from '../llm/types.js';
import { sessionHints, summarizeExchange, type ExchangeSummary, type SessionHints } from './exchange-summary.js';
import { createLlmReader } from './llm-layer.js';
import { createProgress } from './progress.js';
import { SessionTracker, turnFactsOf, type Assignment } from './sessions.js';

export interface ScanItem {
  record: CaptureRecord;
  line: number;
  offset: number;
  summary: ExchangeSummary;
  hints: SessionHints;
  exchange?: LlmExchange;
  assignment: Assignment;
}

export interface ScanOptions {
  gapSeconds?: number;
  /** Called per record, in file order. The record must not be kept. */
  onItem?(item: ScanItem): void | Promise<void>;
  onBadLine?(bad: BadLine): void;
  /** Parse requests (default true); stats by model/provider/agent/host need only responses. */
  requests?: boolean;
  /** Group into sessions (default true); stats by model/host do without. */
  sessions?: boolean;
  /** Label for the TTY progress line; none when omitted. */
  progress?: string;
}

export interface ScanResult {
  tracker: SessionTracker;
  records: number;
  badLines: number;
  bytes: number;
}

export class EmptyCaptureError extends Error {
  readonly code = 'empty-capture';
}

/** A bad capture line goes to the caller's handler, or to stderr with its file and line number. */
export function reportBadLine(bad: BadLine, onBadLine?: (bad: BadLine) => void): void {
  if (onBadLine) onBadLine(bad);
  else process.stderr.write(`${bad.file}:${bad.line}: ${bad.reason}\n`);
}

export async function scanCapture(file: string, options: ScanOptions = {}): Promise<ScanResult> {
  const bytes = (await stat(file)).size;
  if (bytes === 0) throw new EmptyCaptureError(`${file} is empty: no records to analyse`);
  const llmFacts = createLlmReader({ requests: options.requests });
  const tracker = new SessionTracker({ gapSeconds: options.gapSeconds });
  const progress = options.progress ? createProgress(options.progress, bytes) : undefined;
  let records = 0;
  let badLines = 0;
  const onBad = (bad: BadLine) => {
    badLines++;
    reportBadLine(bad, options.onBadLine);
  };
  for await (const { record, line, offset } of readRecords(file, { onBadLine: onBad, onProgress: progress ? (b) => progress.update(b, records) : undefined })) {
    records++;
    const { exchange, detection } = llmFacts(record);
    const summary = summarizeExchange(record, exchange, detection);
    // Hints read the request body: only grouping needs them.
    const hints = options.sessions === false ? {} : sessionHints(record);
    const assignment = options.sessions === false ? {} : tracker.add(summary, hints, exchange ? turnFactsOf(exchange) : undefined);
    if (options.onItem) await options.onItem({ record, line, offset, summary, hints, exchange, assignment });
  }
  progress?.done();
  if (records === 0) {
    throw new EmptyCaptureError(badLines > 0 ? `${file} has no valid records (${badLines} bad line${badLines === 1 ? '' : 's'})` : `${file} is empty: no records to analyse`);
  }
  return { tracker, records, badLines, bytes };
}
