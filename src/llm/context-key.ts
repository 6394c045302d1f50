// A context key groups exchanges that share a system prompt (one agent persona / task): the first
// 12 hex digits of its SHA-256.
import { createHash } from 'node:crypto';

// Agents resend the same system prompt on every call: remember recent keys. Looked up by length,
// then by comparing the strings: a Map keyed by the prompt itself would hash every freshly parsed
// 10 KB prompt (~14 µs) where a comparison with the one remembered prompt of that length is ~1 µs.
const MAX_RECENT = 256;
const byLength = new Map<number, [system: string, key: string][]>();
let remembered = 0;

export function contextKey(system: string): string {
  const same = byLength.get(system.length);
  if (same) for (const [text, key] of same) if (text === system) return key;
  const key = createHash('sha256').update(system, 'utf8').digest('hex').slice(0, 12);
  if (remembered >= MAX_RECENT) {
    // Forget the oldest length's prompts (Map order is insertion order).
    const [oldest, list] = byLength.entries().next().value as [number, [string, string][]];
    byLength.delete(oldest);
    remembered -= list.length;
  }
  if (same && byLength.has(system.length)) same.push([system, key]);
  else byLength.set(system.length, [[system, key]]);
  remembered++;
  return key;
}
