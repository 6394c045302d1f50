// A context key groups exchanges that share a system prompt (one agent persona / task): the first
// 12 hex digits of its SHA-256.
import { createHash } from 'node:crypto';

export function contextKey(system: string): string {
  return createHash('sha256').update(system, 'utf8').digest('hex').slice(0, 12);
}
