// Builds capture records (v1) by hand for LLM-layer tests: a request JSON body and a response body
// (SSE text, JSON, or bytes), as the recorder would have written them.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaptureRecord, HeaderList, RecordBody } from '../../src/capture/record.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** Repo root (dist/test/support → ../../..). */
export const repoRoot = path.resolve(here, '../../..');
export const fixturesDir = path.resolve(repoRoot, '../shared/fixtures');

export function fixture(rel: string): string {
  return readFileSync(path.join(fixturesDir, rel), 'utf8');
}

let seq = 0;

export interface MakeRecord {
  url: string;
  method?: string;
  requestHeaders?: HeaderList;
  requestBody?: unknown;
  status?: number;
  responseHeaders?: HeaderList;
  /** Text body (SSE or JSON text) or bytes. */
  responseBody?: string | Buffer | object;
  kind?: 'http' | 'websocket';
  ws?: CaptureRecord['ws'];
  labels?: Record<string, string>;
}

export function makeRecord(m: MakeRecord): CaptureRecord {
  seq++;
  const u = new URL(m.url);
  const reqText = m.requestBody === undefined ? undefined : typeof m.requestBody === 'string' ? m.requestBody : JSON.stringify(m.requestBody);
  let respBody: RecordBody | undefined;
  if (m.responseBody === undefined) respBody = undefined;
  else if (Buffer.isBuffer(m.responseBody)) respBody = { base64: m.responseBody.toString('base64'), size: m.responseBody.length };
  else {
    const text = typeof m.responseBody === 'string' ? m.responseBody : JSON.stringify(m.responseBody);
    respBody = { text, size: Buffer.byteLength(text) };
  }
  const isSse = typeof m.responseBody === 'string' && /^\s*(event|data):/.test(m.responseBody);
  const record: CaptureRecord = {
    v: 1,
    id: `0193f1c2-0000-7000-8000-${String(seq).padStart(12, '0')}`,
    kind: m.kind ?? 'http',
    mode: 'forward',
    startedAt: new Date(Date.UTC(2026, 10, 23, 8, 0, seq)).toISOString(),
    server: { host: u.hostname, port: u.port ? Number(u.port) : u.protocol === 'https:' || u.protocol === 'wss:' ? 443 : 80, tls: u.protocol === 'https:' || u.protocol === 'wss:' },
    request: {
      method: m.method ?? 'POST',
      url: m.url,
      httpVersion: '1.1',
      headers: m.requestHeaders ?? [['content-type', 'application/json']],
      ...(reqText !== undefined ? { body: { text: reqText, size: Buffer.byteLength(reqText) } } : {}),
    },
    response: {
      status: m.status ?? (m.kind === 'websocket' ? 101 : 200),
      httpVersion: '1.1',
      headers: m.responseHeaders ?? [['content-type', isSse ? 'text/event-stream' : 'application/json']],
      ...(respBody ? { body: respBody } : {}),
    },
    error: null,
  };
  if (m.ws) record.ws = m.ws;
  if (m.labels) record.labels = m.labels;
  return record;
}
