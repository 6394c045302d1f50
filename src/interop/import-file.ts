// `agenttap import`: recognizes another tool's capture file and converts it entry by entry to
// record v1. JSONL formats are streamed (a bad line is reported with its number and skipped);
// HAR is one JSON document and is read whole.
import { createReadStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import type { CaptureRecord } from '../capture/record.js';
import { readLines } from '../capture/reader.js';
import { claudeTraceEntryToRecord } from './claude-trace-import.js';
import { harEntries, harEntryToRecord } from './har-import.js';
import { llmTracerEntryToRecord } from './llm-tracer-import.js';
import { oximyEntryToRecord } from './oximy-import.js';
import { probeEntryToRecord } from './probe-import.js';
import { IMPORT_FORMATS, isObject, type EntryImporter, type ImportFormat } from './import-types.js';

export class ImportError extends Error {
  constructor(
    message: string,
    readonly code: 'empty-file' | 'unknown-format' | 'not-har' | 'already-record-v1' | 'bad-json',
  ) {
    super(message);
    this.name = 'ImportError';
  }
}

const JSONL_IMPORTERS: Record<Exclude<ImportFormat, 'har'>, EntryImporter> = {
  'llm-tracer': llmTracerEntryToRecord,
  probe: probeEntryToRecord,
  oximy: oximyEntryToRecord,
  'claude-trace': claudeTraceEntryToRecord,
};

/** Which known format one parsed JSONL entry looks like. */
export function classifyEntry(entry: Record<string, unknown>): ImportFormat | 'record-v1' | undefined {
  if (entry.v === 1 && typeof entry.kind === 'string' && typeof entry.id === 'string') return 'record-v1';
  if (isObject(entry.log)) return 'har';
  if ('event_id' in entry || 'trace_level' in entry || 'interaction' in entry || 'oisp_version' in entry) return 'oximy';
  if (entry.type === 'session_start' && 'session_id' in entry) return 'oximy';
  if (isObject(entry.connection) && 'match_attempt' in entry) return 'oximy';
  if ('flow_id' in entry || 'client_conn' in entry || 'server_conn' in entry) return 'llm-tracer';
  const req = isObject(entry.request) ? entry.request : undefined;
  if (!req) return undefined;
  if ('logged_at' in entry || 'latency' in entry || 'timestamp' in req) return 'claude-trace';
  if ('timestamp' in entry && typeof req.url === 'string') return 'probe';
  return undefined;
}

function describeKnown(): string {
  return IMPORT_FORMATS.join(', ');
}

/** Reads the start of the file and names its format. */
export async function detectImportFormat(file: string): Promise<ImportFormat> {
  const handle = await open(file, 'r');
  let head: string;
  try {
    const buf = Buffer.alloc(1 << 18);
    const { bytesRead } = await handle.read(buf, 0, buf.length, 0);
    head = buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
  if (head.charCodeAt(0) === 0xfeff) head = head.slice(1);
  const trimmed = head.trimStart();
  if (trimmed === '') throw new ImportError(`${file} is empty: nothing to import`, 'empty-file');
  const firstLine = trimmed.split('\n', 1)[0]!.trim();
  let first: unknown;
  try {
    first = JSON.parse(firstLine);
  } catch {
    // A pretty-printed JSON document: HAR is the only multi-line format we know.
    if (trimmed.startsWith('{') && /"log"\s*:/.test(trimmed)) return 'har';
    throw new ImportError(`cannot tell the format of ${file} (the first line is not JSON); pass --from with one of: ${describeKnown()}`, 'unknown-format');
  }
  const kind = isObject(first) ? classifyEntry(first) : undefined;
  if (kind === 'record-v1') throw new ImportError(`${file} is already an agenttap capture (record v1): use it directly`, 'already-record-v1');
  if (!kind) throw new ImportError(`cannot tell the format of ${file}; pass --from with one of: ${describeKnown()}`, 'unknown-format');
  return kind;
}

export interface ImportOptions {
  from?: ImportFormat | 'auto';
  keepSecrets?: boolean;
  onRecord(record: CaptureRecord): void | Promise<void>;
  /** `FILE:LINE: message` (JSONL) or `FILE: entry N: message` (HAR). */
  onWarning(message: string): void;
  onProgress?(bytesRead: number, records: number): void;
}

export interface ImportSummary {
  format: ImportFormat;
  entries: number;
  imported: number;
  skipped: number;
  warnings: number;
}

export function parseImportFormat(value: string): ImportFormat | 'auto' {
  if (value === 'auto' || (IMPORT_FORMATS as readonly string[]).includes(value)) return value as ImportFormat | 'auto';
  throw new ImportError(`unknown import format "${value}"; known formats: auto, ${describeKnown()}`, 'unknown-format');
}

export async function importFile(file: string, options: ImportOptions): Promise<ImportSummary> {
  const size = (await stat(file)).size;
  if (size === 0) throw new ImportError(`${file} is empty: nothing to import`, 'empty-file');
  const format = !options.from || options.from === 'auto' ? await detectImportFormat(file) : options.from;
  const summary: ImportSummary = { format, entries: 0, imported: 0, skipped: 0, warnings: 0 };
  const warn = (msg: string) => {
    summary.warnings++;
    options.onWarning(msg);
  };
  if (format === 'har') {
    let text = await readFile(file, 'utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.trim() === '') throw new ImportError(`${file} is empty: nothing to import`, 'empty-file');
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (e) {
      throw new ImportError(`${file} is not valid JSON (${(e as Error).message}); a HAR file is one JSON document`, 'bad-json');
    }
    const found = harEntries(doc);
    if ('problem' in found) throw new ImportError(`${file}: ${found.problem}`, 'not-har');
    if (found.entries.length === 0) warn(`${file}: the HAR file has no entries`);
    for (let i = 0; i < found.entries.length; i++) {
      summary.entries++;
      const record = harEntryToRecord(found.entries[i], i, { warn: (m) => warn(`${file}: ${m}`), keepSecrets: options.keepSecrets, creator: found.creator });
      await options.onRecord(record);
      summary.imported++;
      options.onProgress?.(size, summary.imported);
    }
    return summary;
  }
  const convert = JSONL_IMPORTERS[format];
  let line = 0;
  for await (const { bytes, offset, complete } of readLines(createReadStream(file, { highWaterMark: 1 << 20 }))) {
    line++;
    let text = bytes.toString('utf8');
    if (line === 1 && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    if (text.trim() === '') continue;
    summary.entries++;
    const at = `${file}:${line}`;
    let entry: unknown;
    try {
      entry = JSON.parse(text);
    } catch (e) {
      warn(`${at}: ${complete ? 'malformed JSON' : 'torn last line'} (${(e as Error).message}); skipped`);
      summary.skipped++;
      continue;
    }
    if (!isObject(entry)) {
      warn(`${at}: not a JSON object; skipped`);
      summary.skipped++;
      continue;
    }
    const record = convert(entry, { warn: (m) => warn(`${at}: ${m}`), keepSecrets: options.keepSecrets });
    if (!record) {
      summary.skipped++;
      continue;
    }
    await options.onRecord(record);
    summary.imported++;
    options.onProgress?.(offset + bytes.length, summary.imported);
  }
  if (summary.entries === 0) throw new ImportError(`${file} has no entries: nothing to import`, 'empty-file');
  return summary;
}
