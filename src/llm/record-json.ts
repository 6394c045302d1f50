// Reads a record's bodies as JSON once: detection and the family parsers both look at the request
// body, so the parsed value is cached per body object (records are plain data and not mutated).
import { bodyText, headerValue, type CaptureRecord, type RecordBody } from '../capture/record.js';

const parsed = new WeakMap<RecordBody, unknown>();
const NOT_JSON = Symbol('not-json');

/** The body parsed as JSON, or undefined when it is absent or not JSON. */
export function jsonBody(body: RecordBody | undefined): unknown {
  if (!body) return undefined;
  const hit = parsed.get(body);
  if (hit !== undefined) return hit === NOT_JSON ? undefined : hit;
  const text = bodyText(body);
  let value: unknown = NOT_JSON;
  const first = firstNonSpace(text);
  if (first === '{' || first === '[') {
    try {
      value = JSON.parse(text);
    } catch {
      value = NOT_JSON;
    }
  }
  parsed.set(body, value);
  return value === NOT_JSON ? undefined : value;
}

function firstNonSpace(text: string): string {
  for (let i = 0; i < text.length && i < 64; i++) {
    const c = text[i]!;
    if (c !== ' ' && c !== '\n' && c !== '\r' && c !== '\t' && c !== '\ufeff') return c;
  }
  return '';
}

export function requestJson(record: CaptureRecord): Record<string, unknown> | undefined {
  const v = jsonBody(record.request?.body);
  return isObject(v) ? v : undefined;
}

export function responseJson(record: CaptureRecord): unknown {
  return jsonBody(record.response?.body);
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** Parses JSON text when it is JSON; otherwise returns the text unchanged. */
export function parseMaybeJson(text: string): unknown {
  const t = text.trim();
  if (t === '') return text;
  const c = t[0];
  if (c === '{' || c === '[' || c === '"' || c === '-' || (c! >= '0' && c! <= '9') || t === 'true' || t === 'false' || t === 'null') {
    try {
      return JSON.parse(t);
    } catch {
      return text;
    }
  }
  return text;
}

export function requestPath(record: CaptureRecord): string {
  const url = record.request?.url ?? '';
  const q = url.indexOf('?');
  const noQuery = q === -1 ? url : url.slice(0, q);
  const scheme = noQuery.indexOf('://');
  if (scheme === -1) return noQuery || '/';
  const slash = noQuery.indexOf('/', scheme + 3);
  return slash === -1 ? '/' : noQuery.slice(slash);
}

export function requestQuery(record: CaptureRecord): URLSearchParams {
  const url = record.request?.url ?? '';
  const q = url.indexOf('?');
  return new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
}

export function responseContentType(record: CaptureRecord): string {
  return (headerValue(record.response?.headers, 'content-type') ?? '').toLowerCase();
}

/** A short message for an HTTP error body ({error:{type,message}} and friends). */
export function errorMessageOf(value: unknown, status?: number): string | undefined {
  if (Array.isArray(value)) value = value[0];
  if (!isObject(value)) return status !== undefined && status >= 400 ? `HTTP ${status}` : undefined;
  const e = value.error;
  if (isObject(e)) {
    const type = str(e.type) ?? str(e.status) ?? (e.code !== undefined && e.code !== null ? String(e.code) : undefined);
    const msg = str(e.message);
    if (type && msg) return `${type}: ${msg}`;
    return msg ?? type ?? JSON.stringify(e);
  }
  if (typeof e === 'string') return e;
  if (str(value.message) && status !== undefined && status >= 400) return str(value.message);
  return status !== undefined && status >= 400 ? `HTTP ${status}` : undefined;
}

/** The value of a JSON string literal (with its quotes); skips JSON.parse when nothing is escaped. */
export function jsonStringLiteral(lit: string): string {
  return lit.indexOf('\\') === -1 ? lit.slice(1, -1) : (JSON.parse(lit) as string);
}
