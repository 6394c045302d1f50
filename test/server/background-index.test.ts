// `agenttap ui BIG.jsonl` answers while the capture is still being indexed: a WebSocket client
// gets the rows read so far with progress, then the full snapshot when indexing ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startInspector } from '../../src/server/inspector-server.js';
import type { ServerMessage } from '../../src/server/protocol.js';
import { writeCapture } from '../ui/capture-fixtures.js';

test('the page is served during indexing and gets the full snapshot at the end', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'agenttap-bg-'));
  try {
    const n = 40_000;
    await writeCapture(join(dir, 'big.jsonl'), n);
    const server = await startInspector({ file: join(dir, 'big.jsonl'), home: join(dir, 'home'), port: 0, background: true });
    let ready = false;
    void server.ready.then(() => (ready = true));
    try {
      const messages: ServerMessage[] = [];
      const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/ws?token=${server.token}`);
      ws.on('message', (d) => messages.push(JSON.parse(String(d)) as ServerMessage));
      await new Promise((r) => ws.once('message', r));
      const first = messages[0]!;
      assert.equal(first.type, 'snapshot');
      assert.equal(ready, false, 'the first snapshot came before indexing finished');
      assert.ok(first.type === 'snapshot' && first.loading && first.loading.total > 0, 'it says indexing is under way');
      await server.ready;
      await new Promise((r) => setTimeout(r, 100));
      const last = messages.filter((m) => m.type === 'snapshot').at(-1)!;
      assert.ok(last.type === 'snapshot');
      assert.equal(last.total, n);
      assert.equal(last.rows.length, 5000);
      assert.equal(last.older, n - 5000);
      assert.equal(last.loading, undefined);
      ws.close();
    } finally {
      await server.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
