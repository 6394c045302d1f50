// One line per finished exchange while `agenttap proxy` runs: time, method, host+path, status,
// duration, bytes (text), or one JSON object per exchange (--json).
import type { CaptureRecord } from '../capture/record.js';

function hostPath(r: CaptureRecord): string {
  if (r.kind === 'tunnel' || !r.request) return `${r.server.host}:${r.server.port}`;
  try {
    const u = new URL(r.request.url);
    return `${u.host}${u.pathname}`;
  } catch {
    return r.request.url || r.server.host;
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

function bytesOf(r: CaptureRecord): number {
  if (r.tunnel) return r.tunnel.bytesUp + r.tunnel.bytesDown;
  return (r.response?.body?.wireSize ?? r.response?.body?.size ?? 0);
}

function durationOf(r: CaptureRecord): number {
  return Math.round(r.tunnel?.durationMs ?? r.timing?.totalMs ?? 0);
}

export function exchangeLine(r: CaptureRecord): string {
  const time = new Date(r.startedAt).toTimeString().slice(0, 8);
  const method = r.kind === 'tunnel' ? 'TUNNEL' : r.kind === 'websocket' ? 'WS' : (r.request?.method ?? '?');
  const status = r.response ? String(r.response.status) : r.error ? 'ERR' : '-';
  const err = r.error ? `  ${r.error.phase}: ${r.error.message}` : '';
  return `${time} ${method.padEnd(6)} ${hostPath(r)} ${status} ${durationOf(r)}ms ${formatBytes(bytesOf(r))}${err}`;
}

export function exchangeJson(r: CaptureRecord): string {
  return JSON.stringify({
    type: 'exchange',
    id: r.id,
    time: r.startedAt,
    kind: r.kind,
    method: r.request?.method,
    url: r.request?.url,
    host: r.server.host,
    status: r.response?.status ?? null,
    durationMs: durationOf(r),
    bytes: bytesOf(r),
    error: r.error,
  });
}
