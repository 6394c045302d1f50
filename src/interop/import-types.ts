// What every importer shares: the formats we know, and how an importer reports trouble.
import type { CaptureRecord } from '../capture/record.js';

export const IMPORT_FORMATS = ['har', 'llm-tracer', 'probe', 'oximy', 'claude-trace'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

export const IMPORT_FORMAT_HELP: Record<ImportFormat, string> = {
  har: 'HAR 1.2 (browser DevTools, Charles, Insomnia, mitmproxy, agenttap export)',
  'llm-tracer': "the LLM Network Tracer's llm_traces.jsonl (mitmproxy addon)",
  probe: "agent-system-dissect traffic probe's traffic.jsonl",
  oximy: 'Oximy OISP events (traces_YYYY-MM-DD.jsonl)',
  'claude-trace': 'claude-trace logs (.claude-trace/*.jsonl)',
};

export interface ImportContext {
  /** Report a problem with one entry; the entry is still imported when possible. */
  warn(message: string): void;
  keepSecrets?: boolean;
  /** HAR only: the log's creator, kept in labels. */
  creator?: string;
}

/** Converts one parsed JSONL entry; undefined when the entry carries no exchange (metadata lines). */
export type EntryImporter = (entry: Record<string, unknown>, ctx: ImportContext) => CaptureRecord | undefined;

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

export function num(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return undefined;
}
