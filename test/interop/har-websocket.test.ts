import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { uuidv7 } from '../../src/capture/ids.js';
import { readAllRecords } from '../../src/capture/reader.js';
import type { CaptureRecord } from '../../src/capture/record.js';
import { agenttap, tempDir } from '../support/analysis-cli.js';
import { writeCapture } from '../support/analysis-records.js';

test('HAR export carries WebSocket messages (Chrome _webSocketMessages) and leaves tunnel rows out, saying so', async () => {
  const t = Date.UTC(2026, 10, 23, 7, 0, 0);
  const ws: CaptureRecord = {
    v: 1,
    id: uuidv7(t),
    kind: 'websocket',
    mode: 'forward',
    startedAt: new Date(t).toISOString(),
    client: { ip: '127.0.0.1', port: 5555, pid: 99, process: 'codex' },
    server: { host: 'api.openai.com', port: 443, tls: true, alpn: 'http/1.1' },
    request: { method: 'GET', url: 'wss://api.openai.com/v1/responses', httpVersion: '1.1', headers: [['upgrade', 'websocket'], ['authorization', '[REDACTED …abcd]']] },
    response: { status: 101, httpVersion: '1.1', headers: [['upgrade', 'websocket']] },
    ws: [
      { t: 5, from: 'client', type: 'text', text: '{"type":"response.create","model":"gpt-5"}', size: 42 },
      { t: 120, from: 'server', type: 'text', text: '{"type":"response.created"}', size: 27 },
      { t: 130, from: 'server', type: 'binary', base64: 'AAEC', size: 3 },
    ],
    wsClose: { code: 1000, reason: 'done', by: 'client' },
    timing: { ttfbMs: 40, totalMs: 200 },
    error: null,
  };
  const tunnel: CaptureRecord = { v: 1, id: uuidv7(t + 1), kind: 'tunnel', mode: 'forward', startedAt: new Date(t + 1).toISOString(), server: { host: 'pinned.example', port: 443, tls: true }, tunnel: { bytesUp: 10, bytesDown: 20, durationMs: 5, reason: 'passthrough' }, error: null };
  const dir = tempDir();
  const capture = join(dir, 'ws.jsonl');
  writeCapture(capture, [ws, tunnel]);
  const har = join(dir, 'ws.har');
  const r = agenttap(['export', capture, '--format', 'har', '-o', har]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /exported 1 exchange\(s\) as har .*1 tunnel row\(s\) have no HTTP exchange and were left out/);
  const entry = (JSON.parse(readFileSync(har, 'utf8')) as { log: { entries: Record<string, unknown>[] } }).log.entries[0]!;
  assert.equal(entry._resourceType, 'websocket');
  assert.deepEqual(entry._webSocketMessages, [
    { type: 'send', time: t / 1000 + 0.005, opcode: 1, data: '{"type":"response.create","model":"gpt-5"}' },
    { type: 'receive', time: t / 1000 + 0.12, opcode: 1, data: '{"type":"response.created"}' },
    { type: 'receive', time: t / 1000 + 0.13, opcode: 2, data: 'AAEC' },
  ]);
  const back = join(dir, 'back.jsonl');
  assert.equal(agenttap(['import', har, '-o', back]).code, 0);
  const [again] = await readAllRecords(back);
  assert.equal(again!.kind, 'websocket');
  assert.equal(again!.id, ws.id);
  assert.deepEqual(again!.ws, ws.ws);
  assert.deepEqual(again!.wsClose, ws.wsClose);
  assert.deepEqual(again!.client, ws.client);
  assert.equal(again!.labels!.originalMode, 'forward');
});
