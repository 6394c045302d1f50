// Where agenttap keeps per-install state (CA, learned passthrough hosts, sessions).
import os from 'node:os';
import path from 'node:path';

/** `$AGENTTAP_HOME`, default `~/.agenttap`. */
export function agenttapHome(env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env['AGENTTAP_HOME'];
  return fromEnv && fromEnv.trim() ? path.resolve(fromEnv) : path.join(os.homedir(), '.agenttap');
}
