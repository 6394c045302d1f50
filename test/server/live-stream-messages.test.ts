// The inspector's WebSocket on a live capture proxy: a snapshot on connect, then a `new` row
// while the exchange is in flight, `update`s as it streams, the finished row, and `clear`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { request } from 'undici';
import { startCaptureProxy } from '../../src/capture/capture-proxy.js';
import { startInspector } from '../../src/server/inspector-server.js';
import type { Row, ServerMessage } from '../../src/server/protocol.js';

test('snapshot, then new → update → done rows for a streaming exchange, then clear', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'agenttap-wsmsg-'));
  const upstream = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let i = 0;
    const t = setInterval(() => {
      if (i++ < 5) res.write(`data: {"n":${i}}\n\n`);
      else {
        clearInterval(t);
        res.end('data: [DONE]\n\n');
      }
    }, 150);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const capture = await startCaptureProxy({ home: join(dir, 'home'), port: 0, host: '127.0.0.1', out: join(dir, 'c.jsonl') });
  const inspector = await startInspector({ live: { recorder: capture.recorder, outFile: join(dir, 'c.jsonl'), proxyUrl: capture.address!.url }, home: join(dir, 'home'), port: 0 });
  try {
    const messages: ServerMessage[] = [];
    const ws = new WebSocket(`ws://127.0.0.1:${inspector.port}/api/ws?token=${inspector.token}`);
    ws.on('message', (d) => messages.push(JSON.parse(String(d)) as ServerMessage));
    await new Promise((r) => ws.once('message', r));
    assert.equal(messages[0]!.type, 'snapshot');
    const url = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/stream`;
    const curl = spawn('curl', ['-sN', '-x', capture.address!.url, url]);
    let body = '';
    curl.stdout.on('data', (d: Buffer) => (body += d.toString()));
    await new Promise((r) => curl.on('close', r));
    assert.match(body, /\[DONE\]/);
    await capture.recorder.flush();
    await new Promise((r) => setTimeout(r, 300));
    const rows: { kind: 'new' | 'update'; row: Row }[] = [];
    for (const m of messages) if (m.type === 'batch') for (const k of ['new', 'update'] as const) for (const row of m[k]) rows.push({ kind: k, row });
    assert.equal(rows[0]!.kind, 'new');
    assert.equal(rows[0]!.row.state, 'live', 'the exchange shows while in flight');
    const growing = rows.filter((r) => r.row.state === 'live' && r.row.size > 0).map((r) => r.row.size);
    assert.ok(growing.length >= 2, `the in-flight row grew in steps: ${JSON.stringify(growing)}`);
    for (let i = 1; i < growing.length; i++) assert.ok(growing[i]! >= growing[i - 1]!);
    const last = rows.at(-1)!.row;
    assert.equal(last.state, 'done');
    assert.equal(last.status, 200);
    assert.equal(last.path, '/stream');
    assert.equal(new Set(rows.map((r) => r.row.id)).size, 1, 'one exchange, one row');

    const cleared = await request(`http://127.0.0.1:${inspector.port}/api/s/main/clear`, { method: 'POST', headers: { authorization: `Bearer ${inspector.token}` } });
    assert.equal(cleared.statusCode, 200);
    await cleared.body.dump();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(messages.at(-1)!.type, 'clear');
    assert.equal(inspector.store.size, 0);
    ws.close();
  } finally {
    await inspector.close();
    await capture.close();
    await new Promise<void>((r) => upstream.close(() => r()));
    await rm(dir, { recursive: true, force: true });
  }
});
