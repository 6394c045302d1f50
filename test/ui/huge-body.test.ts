// A 3 MB response body does not freeze the page: the Response tab shows its head with a
// "show all" button, which then loads the whole body.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { startInspector, type InspectorServer } from '../../src/server/inspector-server.js';
import type { CaptureRecord } from '../../src/capture/record.js';
import { launch, openPage, screenshot } from './browser.js';

let dir: string;
let server: InspectorServer;
let browser: Browser;
const text = `${'0123456789abcdef'.repeat(196_608)}THE-END-MARKER`;
const record: CaptureRecord = {
  v: 1,
  id: '019bbbbb-0000-7000-8000-000000000001',
  kind: 'http',
  mode: 'forward',
  startedAt: '2026-11-23T09:00:00.000Z',
  server: { host: 'files.example', port: 443, tls: true },
  request: { method: 'GET', url: 'https://files.example/big.txt', httpVersion: '1.1', headers: [] },
  response: { status: 200, httpVersion: '1.1', headers: [['content-type', 'text/plain']], body: { text, size: text.length } },
  timing: { ttfbMs: 3, totalMs: 90 },
  error: null,
};

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agenttap-huge-'));
  await writeFile(join(dir, 'huge.jsonl'), JSON.stringify(record) + '\n');
  server = await startInspector({ file: join(dir, 'huge.jsonl'), home: join(dir, 'home'), port: 0 });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

test('a huge body shows its head first and all of it on request', async () => {
  const { page } = await openPage(browser, server.url);
  await page.click('[data-testid=profile-all]');
  await page.click(`.row[data-id="${record.id}"]`);
  await page.click('[data-tab=response]');
  const banner = page.locator('.banner', { hasText: 'Showing the first' });
  await banner.waitFor();
  assert.match((await banner.textContent()) ?? '', /Showing the first 256 KB of 3\.0 MB/);
  const head = (await page.locator('[data-testid=response-raw]').textContent()) ?? '';
  assert.equal(head.length, 256 * 1024);
  assert.ok(!head.includes('THE-END-MARKER'));
  await screenshot(page, 'huge-body-head');
  await banner.locator('button', { hasText: 'show all' }).click();
  await page.waitForFunction(() => ((globalThis as unknown as { document: { querySelector(s: string): { textContent: string | null } | null } }).document.querySelector('[data-testid=response-raw]')?.textContent ?? '').endsWith('THE-END-MARKER'));
  assert.equal(((await page.locator('[data-testid=response-raw]').textContent()) ?? '').length, text.length);
  await page.context().close();
});
