// What a user (or an attacker on the same machine) notices about the inspector's door: no token,
// no data; loopback only unless asked; path parameters never reach the filesystem.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import WebSocket from 'ws';
import { startInspector, type InspectorServer } from '../../src/server/inspector-server.js';
import { writeCapture } from '../ui/capture-fixtures.js';

let dir: string;
let file: string;
let server: InspectorServer;
let base: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agenttap-inspector-'));
  file = join(dir, 'capture.jsonl');
  await writeCapture(file, 50, ['{"v":1,"id":"broken"', 'not json at all']);
  server = await startInspector({ file, home: join(dir, 'home'), port: 0 });
  base = `http://127.0.0.1:${server.port}`;
});

after(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

async function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; headers: Record<string, string | string[] | undefined> }> {
  const res = await request(base + path, { headers });
  return { status: res.statusCode, text: await res.body.text(), headers: res.headers };
}

const auth = (): Record<string, string> => ({ authorization: `Bearer ${server.token}` });

test('the page and every API answer 401 with no data without the token', async () => {
  for (const path of ['/', '/index.html', '/api/info', '/api/s/main/rows', '/api/sessions', '/api/s/main/search?q=needle1']) {
    const res = await get(path);
    assert.equal(res.status, 401, path);
    assert.doesNotMatch(res.text, /anthropic|needle|exchange":/, path);
  }
  const wrong = await get('/api/s/main/rows', { authorization: 'Bearer not-the-token' });
  assert.equal(wrong.status, 401);
  const withQuery = await get(`/?token=${server.token}x`);
  assert.equal(withQuery.status, 401);
});

test('with the token the page comes with a strict CSP and the rows are there', async () => {
  const page = await get(`/?token=${server.token}`);
  assert.equal(page.status, 200);
  const csp = String(page.headers['content-security-policy']);
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|\*/);
  assert.equal(page.headers['x-content-type-options'], 'nosniff');
  assert.doesNotMatch(page.text, /<script>(?!<\/script>)/, 'no inline script in the page');
  const rows = JSON.parse((await get('/api/s/main/rows?limit=100', auth())).text) as { rows: { host: string }[] };
  assert.equal(rows.rows.length, 50);
  assert.ok(rows.rows.some((r) => r.host === 'api.anthropic.com'));
});

test('the WebSocket refuses a connection without the token and sends a snapshot with it', async () => {
  const refused = await new Promise<number>((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/ws`);
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => resolve(101));
    ws.on('error', () => {});
  });
  assert.equal(refused, 401);
  const snapshot = await new Promise<{ type: string; rows: unknown[]; bad: { line: number }[] }>((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/api/ws?token=${server.token}`);
    ws.on('message', (d) => {
      resolve(JSON.parse(String(d)));
      ws.close();
    });
    ws.on('error', reject);
  });
  assert.equal(snapshot.type, 'snapshot');
  assert.equal(snapshot.rows.length, 50);
  assert.deepEqual(
    snapshot.bad.map((b) => b.line),
    [51, 52],
  );
});

test('a foreign Host header (DNS rebinding) is refused', async () => {
  const res = await get(`/api/info`, { ...auth(), host: 'evil.example:80' });
  assert.equal(res.status, 403);
});

test('path traversal in assets, session ids, store names and annotation ids is rejected', async () => {
  const cases: [string, number][] = [
    ['/assets/../../package.json', 404],
    ['/assets/%2e%2e/%2e%2e/package.json', 404],
    ['/assets/..%2f..%2fpackage.json', 404],
    ['/api/sessions/..%2f..%2fetc%2fpasswd/export.jsonl', 400],
    ['/api/sessions/../../etc/passwd/export.har', 404],
    ['/api/s/session-..%2f..%2fx/rows', 400],
    ['/api/s/..%2fmain/rows', 400],
    ['/api/s/main/exchanges/..%2f..%2fetc%2fpasswd', 400],
  ];
  for (const [path, status] of cases) {
    const res = await get(path, auth());
    assert.equal(res.status, status, path);
    assert.doesNotMatch(res.text, /"name":\s*"agenttap"|root:x:0/, path);
  }
  const put = await request(`${base}/api/s/main/exchanges/${encodeURIComponent('../../evil')}/annotation`, {
    method: 'PUT',
    headers: { ...auth(), 'content-type': 'application/json' },
    body: JSON.stringify({ note: 'x' }),
  });
  assert.equal(put.statusCode, 400);
  await put.body.dump();
  assert.deepEqual(await readdir(dir), ['capture.jsonl'], 'nothing was written outside the capture');
});

test('a note is saved beside the capture and shows on the row', async () => {
  const rows = JSON.parse((await get('/api/s/main/rows?limit=5', auth())).text) as { rows: { id: string }[] };
  const id = rows.rows[0]!.id;
  const put = await request(`${base}/api/s/main/exchanges/${id}/annotation`, {
    method: 'PUT',
    headers: { ...auth(), 'content-type': 'application/json' },
    body: JSON.stringify({ note: 'retry storm starts here' }),
  });
  assert.equal(put.statusCode, 200);
  await put.body.dump();
  const saved = JSON.parse(await readFile(`${file}.annotations.json`, 'utf8')) as Record<string, { note: string; at: string }>;
  assert.equal(saved[id]?.note, 'retry storm starts here');
  const detail = JSON.parse((await get(`/api/s/main/exchanges/${id}`, auth())).text) as { annotation?: { note: string }; row: { note?: boolean } };
  assert.equal(detail.annotation?.note, 'retry storm starts here');
  assert.equal(detail.row.note, true);
});

test('body search finds exchanges by text inside request bodies', async () => {
  const res = JSON.parse((await get('/api/s/main/search?q=needle16', auth())).text) as { seqs: number[] };
  assert.deepEqual(res.seqs, [16]);
});

test('the inspector refuses a non-loopback address unless allowed', async () => {
  await assert.rejects(startInspector({ host: '0.0.0.0', port: 0, home: join(dir, 'home') }), /refusing to serve the inspector on 0\.0\.0\.0/);
});
