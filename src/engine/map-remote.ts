// --map-remote PATTERN=URL: requests to hosts matching PATTERN (a host glob with an optional
// port) go to URL's scheme, host and port instead; path, query and the Host header are kept.
import { hostPatternMatches } from './passthrough.js';

export interface MapRemoteRule {
  pattern: string;
  /** Where matching requests go. */
  protocol: 'http:' | 'https:';
  host: string;
  port: number;
  /** "http://127.0.0.1:18080", stored in the record as server.mappedTo. */
  origin: string;
}

export class MapRemoteError extends Error {
  readonly code = 'BAD_MAP_REMOTE';
}

/** Parse `PATTERN=URL`; the error names the option and says what a good value looks like. */
export function parseMapRemote(spec: string): MapRemoteRule {
  const i = spec.indexOf('=');
  if (i <= 0) throw new MapRemoteError(`--map-remote "${spec}": expected PATTERN=URL, e.g. "api.openai.com=http://127.0.0.1:18080"`);
  const pattern = spec.slice(0, i).trim();
  const raw = spec.slice(i + 1).trim();
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new MapRemoteError(`--map-remote "${spec}": "${raw}" is not a URL (expected http://host:port or https://host)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new MapRemoteError(`--map-remote "${spec}": only http:// and https:// targets are supported`);
  if (/[\s/]/.test(pattern)) throw new MapRemoteError(`--map-remote "${spec}": "${pattern}" is not a host glob (e.g. "*.openai.com" or "api.anthropic.com:443")`);
  const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
  return { pattern, protocol: u.protocol, host: u.hostname.replace(/^\[|\]$/g, ''), port, origin: `${u.protocol}//${u.host}` };
}

export function findMapRemote(rules: readonly MapRemoteRule[] | undefined, host: string, port: number): MapRemoteRule | undefined {
  if (!rules) return undefined;
  for (const r of rules) if (hostPatternMatches(r.pattern, host, port)) return r;
  return undefined;
}
