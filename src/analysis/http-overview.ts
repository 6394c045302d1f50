// The HTTP side of a report, accumulated record by record: totals, endpoints, methods, status
// codes, payload structure (top request/response keys with their types), and the per-exchange
// series the charts draw.
import type { CaptureRecord } from '../capture/record.js';
import { jsonBody } from '../llm/record-json.js';
import { promptTokens, type ExchangeSummary } from './exchange-summary.js';
import { isError } from './stats.js';

export interface CountRow {
  key: string;
  count: number;
}

export interface EndpointRow {
  host: string;
  path: string;
  methods: string[];
  count: number;
  errors: number;
}

export interface KeyRow {
  key: string;
  count: number;
  types: string[];
}

export interface Series {
  length: number;
  input: Float64Array;
  output: Float64Array;
  latency: Float64Array;
  labels: string[];
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** Path segments that are ids (UUIDs, long hex, numbers) collapse so endpoints group. */
const endpointCache = new Map<string, string>();

export function endpointPath(path: string): string {
  const hit = endpointCache.get(path);
  if (hit !== undefined) return hit;
  const out = collapseIds(path);
  if (endpointCache.size < 10_000) endpointCache.set(path, out);
  return out;
}

function collapseIds(path: string): string {
  return path
    .split('/')
    .map((seg) => (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(seg) || /^[0-9a-f]{24,}$/i.test(seg) || /^\d{3,}$/.test(seg) ? '{id}' : seg))
    .join('/');
}

/** Counts SSE events by name (`event:` lines), else data chunks, of a stream body (native substring search, no per-line loop). */
export function sseEventCounts(text: string): [string, number][] {
  const counts = new Map<string, number>();
  let at = text.startsWith('event:') ? 0 : text.indexOf('\nevent:') + 1;
  while (at > 0 || (at === 0 && text.startsWith('event:'))) {
    let end = text.indexOf('\n', at);
    if (end < 0) end = text.length;
    const name = text.slice(at + 6, end).trim();
    counts.set(name, (counts.get(name) ?? 0) + 1);
    const next = text.indexOf('\nevent:', end - 1);
    if (next < 0) break;
    at = next + 1;
  }
  if (counts.size) return [...counts];
  let data = text.startsWith('data:') ? 1 : 0;
  for (let i = text.indexOf('\ndata:'); i >= 0; i = text.indexOf('\ndata:', i + 6)) data++;
  const done = /(^|\n)data: ?\[DONE\]/.test(text);
  const out: [string, number][] = [];
  if (data - (done ? 1 : 0) > 0) out.push(['data', data - (done ? 1 : 0)]);
  if (done) out.push(['[DONE]', 1]);
  return out;
}

const countsCache = new WeakMap<object, [string, number][]>();

/** The SSE event counts of a record's response when it is an event stream (computed once per body). */
export function responseEventCounts(record: CaptureRecord): [string, number][] | undefined {
  const body = record.response?.body;
  if (!body?.text || !isEventStream(record)) return undefined;
  let counts = countsCache.get(body);
  if (!counts) countsCache.set(body, (counts = sseEventCounts(body.text)));
  return counts;
}

export function isEventStream(record: CaptureRecord): boolean {
  const ct = record.response?.headers.find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? '';
  return /event-stream/i.test(ct) || (record.response?.body?.text?.startsWith('event:') ?? false);
}

/** Top-level keys of a record's JSON bodies with their types, as flat [key, type, key, type…] lists (SSE: `event: name`, `sse`). */
export interface PayloadKeys {
  request: string[];
  response: string[];
}

export function payloadKeysOf(record: CaptureRecord): PayloadKeys {
  const keys: PayloadKeys = { request: [], response: [] };
  // Bodies come parsed from the LLM layer's per-body cache: no second JSON.parse.
  const req = record.request?.body;
  if (req?.text && !req.truncated && req.text.charCodeAt(0) === 0x7b) {
    const value = jsonBody(req);
    if (value && typeof value === 'object' && !Array.isArray(value)) for (const k in value) keys.request.push(k, typeName((value as Record<string, unknown>)[k]));
  }
  const res = record.response?.body;
  if (!res?.text) return keys;
  const events = responseEventCounts(record);
  if (events) {
    for (const [name] of events) keys.response.push(`event: ${name}`, 'sse');
  } else if (!res.truncated && res.text.charCodeAt(0) === 0x7b) {
    const value = jsonBody(res);
    if (value && typeof value === 'object' && !Array.isArray(value)) for (const k in value) keys.response.push(k, typeName((value as Record<string, unknown>)[k]));
  }
  return keys;
}

class KeyCounter {
  private readonly keys = new Map<string, { count: number; types: Set<string> }>();
  add(key: string, type: string): void {
    let k = this.keys.get(key);
    if (!k) this.keys.set(key, (k = { count: 0, types: new Set() }));
    k.count++;
    k.types.add(type);
  }
  top(n: number): KeyRow[] {
    return [...this.keys]
      .map(([key, v]) => ({ key, count: v.count, types: [...v.types].sort() }))
      .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key))
      .slice(0, n);
  }
}

function inc(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

export class HttpOverview {
  requests = 0;
  llmExchanges = 0;
  firstT = Infinity;
  lastT = -Infinity;
  requestBytes = 0;
  responseBytes = 0;
  errors = 0;
  private readonly endpoints = new Map<string, EndpointRow & { methodSet: Set<string> }>();
  private readonly methods = new Map<string, number>();
  private readonly statuses = new Map<string, number>();
  private readonly requestKeys = new KeyCounter();
  private readonly responseKeys = new KeyCounter();
  private n = 0;
  private input = new Float64Array(256);
  private output = new Float64Array(256);
  private latency = new Float64Array(256);

  add(record: CaptureRecord, s: ExchangeSummary): void {
    this.addSummary(s, payloadKeysOf(record));
  }

  /** Adds an exchange by its summary and payload keys (what a worker thread hands over instead of the record). */
  addSummary(s: ExchangeSummary, keys: PayloadKeys): void {
    this.requests++;
    this.firstT = Math.min(this.firstT, s.t);
    this.lastT = Math.max(this.lastT, s.t + (s.durationMs ?? 0));
    this.requestBytes += s.reqBytes;
    this.responseBytes += s.resBytes;
    if (isError(s)) this.errors++;
    inc(this.methods, s.method || '-');
    inc(this.statuses, s.status !== undefined ? String(s.status) : s.errorPhase ? `no response (${s.errorPhase})` : s.kind === 'tunnel' ? 'tunnel' : 'no response');
    const key = `${s.host} ${endpointPath(s.path)}`;
    let ep = this.endpoints.get(key);
    if (!ep) this.endpoints.set(key, (ep = { host: s.host, path: endpointPath(s.path), methods: [], methodSet: new Set(), count: 0, errors: 0 }));
    ep.count++;
    ep.methodSet.add(s.method);
    if (isError(s)) ep.errors++;
    for (let i = 0; i < keys.request.length; i += 2) this.requestKeys.add(keys.request[i]!, keys.request[i + 1]!);
    for (let i = 0; i < keys.response.length; i += 2) this.responseKeys.add(keys.response[i]!, keys.response[i + 1]!);
    if (s.llm && !s.llm.countOnly) {
      this.llmExchanges++;
      this.grow();
      const u = s.llm.usage;
      this.input[this.n] = promptTokens(u, s.llm.provider);
      this.output[this.n] = u?.output ?? 0;
      this.latency[this.n] = s.durationMs ?? 0;
      this.n++;
    }
  }

  private grow(): void {
    if (this.n < this.input.length) return;
    const next = (a: Float64Array) => {
      const b = new Float64Array(a.length * 2);
      b.set(a);
      return b;
    };
    this.input = next(this.input);
    this.output = next(this.output);
    this.latency = next(this.latency);
  }

  endpointRows(): EndpointRow[] {
    return [...this.endpoints.values()]
      .map(({ methodSet, ...e }) => ({ ...e, methods: [...methodSet].sort() }))
      .sort((a, b) => b.count - a.count || a.path.localeCompare(b.path));
  }

  methodRows(): CountRow[] {
    return [...this.methods].map(([key, count]) => ({ key, count })).sort((a, b) => b.count - a.count);
  }

  statusRows(): CountRow[] {
    return [...this.statuses].map(([key, count]) => ({ key, count })).sort((a, b) => a.key.localeCompare(b.key));
  }

  requestKeyRows(n = 30): KeyRow[] {
    return this.requestKeys.top(n);
  }

  responseKeyRows(n = 30): KeyRow[] {
    return this.responseKeys.top(n);
  }

  series(): Series {
    return { length: this.n, input: this.input.subarray(0, this.n), output: this.output.subarray(0, this.n), latency: this.latency.subarray(0, this.n), labels: [] };
  }
}
