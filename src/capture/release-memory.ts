// Keeps the capture proxy's memory flat. (1) Caps V8's young generation: under sustained load V8
// doubles it up to 32 MB, though the proxy's short-lived garbage needs a few MB.
// (2) Gives back the memory of big bodies once their line is on disk. A body's chunks and its line
// are Buffers outside the V8 heap, freed only when V8 collects the objects that hold them; V8
// collects for external memory only after ~64 MB more of it has piled up, and chunks held for a
// whole exchange have been promoted to the old generation by then. So a run of 10 MB bodies grows
// the proxy by tens of MB of dead Buffers. After enough big-body bytes we ask for one collection.
import v8 from 'node:v8';
import vm from 'node:vm';

/** Dead big-body bytes that justify a collection (a few ms on the proxy's small heap). */
const COLLECT_AFTER = 8 * 1024 * 1024;

type Collect = (options?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async' }) => unknown;

let collect: Collect | null | undefined;
let dead = 0;
let scheduled = false;

function collector(): Collect | null {
  if (collect !== undefined) return collect;
  try {
    const g = (globalThis as { gc?: Collect }).gc;
    if (typeof g === 'function') return (collect = g);
    // The documented way to reach V8's gc() without the --expose-gc command-line flag.
    v8.setFlagsFromString('--expose-gc');
    collect = vm.runInNewContext('gc') as Collect;
    v8.setFlagsFromString('--no-expose-gc');
  } catch {
    collect = null;
  }
  return collect;
}

/** Young generation (both semi-spaces) V8 may grow to in the proxy process before growth stops. */
const YOUNG_GENERATION_CAP = 8 * 1024 * 1024;
let capping = false;

/**
 * Lets the young generation grow to YOUNG_GENERATION_CAP, then stops its growth. Its maximum is
 * fixed when the process starts (--max-semi-space-size), but V8 reads the growth factor each time
 * it grows, and a factor of 1 means no more growth. Best effort: a V8 that ignores the flag
 * keeps its own sizing.
 */
export function capYoungGeneration(): void {
  if (capping) return;
  capping = true;
  // The user sized it (NODE_OPTIONS=--max-semi-space-size=N): theirs is the last word.
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  if (flags.some((f) => f.startsWith('--max-semi-space-size') || f.startsWith('--semi-space-growth-factor'))) return;
  const check = (): boolean => {
    const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    if (young && young.space_size < YOUNG_GENERATION_CAP) return false;
    try {
      v8.setFlagsFromString('--semi-space-growth-factor=1');
    } catch {
      // keep V8's sizing
    }
    return true;
  };
  if (check()) return;
  const timer = setInterval(() => {
    if (check()) clearInterval(timer);
  }, 250);
  timer.unref();
}

/** `bytes` of big-body Buffers just became garbage (their line was written). */
export function releaseBigBody(bytes: number): void {
  dead += bytes;
  if (dead < COLLECT_AFTER || scheduled) return;
  dead = 0;
  scheduled = true;
  // Outside the write callback, and asynchronous where V8 offers it: the proxy's work goes first.
  setImmediate(() => {
    scheduled = false;
    try {
      void collector()?.({ type: 'major', execution: 'async' });
    } catch {
      // no collection, no harm
    }
  });
}
