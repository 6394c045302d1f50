// Reverse mode: each upstream of the target gets a plain-HTTP loopback listener, and the agent's
// base-URL variables (or arguments) point at those listeners. No CA trust is involved.
import type { Target } from './types.js';

/** Variables to set, given upstream id → listener base URL ("http://127.0.0.1:9001"). */
export function reverseEnv(target: Target, listeners: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = { ...(target.env ?? {}) };
  for (const up of target.upstreams) {
    const base = listeners[up.id];
    if (!base) continue;
    for (const [name, suffix] of Object.entries(up.baseUrlEnv)) env[name] = `${base.replace(/\/$/, '')}${suffix}`;
  }
  return env;
}

/** The target's reverse-mode arguments with `{id}` replaced by the listener URLs. */
export function reverseArgs(target: Target, listeners: Record<string, string>): string[] {
  return (target.reverseArgs ?? []).map((a) => a.replace(/\{([a-z0-9-]+)\}/g, (m, id: string) => listeners[id]?.replace(/\/$/, '') ?? m));
}

/** argv for the child: the target's reverse arguments go right after the command name. */
export function childArgv(command: string, args: readonly string[], extra: readonly string[]): string[] {
  return [command, ...extra, ...args];
}
