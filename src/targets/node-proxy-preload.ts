// Loaded into every Node process `agenttap run` starts (NODE_OPTIONS=--import <this file>).
// Node's built-in fetch ignores HTTP(S)_PROXY before Node 24 (NODE_USE_ENV_PROXY); this installs
// undici's EnvHttpProxyAgent as the global dispatcher so fetch goes through the proxy too.
// It stays out of the way: nothing happens when Node handles the variables itself or when no proxy
// variable is set; the dispatcher is installed on the first fetch() only if the program has not set
// its own by then; a program that sets one later simply replaces ours. Lazy, because loading undici
// costs tens of milliseconds and most Node processes a wrapped agent spawns never call fetch.
import { createRequire } from 'node:module';

const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

function nodeHandlesEnvProxy(): boolean {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  return process.env['NODE_USE_ENV_PROXY'] === '1' && (major >= 24 || (major === 22 && minor >= 21));
}

function install(): void {
  const slot = globalThis as unknown as Record<symbol, unknown>;
  if (slot[GLOBAL_DISPATCHER] !== undefined) return; // the program brought its own
  const require = createRequire(import.meta.url);
  // The whole package: its index mixes the request API (connect, …) into Dispatcher, which
  // ProxyAgent's CONNECT relies on; loading only the agent's module breaks tunnels.
  const mods = require('undici') as { EnvHttpProxyAgent: new () => unknown; setGlobalDispatcher: (d: unknown) => void };
  mods.setGlobalDispatcher(new mods.EnvHttpProxyAgent());
}

const hasProxy = !!(process.env['HTTPS_PROXY'] || process.env['https_proxy'] || process.env['HTTP_PROXY'] || process.env['http_proxy']);

if (hasProxy && !nodeHandlesEnvProxy() && typeof globalThis.fetch === 'function') {
  const original = globalThis.fetch;
  let installed = false;
  const fetch = function fetch(input: Parameters<typeof original>[0], init?: Parameters<typeof original>[1]): ReturnType<typeof original> {
    if (!installed) {
      installed = true;
      try {
        install();
      } catch (e) {
        // Never break the program being captured: its fetch just goes direct.
        if (process.env['AGENTTAP_DEBUG']) process.stderr.write(`agenttap preload: ${(e as Error).message}\n`);
      }
    }
    return original(input, init);
  };
  globalThis.fetch = fetch as typeof globalThis.fetch;
}

export {};
