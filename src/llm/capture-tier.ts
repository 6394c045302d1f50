// Capture tiers for `--capture llm` (after the Oximy addon's whitelist): model calls are kept in
// full, other traffic to known AI providers as metadata only (headers, sizes, timing — no
// bodies), and everything else is dropped. `--capture all` (the default) keeps everything.
import type { CaptureRecord } from '../capture/record.js';
import { detect } from './detect.js';

export type CaptureTier = 'full' | 'metadata' | 'drop';
export type CaptureMode = 'all' | 'llm';

export const CAPTURE_MODES: readonly CaptureMode[] = ['all', 'llm'];

export function captureTier(record: CaptureRecord): CaptureTier {
  let kind: string;
  try {
    kind = detect(record).kind;
  } catch {
    return 'full'; // never lose a record because detection failed
  }
  if (kind === 'llm') return 'full';
  if (kind === 'app') return 'metadata';
  return 'drop';
}

/** The recorder's `decide` hook for a capture mode (undefined: keep everything). */
export function captureDecider(mode: CaptureMode): ((record: CaptureRecord) => CaptureTier) | undefined {
  return mode === 'llm' ? captureTier : undefined;
}

export function parseCaptureMode(value: string): CaptureMode {
  if ((CAPTURE_MODES as readonly string[]).includes(value)) return value as CaptureMode;
  throw new Error(`--capture must be one of ${CAPTURE_MODES.join(', ')}, got "${value}"`);
}
