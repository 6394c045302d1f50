// "Export HAR" downloads the filtered list as HAR 1.2, and `agenttap import` reads it back into
// the same exchanges.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { startInspector, type InspectorServer } from '../../src/server/inspector-server.js';
import { readAllRecords } from '../../src/capture/reader.js';
import type { CaptureRecord } from '../../src/capture/record.js';
import { claudeCodeCapture } from './claude-code-capture.js';
import { launch, openPage } from './browser.js';

let dir: string;
let server: InspectorServer;
let browser: Browser;
let records: CaptureRecord[];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agenttap-har-'));
  records = await claudeCodeCapture(join(dir, 'cc.jsonl'));
  server = await startInspector({ file: join(dir, 'cc.jsonl'), home: join(dir, 'home'), port: 0 });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

test('the filtered list exported as HAR imports back with agenttap import', async () => {
  const { page } = await openPage(browser, server.url);
  await page.click('[data-testid=profile-all]');
  await page.fill('[data-testid=search]', 'claude-sonnet-4');
  const sonnet = records.filter((r) => r.request?.body?.text?.includes('claude-sonnet-4'));
  await page.waitForFunction((n) => (globalThis as any).document.querySelector('[data-testid=counts]')?.textContent?.startsWith(`${n} shown`), sonnet.length, { timeout: 30_000 });
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-har]')]);
  const har = join(dir, 'export.har');
  await download.saveAs(har);
  const doc = JSON.parse(await readFile(har, 'utf8')) as { log: { version: string; entries: { request: { url: string } }[] } };
  assert.equal(doc.log.version, '1.2');
  assert.equal(doc.log.entries.length, sonnet.length);

  const out = join(dir, 'back.jsonl');
  await promisify(execFile)(process.execPath, [resolve('bin/agenttap.js'), 'import', har, '-o', out], { env: { ...process.env, AGENTTAP_HOME: join(dir, 'home') } });
  const back = await readAllRecords(out);
  assert.equal(back.length, sonnet.length);
  for (let i = 0; i < back.length; i++) {
    assert.equal(back[i]!.request?.url, sonnet[i]!.request?.url);
    assert.equal(back[i]!.request?.body?.text, sonnet[i]!.request?.body?.text);
    assert.equal(back[i]!.response?.status, sonnet[i]!.response?.status);
    assert.equal(back[i]!.response?.body?.text, sonnet[i]!.response?.body?.text);
  }
  await page.context().close();
});
