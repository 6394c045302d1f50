// The exchange model the engine emits and observers (recorder, live UI, filters) consume.
// One exchange = one request/response (or one WebSocket, or one tunnel). The engine owns the
// object; observers read it and must not keep the chunk Buffers' contents mutable.
import { performance } from 'node:perf_hooks';
import { uuidv7 } from '../capture/ids.js';
import type {
  HeaderList,
  RecordClient,
  RecordError,
  RecordMode,
  RecordServer,
  RecordTiming,
  TunnelInfo,
  WsClose,
  WsMessage,
} from '../capture/record.js';

export interface ExchangeRequestHead {
  method: string;
  /** See DESIGN.md "Which URL a record keeps". */
  url: string;
  httpVersion: string;
  /** As the client sent them: order, case and duplicates kept. */
  headers: HeaderList;
}

export interface Exchange {
  id: string;
  kind: 'http' | 'websocket';
  mode: RecordMode;
  /** ISO time of the first request byte. */
  startedAt: string;
  /** performance.now() at start; every `t` below is ms since this. */
  t0: number;
  client: RecordClient;
  server: RecordServer;
  request: ExchangeRequestHead;
  timing: RecordTiming;
  /** Labels an extension or the capture layer attaches (run's session, target…). */
  labels?: Record<string, string>;
}

export interface ResponseHead {
  status: number;
  statusText?: string;
  httpVersion: string;
  headers: HeaderList;
}

export interface ExchangeEnd {
  trailers?: HeaderList;
  requestTrailers?: HeaderList;
  wsClose?: WsClose;
}

/** A tunnelled (not decrypted) connection, reported once when it closes. */
export interface TunnelRow {
  id: string;
  mode: RecordMode;
  startedAt: string;
  client: RecordClient;
  server: RecordServer;
  tunnel: TunnelInfo;
  error: RecordError | null;
  labels?: Record<string, string>;
}

/**
 * The events a ProxyServer emits. Per exchange: `start`, any number of `request-chunk`,
 * `request-end`, `response-head`, `response-chunk`s, `ws-message`s, then exactly one of
 * `end` (finished on both sides) or `abort` (bytes lost or one side failed; carries the error).
 */
export interface ExchangeEvents {
  start: [ex: Exchange];
  'request-chunk': [ex: Exchange, chunk: Buffer, t: number];
  'request-end': [ex: Exchange, t: number];
  'response-head': [ex: Exchange, head: ResponseHead, t: number];
  'response-chunk': [ex: Exchange, chunk: Buffer, t: number];
  'ws-message': [ex: Exchange, msg: WsMessage];
  end: [ex: Exchange, end: ExchangeEnd];
  abort: [ex: Exchange, error: RecordError, end: ExchangeEnd];
  tunnel: [row: TunnelRow];
}

let isoMs = 0;
let isoText = '';

/** ISO time of `ms`; exchanges starting in the same millisecond share the string. */
function isoTime(ms: number): string {
  if (ms !== isoMs) {
    isoMs = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}

/**
 * `at` backdates the exchange to when its request arrived (wall clock ms, performance.now()),
 * for an engine that forwards the request before it builds the exchange.
 */
export function newExchange(init: Omit<Exchange, 'id' | 'startedAt' | 't0' | 'timing'> & { timing?: RecordTiming }, at?: { wall: number; mono: number }): Exchange {
  const now = at?.wall ?? Date.now();
  return { id: uuidv7(now), startedAt: isoTime(now), t0: at?.mono ?? performance.now(), timing: {}, ...init };
}

/** An exchange's end with whichever trailers came (built key by key: a spread of two objects costs a hidden class each time). */
export function exchangeEnd(trailers?: HeaderList, requestTrailers?: HeaderList): ExchangeEnd {
  const end: ExchangeEnd = {};
  if (trailers?.length) end.trailers = trailers;
  if (requestTrailers?.length) end.requestTrailers = requestTrailers;
  return end;
}

/** ms since the exchange started, rounded to µs. */
export function since(ex: Exchange): number {
  return Math.round((performance.now() - ex.t0) * 1000) / 1000;
}

/** rawHeaders (flat [k, v, k, v]) → header pairs. */
export function headerPairs(raw: readonly string[]): HeaderList {
  const out: HeaderList = [];
  for (let i = 0; i + 1 < raw.length; i += 2) out.push([raw[i]!, raw[i + 1]!]);
  return out;
}
