// Talks to the inspector server: the token from the page URL goes in an Authorization header
// (never in links), JSON in and out, and one WebSocket per viewed store.
import type { Detail, Row, ServerMessage, SessionMeta } from '../../src/server/protocol.js';

export const token = new URLSearchParams(location.search).get('token') ?? '';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let value: unknown;
  try {
    value = text ? JSON.parse(text) : undefined;
  } catch {
    value = undefined;
  }
  if (!res.ok) throw new ApiError(res.status, (value as { error?: string } | undefined)?.error ?? `HTTP ${res.status}`);
  return value as T;
}

const s = (store: string): string => `/api/s/${encodeURIComponent(store)}`;

export const api = {
  rows: (store: string, before: number, limit: number) => call<{ rows: Row[] }>('GET', `${s(store)}/rows?before=${before}&limit=${limit}`),
  detail: (store: string, id: string) => call<Detail>('GET', `${s(store)}/exchanges/${encodeURIComponent(id)}`),
  body: (store: string, id: string, side: 'request' | 'response') =>
    call<{ text?: string; base64?: string; size: number }>('GET', `${s(store)}/exchanges/${encodeURIComponent(id)}/body/${side}`),
  search: (store: string, q: string) => call<{ q: string; seqs: number[]; superseded?: boolean }>('GET', `${s(store)}/search?q=${encodeURIComponent(q)}`),
  clear: (store: string) => call<unknown>('POST', `${s(store)}/clear`),
  annotate: (store: string, id: string, note: string) => call<{ note: string; at: string } | null>('PUT', `${s(store)}/exchanges/${encodeURIComponent(id)}/annotation`, { note }),
  replay: (store: string, id: string) => call<{ status: number }>('POST', `${s(store)}/exchanges/${encodeURIComponent(id)}/replay`),
  exportHar: (store: string, ids: string[]) => call<unknown>('POST', `${s(store)}/export.har`, { ids }),
  sessions: () => call<SessionMeta[]>('GET', '/api/sessions'),
  startRecording: (name: string) => call<unknown>('POST', '/api/sessions', { name }),
  stopRecording: () => call<SessionMeta>('POST', '/api/sessions/stop'),
  async sessionExport(id: string, format: 'har' | 'jsonl'): Promise<Blob> {
    const res = await fetch(`/api/sessions/${encodeURIComponent(id)}/export.${format}`, { headers: { Authorization: `Bearer ${token}` } });
    if (!res.ok) throw new ApiError(res.status, `HTTP ${res.status}`);
    return res.blob();
  },
};

/** Saves data as a file download (a blob link; the CSP allows it, no server round trip with the token). */
export function download(name: string, data: Blob | string, type = 'application/json'): void {
  const blob = typeof data === 'string' ? new Blob([data], { type }) : data;
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export interface Connection {
  watch(id: string | undefined): void;
  close(): void;
}

/** Opens the live stream of a store; reconnects (and gets a fresh snapshot) if it drops. */
export function connect(store: string, onMessage: (m: ServerMessage) => void, onState: (connected: boolean) => void): Connection {
  let ws: WebSocket | undefined;
  let closed = false;
  let watching: string | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const open = (): void => {
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    ws = new WebSocket(`${proto}://${location.host}/api/ws?token=${encodeURIComponent(token)}&store=${encodeURIComponent(store)}`);
    ws.onopen = () => {
      onState(true);
      if (watching) ws?.send(JSON.stringify({ type: 'watch', id: watching }));
    };
    ws.onmessage = (e) => {
      try {
        onMessage(JSON.parse(String(e.data)) as ServerMessage);
      } catch (err) {
        console.error('bad message from the inspector server', err);
      }
    };
    ws.onclose = () => {
      onState(false);
      if (!closed) retry = setTimeout(open, 1000);
    };
  };
  open();
  return {
    watch(id) {
      watching = id;
      if (ws?.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'watch', id }));
    },
    close() {
      closed = true;
      if (retry) clearTimeout(retry);
      ws?.close();
    },
  };
}
