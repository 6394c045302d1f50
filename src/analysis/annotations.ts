// Annotations: a note per exchange, kept beside the capture in `<capture>.annotations.json` as
// `{ [exchangeId]: { note, at } }`, so the capture file itself stays append-only and untouched.
// Written by the inspector, read by reports.
import { readFile, rename, writeFile } from 'node:fs/promises';

export interface Annotation {
  note: string;
  /** ISO 8601 time of the last edit. */
  at: string;
}

export type Annotations = Record<string, Annotation>;

/** Exchange ids are UUIDs (v7 from our recorder, any version from imports). */
export const EXCHANGE_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export class AnnotationError extends Error {
  constructor(
    readonly code: 'bad-id' | 'too-long' | 'bad-file',
    message: string,
  ) {
    super(message);
    this.name = 'AnnotationError';
  }
}

const MAX_NOTE = 100_000;

export function annotationsPath(capture: string): string {
  return `${capture}.annotations.json`;
}

/** The annotations of a capture; none when the file does not exist. */
export async function readAnnotations(capture: string): Promise<Annotations> {
  let text: string;
  try {
    text = await readFile(annotationsPath(capture), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new AnnotationError('bad-file', `${annotationsPath(capture)}: malformed JSON (${(e as Error).message})`);
  }
  const out: Annotations = Object.create(null) as Annotations;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return out;
  for (const [id, a] of Object.entries(value as Record<string, unknown>)) {
    const note = (a as { note?: unknown } | null)?.note;
    const at = (a as { at?: unknown } | null)?.at;
    if (EXCHANGE_ID_PATTERN.test(id) && typeof note === 'string') out[id] = { note, at: typeof at === 'string' ? at : '' };
  }
  return out;
}

/**
 * Sets (or, with an empty note, removes) the note of one exchange. The file is rewritten via a
 * temporary file and a rename, so a crash never leaves half a file.
 */
export async function writeAnnotation(capture: string, id: string, note: string, now = new Date()): Promise<Annotations> {
  if (!EXCHANGE_ID_PATTERN.test(id)) throw new AnnotationError('bad-id', `not an exchange id: ${JSON.stringify(id.slice(0, 80))}`);
  if (note.length > MAX_NOTE) throw new AnnotationError('too-long', `a note holds at most ${MAX_NOTE} characters`);
  const all = await readAnnotations(capture);
  if (note.trim() === '') delete all[id];
  else all[id] = { note, at: now.toISOString() };
  const path = annotationsPath(capture);
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, JSON.stringify(all, null, 2) + '\n');
  await rename(tmp, path);
  return all;
}
