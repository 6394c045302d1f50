// The inspector on a live capture proxy: a streaming Anthropic request made by curl through the
// proxy appears while in flight, its merged answer grows chunk by chunk, then it finishes.
// Replay resends it through the proxy (linked to the original), a named session is recorded,
// listed, reopened and exported, and Stats draws the traffic.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startCaptureProxy, type CaptureProxy } from '../../src/capture/capture-proxy.js';
import { parseMapRemote } from '../../src/engine/map-remote.js';
import { startLiveInspector } from '../../src/cli/ui.js';
import type { InspectorServer } from '../../src/server/inspector-server.js';
import { readAllRecords } from '../../src/capture/reader.js';
import { launch, openPage, screenshot } from './browser.js';

const PARTS = ['Tapping ', 'the ', 'wire ', 'between ', 'agents ', 'and ', 'models, ', 'one ', 'chunk ', 'at ', 'a ', 'time.'];
const GAP_MS = 400;

let dir: string;
let upstream: Server;
let capture: CaptureProxy;
let inspector: InspectorServer;
let browser: Browser;

/** A slow Anthropic Messages upstream: one text delta every GAP_MS. */
function slowAnthropic(): Server {
  return createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const ev = (name: string, data: unknown): string => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write(
        ev('message_start', { type: 'message_start', message: { id: 'msg_live', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [], stop_reason: null, usage: { input_tokens: 12, output_tokens: 1 } } }) +
          ev('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
      );
      let i = 0;
      const timer = setInterval(() => {
        if (i < PARTS.length) {
          res.write(ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: PARTS[i++] } }));
          return;
        }
        clearInterval(timer);
        res.end(
          ev('content_block_stop', { type: 'content_block_stop', index: 0 }) +
            ev('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 17 } }) +
            ev('message_stop', { type: 'message_stop' }),
        );
      }, GAP_MS);
      res.on('close', () => clearInterval(timer));
    });
  });
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agenttap-live-'));
  process.env.AGENTTAP_HOME = join(dir, 'home');
  upstream = slowAnthropic();
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const up = upstream.address() as AddressInfo;
  capture = await startCaptureProxy({
    home: join(dir, 'home'),
    port: 0,
    host: '127.0.0.1',
    out: join(dir, 'live.jsonl'),
    mapRemote: [parseMapRemote(`api.anthropic.com=http://127.0.0.1:${up.port}`)],
  });
  inspector = (await startLiveInspector(capture, { ui: '0' }, true))!;
  await writeFile(join(dir, 'ca.pem'), capture.ca.certPem);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await inspector?.close();
  await capture?.close();
  await new Promise<void>((r) => upstream.close(() => r()));
  delete process.env.AGENTTAP_HOME;
  await rm(dir, { recursive: true, force: true });
});

/** curl through the proxy to https://api.anthropic.com (mapped to the slow upstream). */
function curlStream(prompt: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, stream: true, system: 'You are a live test.', messages: [{ role: 'user', content: prompt }] });
    const child = spawn('curl', ['-sS', '-N', '--cacert', join(dir, 'ca.pem'), '-x', capture.address!.url, 'https://api.anthropic.com/v1/messages',
      '-H', 'content-type: application/json', '-H', 'x-api-key: sk-ant-test-0000000000000000', '-H', 'anthropic-version: 2023-06-01', '-H', 'user-agent: claude-cli/2.0.0 (external, cli)', '--data-binary', body]);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, out }));
  });
}

async function mergedText(page: Page): Promise<string> {
  return (await page.locator('[data-testid=merged] .bubble[data-role=assistant]').textContent().catch(() => '')) ?? '';
}

test('a streaming request shows live and its merged answer grows chunk by chunk', async () => {
  const w = await openPage(browser, inspector.url);
  const { page } = w;
  await page.waitForSelector('[data-testid=conn]:has-text("live")');
  const done = curlStream('stream to me slowly');
  const row = page.locator('.row.live[data-id]').first();
  await row.waitFor({ timeout: 10_000 });
  assert.match((await row.locator('.c-status').textContent()) ?? '', /^(200)?…$/, 'in flight');
  await row.click();
  await page.locator('[data-tab=response]').click();
  await page.locator('[data-mode=merged]').click();
  // Watch the merged text grow: record what it held at several moments while the stream runs.
  const seen: string[] = [];
  const until = Date.now() + PARTS.length * GAP_MS + 3000;
  while (Date.now() < until) {
    const text = await mergedText(page);
    if (text && text !== seen[seen.length - 1]) {
      seen.push(text);
      if (seen.length === 3) await screenshot(page, 'live-stream-growing');
    }
    if (text.includes('time.')) break;
    await page.waitForTimeout(120);
  }
  const result = await done;
  assert.equal(result.code, 0, result.out);
  assert.ok(seen.length >= 4, `the merged text was seen growing in steps: ${JSON.stringify(seen)}`);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.startsWith(seen[i - 1]!) && seen[i]!.length > seen[i - 1]!.length, `each view extends the last: ${JSON.stringify(seen)}`);
  assert.ok(!seen[0]!.includes('time.'), 'the first view was partial');
  await page.waitForSelector('.row:not(.live).sel');
  await page.waitForSelector('[data-testid=streaming]', { state: 'detached' });
  assert.match((await mergedText(page)) ?? '', /Tapping the wire between agents and models, one chunk at a time\./);
  await page.locator('[data-tab=timing]').click();
  assert.ok((await page.locator('[data-testid=chunk-ticks] .wf-tick').count()) >= PARTS.length, 'every chunk has a tick on the waterfall');
  await screenshot(page, 'live-stream-finished');
  assert.equal(await page.locator('.row.sel .c-status').textContent(), '200');
  assert.equal(await page.locator('.row.sel .badge').textContent(), 'CC');
  assert.deepEqual(w.external, []);
  await page.context().close();
});

test('replay resends through the proxy and the new exchange links to the original', async () => {
  const { page } = await openPage(browser, inspector.url);
  await page.waitForSelector('.row[data-id]');
  const original = await page.locator('.row[data-id]').first().getAttribute('data-id');
  await page.locator('.row[data-id]').first().click();
  await page.locator('button', { hasText: 'replay' }).click();
  await page.waitForFunction(() => /replayed|failed/.test((globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document.querySelector('[data-testid=action-status]')?.textContent ?? ''), undefined, { timeout: 20_000 });
  assert.match((await page.locator('[data-testid=action-status]').textContent()) ?? '', /replayed: upstream answered 200/);
  const replayRow = page.locator('.row[data-id]').nth(1);
  await replayRow.waitFor();
  await replayRow.click();
  await page.waitForSelector('.detail-sub >> text=replay of');
  await capture.recorder.flush();
  await new Promise((r) => setTimeout(r, 200));
  const records = await readAllRecords(join(dir, 'live.jsonl'));
  const replay = records.find((r) => r.replayOf === original);
  assert.ok(replay, 'the capture file links the replay to its original');
  assert.equal(replay.request?.url, 'https://api.anthropic.com/v1/messages');
  assert.equal(replay.response?.status, 200);
  await page.context().close();
});

test('a named session is recorded, listed, reopened and exported as HAR and JSONL', async () => {
  const { page } = await openPage(browser, inspector.url);
  await page.waitForSelector('[data-testid=conn]:has-text("live")');
  await page.click('[data-testid=rec]');
  await page.fill('.rec-name', 'weather <b>bug</b> hunt');
  await page.click('[data-testid=rec-start]');
  await page.waitForSelector('[data-testid=recording]');
  const r = await curlStream('inside the session');
  assert.equal(r.code, 0);
  await page.waitForFunction(() => /1 reqs/.test((globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document.querySelector('[data-testid=recording]')?.textContent ?? ''), undefined, { timeout: 10_000 });
  await page.locator('[data-testid=recording] button', { hasText: 'stop' }).click();
  await page.waitForSelector('text=saved session "weather <b>bug</b> hunt" (1 exchanges)');
  const files = await readdir(join(dir, 'home', 'sessions'));
  assert.equal(files.filter((f) => f.endsWith('.jsonl')).length, 1);
  await page.locator('[data-testid=sessions] option', { hasText: 'weather <b>bug</b> hunt' }).waitFor({ state: 'attached' });
  const options = await page.locator('[data-testid=sessions] option').allTextContents();
  assert.ok(options.some((o) => o.startsWith('weather <b>bug</b> hunt · 1')), JSON.stringify(options));
  const value = await page.locator('[data-testid=sessions] option').nth(1).getAttribute('value');
  await page.selectOption('[data-testid=sessions]', value!);
  await page.waitForSelector('[data-testid=session-banner]');
  assert.match((await page.locator('[data-testid=session-banner]').textContent()) ?? '', /Viewing recorded session “weather <b>bug<\/b> hunt”/);
  await page.click('[data-testid=profile-all]');
  await page.waitForFunction(() => (globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document.querySelector('[data-testid=counts]')?.textContent === '1 shown / 1');
  const [har] = await Promise.all([page.waitForEvent('download'), page.locator('[data-testid=session-banner] button', { hasText: 'HAR' }).click()]);
  const harDoc = JSON.parse(await readFile((await har.path())!, 'utf8')) as { log: { entries: { request: { url: string; postData?: { text: string } } }[] } };
  assert.equal(harDoc.log.entries.length, 1);
  assert.match(harDoc.log.entries[0]!.request.postData?.text ?? '', /inside the session/);
  const [jsonl] = await Promise.all([page.waitForEvent('download'), page.locator('[data-testid=session-banner] button', { hasText: 'JSONL' }).click()]);
  const lines = (await readFile((await jsonl.path())!, 'utf8')).trim().split('\n');
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /inside the session/);
  await page.click('[data-testid=stats-toggle]');
  await page.waitForSelector('[data-testid=stats]');
  assert.equal(await page.locator('[data-testid=chart-tokens]').getAttribute('data-bars'), '1');
  await screenshot(page, 'session-stats');
  await page.locator('[data-testid=session-banner] button', { hasText: 'back to' }).click();
  await page.waitForSelector('[data-testid=conn]:has-text("live")');
  await page.context().close();
});

test('pause holds new exchanges back with a count, resume shows them', async () => {
  const { page } = await openPage(browser, inspector.url);
  await page.waitForSelector('[data-testid=conn]:has-text("live")');
  await page.click('[data-testid=profile-all]');
  const before = await page.locator('.row[data-id]').count();
  await page.click('[data-testid=pause]');
  const r = await curlStream('while paused');
  assert.equal(r.code, 0);
  await page.waitForSelector('[data-testid=pause]:has-text("resume (1 new)")', { timeout: 10_000 });
  assert.equal(await page.locator('.row[data-id]').count(), before, 'nothing new is listed while paused');
  await page.click('[data-testid=pause]');
  await page.waitForFunction((n) => (globalThis as unknown as { document: { querySelectorAll(s: string): { length: number } } }).document.querySelectorAll('.row[data-id]').length === n + 1, before);
  await page.context().close();
});
