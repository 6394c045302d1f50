// Secrets never reach the disk unless the user opts out (--keep-secrets): auth headers, API-key
// headers, cookies and `key=` in URLs become `[REDACTED …last4]`, enough to tell keys apart.
import type { HeaderList } from './record.js';

const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'x-api-key', 'x-goog-api-key', 'api-key', 'cookie', 'set-cookie']);
const SECRET_QUERY = new Set(['key', 'api_key', 'apikey', 'api-key']);

export function isSecretHeader(name: string): boolean {
  return SECRET_HEADERS.has(name.toLowerCase());
}

/** `[REDACTED …last4]`; short values (where 4 characters would give away too much) lose all. */
export function redactValue(value: string): string {
  const v = value.trim();
  if (!v) return value;
  return v.length >= 12 ? `[REDACTED …${v.slice(-4)}]` : '[REDACTED]';
}

function redactCookiePairs(value: string, sep: string): string {
  return value
    .split(sep)
    .map((pair) => {
      const i = pair.indexOf('=');
      if (i < 0) return pair;
      return `${pair.slice(0, i + 1)}${redactValue(pair.slice(i + 1))}`;
    })
    .join(sep);
}

export function redactHeader(name: string, value: string): string {
  const lower = name.toLowerCase();
  if (lower === 'authorization' || lower === 'proxy-authorization') {
    // Keep the scheme ("Bearer", "Basic"): it says how the client authenticated.
    const m = /^(\w+)\s+(.+)$/.exec(value.trim());
    return m ? `${m[1]} ${redactValue(m[2]!)}` : redactValue(value);
  }
  if (lower === 'cookie') return redactCookiePairs(value, '; ');
  if (lower === 'set-cookie') {
    const semi = value.indexOf(';');
    const first = semi < 0 ? value : value.slice(0, semi);
    return redactCookiePairs(first, '; ') + (semi < 0 ? '' : value.slice(semi));
  }
  return redactValue(value);
}

export function redactHeaders(headers: HeaderList): HeaderList {
  let out: HeaderList | undefined;
  for (let i = 0; i < headers.length; i++) {
    const [k, v] = headers[i]!;
    if (!SECRET_HEADERS.has(k.toLowerCase())) continue;
    out ??= headers.slice();
    out[i] = [k, redactHeader(k, v)];
  }
  return out ?? headers;
}

/** Redact secret query parameters (`?key=…`) in a URL, leaving the rest byte-identical. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  const hashAt = url.indexOf('#', q);
  const query = url.slice(q + 1, hashAt < 0 ? undefined : hashAt);
  let changed = false;
  const parts = query.split('&').map((p) => {
    const i = p.indexOf('=');
    if (i < 0) return p;
    let name: string;
    try {
      name = decodeURIComponent(p.slice(0, i)).toLowerCase();
    } catch {
      name = p.slice(0, i).toLowerCase();
    }
    if (!SECRET_QUERY.has(name)) return p;
    changed = true;
    let value = p.slice(i + 1);
    try {
      value = decodeURIComponent(value);
    } catch {
      // keep raw
    }
    // Left unencoded so the record reads `key=[REDACTED …abcd]` like the headers do.
    return `${p.slice(0, i)}=${redactValue(value)}`;
  });
  if (!changed) return url;
  return url.slice(0, q + 1) + parts.join('&') + (hashAt < 0 ? '' : url.slice(hashAt));
}
