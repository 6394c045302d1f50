// Building record v1 from other tools' captures: every importer maps its own fields onto these
// few helpers, so imported records look like captured ones (mode "import", decoded bodies,
// secrets redacted before they reach disk).
import { uuidv7 } from '../capture/ids.js';
import type { CaptureRecord, HeaderList, RecordBody, RecordClient, RecordTiming } from '../capture/record.js';

/** Header names whose values are secrets: replaced by `[REDACTED …last4]` on import. */
const SECRET_HEADERS = new Set([
  'authorization',
  'proxy-authorization',
  'x-api-key',
  'api-key',
  'x-goog-api-key',
  'cookie',
  'set-cookie',
  'openai-organization',
  'x-client-key',
  'x-cursor-checksum',
]);

export function redactSecret(value: string): string {
  if (value.startsWith('[REDACTED')) return value;
  const tail = value.length >= 12 ? value.slice(-4) : '';
  return tail ? `[REDACTED …${tail}]` : '[REDACTED]';
}

export function redactHeaders(headers: HeaderList, keepSecrets = false): HeaderList {
  if (keepSecrets) return headers;
  return headers.map(([k, v]) => (SECRET_HEADERS.has(k.toLowerCase()) ? [k, redactSecret(v)] : [k, v]));
}

/** `{name: value | [values]}` (Python dict dumps, claude-trace) → a header list in key order. */
export function headersFromObject(value: unknown): HeaderList {
  const out: HeaderList = [];
  if (Array.isArray(value)) {
    // HAR-like [{name, value}] or [[name, value]]
    for (const h of value) {
      if (Array.isArray(h) && h.length >= 2) out.push([String(h[0]), String(h[1])]);
      else if (h && typeof h === 'object' && 'name' in h) out.push([String((h as { name: unknown }).name), String((h as { value?: unknown }).value ?? '')]);
    }
    return out;
  }
  if (!value || typeof value !== 'object') return out;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (Array.isArray(v)) for (const one of v) out.push([k, String(one)]);
    else if (v !== undefined && v !== null) out.push([k, String(v)]);
  }
  return out;
}

const TRUNCATION_MARK = '... (truncated)';

/**
 * A body from what another tool logged: a string is kept as text, any other JSON value is
 * serialized back to JSON text (the tool parsed it; the bytes were JSON). A trailing
 * "... (truncated)" (the original tracer's mark) sets `truncated`.
 */
export function bodyFromValue(value: unknown, contentEncoding?: string): RecordBody | undefined {
  if (value === undefined || value === null) return undefined;
  let text: string;
  let truncated = false;
  if (typeof value === 'string') {
    text = value;
    if (text.endsWith(TRUNCATION_MARK)) {
      text = text.slice(0, -TRUNCATION_MARK.length);
      truncated = true;
    }
  } else text = JSON.stringify(value);
  const body: RecordBody = { text, size: Buffer.byteLength(text, 'utf8') };
  if (truncated) body.truncated = true;
  if (contentEncoding && contentEncoding.toLowerCase() !== 'identity') body.contentEncoding = contentEncoding;
  return body;
}

export function base64Body(base64: string): RecordBody {
  return { base64, size: Buffer.from(base64, 'base64').length };
}

/** Seconds (Python time.time()), ms, or an ISO string → epoch ms. */
export function toEpochMs(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value < 1e11 ? value * 1000 : value;
  if (typeof value === 'string' && value.trim() !== '') {
    const asNumber = Number(value);
    if (Number.isFinite(asNumber)) return toEpochMs(asNumber);
    const t = Date.parse(value);
    return Number.isNaN(t) ? undefined : t;
  }
  return undefined;
}

export interface ImportedExchange {
  startedAtMs: number;
  method: string;
  url: string;
  httpVersion?: string;
  requestHeaders: HeaderList;
  requestBody?: RecordBody;
  status?: number;
  statusText?: string;
  responseHttpVersion?: string;
  responseHeaders?: HeaderList;
  responseBody?: RecordBody;
  timing?: RecordTiming;
  client?: RecordClient;
  serverIp?: string;
  /** Which tool the record came from (`labels.importedFrom`). */
  source: string;
  labels?: Record<string, string>;
  id?: string;
  keepSecrets?: boolean;
}

/** Normalizes HTTP version spellings from other tools ("HTTP/1.1", "http/2.0", "h3", "") to record style ("1.1", "2", "3"). */
export function normalizeHttpVersion(value: unknown): string {
  const s = String(value ?? '').trim().toLowerCase();
  if (s === '' || s === 'unknown') return '1.1';
  if (s === 'h2' || s === 'h2c') return '2';
  if (s === 'h3') return '3';
  const m = /^(?:https?\/)?(\d+(?:\.\d+)?)$/.exec(s);
  if (!m) return s;
  const n = m[1]!;
  if (n === '2.0') return '2';
  if (n === '3.0') return '3';
  return n;
}

export function importedRecord(x: ImportedExchange): CaptureRecord {
  let host = '';
  let port = 0;
  let tls = false;
  try {
    const u = new URL(x.url);
    host = u.hostname.replace(/^\[|\]$/g, '');
    tls = u.protocol === 'https:' || u.protocol === 'wss:';
    port = u.port ? Number(u.port) : tls ? 443 : 80;
  } catch {
    /* a relative or odd URL: keep it as is, host unknown */
  }
  const record: CaptureRecord = {
    v: 1,
    id: x.id ?? uuidv7(Math.max(0, Math.floor(x.startedAtMs))),
    kind: 'http',
    mode: 'import',
    startedAt: new Date(x.startedAtMs).toISOString(),
    server: { host, port, tls },
    request: {
      method: x.method || 'GET',
      url: x.url,
      httpVersion: normalizeHttpVersion(x.httpVersion),
      headers: redactHeaders(x.requestHeaders, x.keepSecrets),
    },
    error: null,
    labels: { importedFrom: x.source, ...x.labels },
  };
  if (x.serverIp) record.server.ip = x.serverIp;
  if (x.client) record.client = x.client;
  if (x.requestBody) record.request!.body = x.requestBody;
  if (x.status !== undefined && x.status > 0) {
    record.response = {
      status: x.status,
      httpVersion: normalizeHttpVersion(x.responseHttpVersion ?? x.httpVersion),
      headers: redactHeaders(x.responseHeaders ?? [], x.keepSecrets),
    };
    if (x.statusText) record.response.statusText = x.statusText;
    if (x.responseBody) record.response.body = x.responseBody;
  }
  if (x.timing) record.timing = x.timing;
  return record;
}
