// Notes a user attaches to exchanges (in the inspector), saved beside the capture as
// `<capture>.annotations.json`: `{ [exchangeId]: { note, at } }`, so the capture itself stays
// append-only. Written by the inspector, read by reports.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

export interface Annotation {
  note: string;
  /** ISO time the note was written. */
  at: string;
}

export type Annotations = Record<string, Annotation>;

export function annotationsPath(captureFile: string): string {
  return `${captureFile}.annotations.json`;
}

/** The notes of a capture; an absent or unreadable file means no notes (a warning goes to `onProblem`). */
export function readAnnotations(captureFile: string, onProblem?: (message: string) => void): Annotations {
  const path = annotationsPath(captureFile);
  if (!existsSync(path)) return {};
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not a JSON object');
    const out: Annotations = {};
    for (const [id, a] of Object.entries(value as Record<string, unknown>)) {
      if (a && typeof a === 'object' && typeof (a as Annotation).note === 'string') {
        out[id] = { note: (a as Annotation).note, at: typeof (a as Annotation).at === 'string' ? (a as Annotation).at : '' };
      }
    }
    return out;
  } catch (e) {
    onProblem?.(`${path}: ignored (${(e as Error).message})`);
    return {};
  }
}

/** Sets (or with an empty note, removes) one exchange's note; the file is replaced atomically (temp file + rename). */
export function writeAnnotation(captureFile: string, exchangeId: string, note: string, at = new Date().toISOString()): Annotations {
  const all = readAnnotations(captureFile);
  if (note.trim() === '') delete all[exchangeId];
  else all[exchangeId] = { note, at };
  const path = annotationsPath(captureFile);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(all, null, 2)}\n`);
  renameSync(tmp, path);
  return all;
}
