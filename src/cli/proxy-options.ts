// The proxy flags, defined once: `agenttap proxy` and `agenttap run` both add them to their
// command and parse them into CaptureProxyOptions.
import { Option, type Command } from 'commander';
import type { CaptureProxyOptions } from '../capture/capture-proxy.js';
import { DEFAULT_MAX_BODY } from '../capture/body-decode.js';
import { MapRemoteError, parseMapRemote } from '../engine/map-remote.js';
import type { ReverseSpec } from '../engine/proxy.js';
import { captureDecider, parseCaptureMode } from '../llm/capture-tier.js';
import { usageError } from './errors.js';
import { parseUpstreamProxy, UpstreamProxyError } from '../engine/upstream-proxy.js';
import { validatePassthroughPattern } from '../engine/passthrough.js';

/** The raw values commander hands over. */
export interface ProxyFlags {
  port?: string;
  host?: string;
  out?: string;
  reverse?: string[];
  mapRemote?: string[];
  upstreamProxy?: string;
  noProxy?: string;
  /** Commander files `--no-proxy <list>` under `proxy` (it reads "no-" as a negation). */
  proxy?: string | boolean;
  passthrough?: string[];
  learn?: boolean;
  maxBody?: string;
  keepSecrets?: boolean;
  insecureUpstream?: boolean;
  rotate?: string;
  quiet?: boolean;
  json?: boolean;
  /** --capture all|llm (capture tiers). */
  capture?: string;
  /** --ui [PORT]: open the web inspector on the live traffic (src/cli/ui.ts). */
  ui?: boolean | string;
  uiHost?: string;
  uiBuffer?: string;
}

export interface ParsedProxyFlags {
  capture: CaptureProxyOptions;
  /** Chaining and passthrough settings, for the protocol modules. */
  upstreamProxy?: string;
  noProxy?: string;
  passthrough: string[];
  learn: boolean;
  quiet: boolean;
  json: boolean;
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function addProxyOptions(cmd: Command, defaults: { port?: string } = {}): Command {
  return cmd
    .option('--port <port>', 'forward proxy port (0 = any free port)', defaults.port ?? '8080')
    .option('--host <host>', 'address to listen on (loopback by default)', '127.0.0.1')
    .option('--out <file>', 'capture file (JSON Lines, appended); default ./agenttap-<date>.jsonl')
    .option('--reverse <port=url>', 'plain-HTTP listener on PORT forwarding to URL (repeatable)', collect)
    .option('--map-remote <pattern=url>', 'send requests for hosts matching PATTERN to URL instead (repeatable)', collect)
    .option('--upstream-proxy <url>', 'chain through another proxy: http(s)://[user:pass@]host:port')
    .option('--no-proxy <list>', 'hosts reached directly despite --upstream-proxy (comma-separated)')
    .option('--passthrough <pattern>', 'tunnel hosts matching PATTERN without decrypting (repeatable)', collect)
    .option('--no-learn', 'do not learn passthrough hosts from clients that reject our certificate')
    .option('--max-body <size>', 'keep at most SIZE of each body (e.g. 16MB, 512KB); the rest is hashed', '16MB')
    .option('--keep-secrets', 'do not redact API keys, auth headers and cookies in the capture')
    .option('--insecure-upstream', 'do not verify upstream TLS certificates')
    .addOption(new Option('--rotate <period>', 'start a new capture file every day: <name>-YYYY-MM-DD.jsonl').choices(['daily']))
    .addOption(new Option('--capture <mode>', 'all: record everything; llm: LLM calls in full, other AI-provider traffic as metadata only, drop the rest').choices(['all', 'llm']).default('all'))
    .option('--quiet', 'no line per exchange')
    .option('--json', 'print JSON Lines (one object per exchange) instead of text')
    .option('--ui [port]', 'open the web inspector on the live traffic (loopback, default port 8081)')
    .option('--ui-host <host>', 'serve the inspector on this address instead of 127.0.0.1 (exposes captured secrets; prints a warning)')
    .option('--ui-buffer <n>', 'full exchanges the inspector keeps in memory; older ones are read back from the capture file', '5000');
}

/** "16MB", "512k", "1048576", "2 MiB" → bytes. */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)(i?b)?\s*$/i.exec(text);
  if (!m) return undefined;
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.floor(Number(m[1]) * mult);
}

function parsePort(text: string, flag: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < 0 || n > 65535) throw usageError(`${flag}: "${text}" is not a port number (0-65535)`);
  return n;
}

export function parseReverse(spec: string): ReverseSpec {
  const i = spec.indexOf('=');
  if (i <= 0) throw usageError(`--reverse "${spec}": expected PORT=URL, e.g. 9000=https://api.anthropic.com`);
  const port = parsePort(spec.slice(0, i), '--reverse');
  const target = spec.slice(i + 1).trim();
  let u: URL;
  try {
    u = new URL(target);
  } catch {
    throw usageError(`--reverse "${spec}": "${target}" is not a URL (e.g. https://api.anthropic.com)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw usageError(`--reverse "${spec}": only http:// and https:// upstreams are supported`);
  return { port, target };
}

export function parseProxyFlags(flags: ProxyFlags): ParsedProxyFlags {
  if (flags.quiet && flags.json) throw usageError('--quiet and --json cannot be combined');
  const maxBody = flags.maxBody === undefined ? DEFAULT_MAX_BODY : parseSize(flags.maxBody);
  if (maxBody === undefined || maxBody < 0) throw usageError(`--max-body: "${flags.maxBody}" is not a size (e.g. 16MB, 512KB, 1048576)`);
  let mapRemote;
  try {
    mapRemote = (flags.mapRemote ?? []).map(parseMapRemote);
  } catch (e) {
    if (e instanceof MapRemoteError) throw usageError(e.message);
    throw e;
  }
  const capture: CaptureProxyOptions = {
    port: parsePort(flags.port ?? '8080', '--port'),
    host: flags.host ?? '127.0.0.1',
    reverse: (flags.reverse ?? []).map(parseReverse),
    mapRemote,
    maxBody,
    keepSecrets: !!flags.keepSecrets,
    insecureUpstream: !!flags.insecureUpstream,
  };
  if (flags.out) capture.out = flags.out;
  const decide = captureDecider(parseCaptureMode(flags.capture ?? 'all'));
  if (decide) capture.decide = decide;
  if (flags.rotate === 'daily') capture.rotate = 'daily';
  // Chaining and passthrough go to the protocol modules (engine/protocol-support.ts).
  if (flags.upstreamProxy) {
    try {
      parseUpstreamProxy(flags.upstreamProxy);
    } catch (e) {
      if (e instanceof UpstreamProxyError) throw usageError(e.message);
      throw e;
    }
  }
  for (const pattern of flags.passthrough ?? []) {
    const problem = validatePassthroughPattern(pattern);
    if (problem) throw usageError(`--passthrough: ${problem}`);
  }
  const noProxy = flags.noProxy ?? (typeof flags.proxy === 'string' ? flags.proxy : undefined);
  capture.protocols = { upstreamProxy: flags.upstreamProxy, noProxy, passthrough: flags.passthrough ?? [], learn: flags.learn !== false };
  return {
    capture,
    upstreamProxy: flags.upstreamProxy,
    noProxy: flags.noProxy ?? (typeof flags.proxy === 'string' ? flags.proxy : undefined),
    passthrough: flags.passthrough ?? [],
    learn: flags.learn !== false,
    quiet: !!flags.quiet,
    json: !!flags.json,
  };
}
