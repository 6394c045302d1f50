// A context key groups exchanges that share a system prompt (one agent persona / task): the first
// 12 hex digits of its SHA-256.
import { createHash } from 'node:crypto';

// Agents resend the same system prompt on every call: remember recent keys.
const recent = new Map<string, string>();

export function contextKey(system: string): string {
  const hit = recent.get(system);
  if (hit) return hit;
  const key = createHash('sha256').update(system, 'utf8').digest('hex').slice(0, 12);
  if (recent.size >= 256) recent.delete(recent.keys().next().value as string);
  recent.set(system, key);
  return key;
}
