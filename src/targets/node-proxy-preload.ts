// Loaded into every Node process `agenttap run` starts (NODE_OPTIONS=--import <this file>).
// Node's built-in fetch ignores HTTP(S)_PROXY before Node 24 (NODE_USE_ENV_PROXY); this installs
// undici's EnvHttpProxyAgent as the global dispatcher so fetch goes through the proxy too.
// It stays out of the way: nothing happens when Node handles the variables itself, when no proxy
// variable is set, or when something already installed a dispatcher; a program that sets its own
// dispatcher later simply replaces ours.
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

function nodeHandlesEnvProxy(): boolean {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  return process.env['NODE_USE_ENV_PROXY'] === '1' && (major >= 24 || (major === 22 && minor >= 21));
}

const hasProxy = !!(process.env['HTTPS_PROXY'] || process.env['https_proxy'] || process.env['HTTP_PROXY'] || process.env['http_proxy']);
const slot = globalThis as unknown as Record<symbol, unknown>;

if (hasProxy && !nodeHandlesEnvProxy() && slot[GLOBAL_DISPATCHER] === undefined) {
  try {
    const { EnvHttpProxyAgent, setGlobalDispatcher } = await import('undici');
    setGlobalDispatcher(new EnvHttpProxyAgent());
  } catch (e) {
    // Never break the program being captured: it still runs, its fetch just goes direct.
    if (process.env['AGENTTAP_DEBUG']) process.stderr.write(`agenttap preload: ${(e as Error).message}\n`);
  }
}

export {};
