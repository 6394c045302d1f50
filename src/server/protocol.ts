// The inspector's wire contract between server and web UI: compact list rows computed
// server-side, the per-selection detail, and the WebSocket messages. Types only, so the UI
// (ui/src) imports them too.
import type { CaptureRecord, RecordKind } from '../capture/record.js';
import type { LlmExchange } from '../llm/types.js';
import type { BadLine } from '../capture/reader.js';

/** One list row: everything the list, the filters and the Stats view need, nothing more. */
export interface Row {
  /** Position in the store, 0-based and stable while the store lives. */
  seq: number;
  id: string;
  /** startedAt as epoch ms. */
  t: number;
  kind: RecordKind;
  method: string;
  host: string;
  path: string;
  status?: number;
  /** live: still in flight; error: the record carries an error. */
  state: 'done' | 'live' | 'error';
  /** error.phase when state is error. */
  err?: string;
  /** Response body size in bytes (decoded). */
  size: number;
  reqSize: number;
  dur?: number;
  ttfb?: number;
  /** Streams: when the first content event arrived (ms since start). */
  ttft?: number;
  /** Detection said llm. */
  llm: boolean;
  provider?: string;
  api?: string;
  model?: string;
  agent?: string;
  /** Context key: short SHA-256 of the system prompt. */
  ctx?: string;
  session?: string;
  stream?: boolean;
  tin?: number;
  tout?: number;
  tcacheR?: number;
  tcacheW?: number;
  treason?: number;
  cost?: number;
  /** Tool calls in the response. */
  tools?: number;
  /** Tool names called in the response. */
  toolNames?: string[];
  /** Messages (turns) in the request. */
  msgs?: number;
  replayOf?: string;
  /** Has an annotation. */
  note?: boolean;
}

export interface ProtobufNode {
  field: number;
  wireType: number;
  value: string | number | ProtobufNode[];
}

/** What GET /api/s/:store/exchanges/:id returns. */
export interface Detail {
  row: Row;
  /** The record; bodies over the view limit hold their head only (see `clipped`). */
  record: CaptureRecord;
  /** Full body sizes of bodies that were clipped for the view ("show all" fetches them). */
  clipped: { request?: number; response?: number };
  llm?: LlmExchange;
  /** Schema-less protobuf trees (Cursor / Connect bodies), when the decoder is available. */
  protobuf?: { request?: unknown; response?: unknown };
  annotation?: { note: string; at: string };
}

export interface StoreInfo {
  /** "main" or "session-<id>". */
  store: string;
  title: string;
  live: boolean;
  file?: string;
  /** Replay is possible (a live proxy is attached). */
  canReplay: boolean;
}

export interface SessionMeta {
  id: string;
  name: string;
  startedAt: string;
  endedAt?: string;
  count: number;
}

export interface RecordingState {
  id: string;
  name: string;
  startedAt: string;
  count: number;
}

/** Server → client WebSocket messages. */
export type ServerMessage =
  | {
      type: 'snapshot';
      info: StoreInfo;
      rows: Row[];
      /** Rows older than the first snapshot row, loadable via /rows?before=. */
      older: number;
      total: number;
      bad: BadLine[];
      recording?: RecordingState;
      /** Set while the capture file is still being indexed. */
      loading?: { bytes: number; total: number; rows: number };
    }
  | { type: 'progress'; bytes: number; total: number; rows: number }
  | { type: 'batch'; new: Row[]; update: Row[] }
  | { type: 'clear' }
  | { type: 'detail'; id: string; detail: Detail }
  | { type: 'bad'; bad: BadLine[] }
  | { type: 'recording'; recording?: RecordingState };

/** Client → server WebSocket messages. */
export type ClientMessage = { type: 'watch'; id?: string };
