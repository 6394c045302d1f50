// The environment that makes a child process (and everything it spawns) use the forward proxy and
// trust agenttap's CA, across runtimes: Node, Bun, Deno, Python, OpenSSL, curl, git, cargo, AWS CLI, Codex.
import type { Target } from './types.js';

export interface ForwardEnvInput {
  /** "http://127.0.0.1:PORT" */
  proxyUrl: string;
  /** agenttap's CA certificate (PEM file). */
  caFile: string;
  /** System roots + our CA (ca-bundle.ts). */
  bundleFile: string;
  /** The compiled preload module (node-proxy-preload.js); omitted to leave NODE_OPTIONS alone. */
  preloadFile?: string;
  /** A combined NODE_EXTRA_CA_CERTS file when the user already had one; else caFile is used. */
  nodeExtraCaFile?: string;
  target: Target;
}

export interface EnvPlan {
  env: Record<string, string>;
  /** Lines for the user: what was changed that they may not expect. */
  notes: string[];
}

/** Variables that take a PEM bundle path and replace (not extend) the default roots. */
export const BUNDLE_VARIABLES = [
  'SSL_CERT_FILE', // OpenSSL, Python ssl, httpx, Ruby, Go (Linux)
  'REQUESTS_CA_BUNDLE', // python-requests
  'CURL_CA_BUNDLE', // curl
  'GIT_SSL_CAINFO', // git
  'CARGO_HTTP_CAINFO', // cargo
  'AWS_CA_BUNDLE', // AWS CLI and SDKs
  'DENO_CERT', // Deno
  'CODEX_CA_CERTIFICATE', // Codex CLI
  'PIP_CERT', // pip (vendors its own requests + certifi)
  'NPM_CONFIG_CAFILE', // npm
  'GRPC_DEFAULT_SSL_ROOTS_FILE_PATH', // gRPC core (Google client libraries)
] as const;

const PROXY_VARIABLES = ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy'] as const;

/** Loopback stays direct: local dev servers, MCP servers, OAuth callbacks must not detour through us. */
export const LOOPBACK_NO_PROXY = ['localhost', '127.0.0.1', '::1'];

/**
 * NO_PROXY for the child: loopback plus the user's own entries, minus entries that would silently
 * bypass the capture (`*`, or a first-party host of the target).
 */
export function childNoProxy(userNoProxy: string | undefined, target: Target): { value: string; dropped: string[] } {
  const user = (userNoProxy ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const dropped: string[] = [];
  const kept: string[] = [];
  for (const entry of user) {
    const bare = entry.replace(/^\*?\./, '').replace(/:\d+$/, '').toLowerCase();
    const hidesTarget = target.firstPartyHosts.some((h) => h === bare || h.endsWith(`.${bare}`));
    if (entry === '*' || hidesTarget) dropped.push(entry);
    else if (!LOOPBACK_NO_PROXY.includes(entry.toLowerCase())) kept.push(entry);
  }
  return { value: [...LOOPBACK_NO_PROXY, ...kept].join(','), dropped };
}

/** Append `--import <file>` to NODE_OPTIONS, quoting the path when it has spaces. */
export function nodeOptionsWithPreload(existing: string | undefined, preloadFile: string): string {
  const url = new URL(`file://${preloadFile.startsWith('/') ? '' : '/'}${preloadFile.replace(/\\/g, '/')}`).href;
  // A file: URL percent-encodes spaces and quotes, so NODE_OPTIONS needs no quoting.
  const flag = `--import ${url}`;
  if (existing && existing.includes(flag)) return existing;
  return existing && existing.trim() ? `${existing.trim()} ${flag}` : flag;
}

/** The variables to overlay on the parent's environment (pure: reads only `parent`). */
export function forwardEnv(input: ForwardEnvInput, parent: NodeJS.ProcessEnv): EnvPlan {
  const env: Record<string, string> = {};
  const notes: string[] = [];
  const existingProxy = parent['HTTPS_PROXY'] ?? parent['https_proxy'];
  for (const v of PROXY_VARIABLES) env[v] = input.proxyUrl;
  const np = childNoProxy(parent['NO_PROXY'] ?? parent['no_proxy'], input.target);
  env['NO_PROXY'] = np.value;
  env['no_proxy'] = np.value;
  if (np.dropped.length) notes.push(`NO_PROXY entries ignored so the capture sees them: ${np.dropped.join(', ')}`);
  if (existingProxy && existingProxy !== input.proxyUrl) {
    notes.push(`your HTTPS_PROXY (${existingProxy}) is replaced for the child; pass --upstream-proxy to chain through it`);
  }
  for (const v of BUNDLE_VARIABLES) env[v] = input.bundleFile;
  env['NODE_EXTRA_CA_CERTS'] = input.nodeExtraCaFile ?? input.caFile;
  // Node >= 24 (and 22.21+) handle the proxy variables themselves with this; older Nodes ignore it
  // and the preload does the job.
  env['NODE_USE_ENV_PROXY'] = '1';
  if (input.preloadFile) env['NODE_OPTIONS'] = nodeOptionsWithPreload(parent['NODE_OPTIONS'], input.preloadFile);
  Object.assign(env, input.target.env ?? {});
  return { env, notes };
}
