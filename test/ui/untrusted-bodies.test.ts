// Bodies, headers and URLs are whatever the wire carried: a response full of HTML/JS must show as
// text and execute nothing (no script, no onerror handler, no dialog), in every tab and view.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { startInspector, type InspectorServer } from '../../src/server/inspector-server.js';
import { anthropicRecord } from './capture-fixtures.js';
import type { CaptureRecord } from '../../src/capture/record.js';
import { launch, openPage, screenshot } from './browser.js';

const SCRIPT = '<script>window.__xss = "script"; alert("script")</script>';
const IMG = '<img src="x-probe.png" onerror="window.__xss = \'img\'; alert(\'img\')">';
const SVG = '<svg onload="window.__xss=\'svg\'"></svg><iframe src="javascript:window.parent.__xss=\'iframe\'"></iframe>';
const PAYLOAD = `${SCRIPT}${IMG}${SVG}`;

let dir: string;
let server: InspectorServer;
let browser: Browser;
const records: CaptureRecord[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agenttap-xss-'));
  const t = Date.parse('2026-11-23T09:00:00Z');
  // An LLM exchange whose prompt and answer carry the payload (Conversation, JSON tree, SSE events).
  records.push(anthropicRecord(0, t, { body: PAYLOAD, text: PAYLOAD, stream: true }));
  records.push(anthropicRecord(1, t + 10, { body: PAYLOAD, text: PAYLOAD, stream: false }));
  // A plain HTML page response, a hostile header and a hostile path.
  const html = `<!doctype html><html><body>${PAYLOAD}</body></html>`;
  records.push({
    v: 1,
    id: '019aaaaa-0000-7000-8000-000000000003',
    kind: 'http',
    mode: 'forward',
    startedAt: new Date(t + 20).toISOString(),
    server: { host: 'evil.example', port: 443, tls: true },
    request: { method: 'GET', url: `https://evil.example/${encodeURIComponent(IMG)}?q=${encodeURIComponent(SCRIPT)}`, httpVersion: '1.1', headers: [['x-evil', PAYLOAD], ['authorization', 'Bearer sk-live-secret-value-9876']] },
    response: { status: 200, httpVersion: '1.1', headers: [['content-type', 'text/html'], ['set-cookie', PAYLOAD]], body: { text: html, size: html.length } },
    timing: { ttfbMs: 5, totalMs: 6 },
    error: null,
    labels: { session: PAYLOAD },
  });
  await writeFile(join(dir, 'x.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  server = await startInspector({ file: join(dir, 'x.jsonl'), home: join(dir, 'home'), port: 0 });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

test('HTML and script in bodies, headers, URLs and labels render as text and never run', async () => {
  const w = await openPage(browser, server.url);
  const { page } = w;
  await page.click('[data-testid=profile-all]');
  await page.waitForSelector('.row[data-id]');
  const ids = records.map((r) => r.id);
  for (const id of ids) {
    await page.click(`.row[data-id="${id}"]`);
    await page.waitForSelector('.detail-head');
    for (const tab of ['conversation', 'headers', 'request', 'response', 'timing', 'llm']) {
      const button = page.locator(`[data-tab=${tab}]`);
      if (await button.isDisabled()) continue;
      await button.click();
      // Every view mode of the body tabs (raw, JSON tree, SSE events, merged).
      for (const mode of await page.locator('.body-bar [data-mode]').all()) {
        await mode.click();
        await page.waitForTimeout(30);
      }
      await page.locator('[data-testid=note-toggle]').count();
    }
    // Expand the JSON tree and the SSE events fully, so every string is in the DOM.
    for (const d of await page.locator('details:not([open])').all()) await d.evaluate((el) => ((el as unknown as { open: boolean }).open = true));
    await page.locator('[data-tab=headers]').click();
    await page.locator('text=show secrets').click();
  }
  await page.locator(`.row[data-id="${ids[0]}"]`).click();
  await page.waitForSelector(`.detail-sub:has-text("${ids[0]}")`);
  await page.locator(`.row[data-id="${ids[2]}"]`).click();
  await page.waitForSelector(`.detail-sub:has-text("${ids[2]}")`);
  // Secrets are masked in the Headers tab until asked for, again for each exchange.
  await page.locator('[data-tab=headers]').click();
  const auth = page.locator('table.kv tr', { hasText: 'authorization' }).locator('td');
  assert.equal(await auth.textContent(), '•••••••• …9876');
  await page.locator('text=show secrets').click();
  assert.equal(await auth.textContent(), 'Bearer sk-live-secret-value-9876');
  await page.locator('[data-tab=response]').click();
  await page.locator('[data-mode=raw]').click();
  const raw = await page.locator('[data-testid=response-raw]').textContent();
  assert.ok(raw?.includes('<script>window.__xss'), 'the script shows as text');
  assert.ok(raw?.includes('onerror='), 'the img tag shows as text');
  await screenshot(page, 'untrusted-bodies');
  await page.waitForTimeout(300);
  const flag = await page.evaluate(() => (globalThis as unknown as { __xss?: string }).__xss);
  assert.equal(flag, undefined, 'no payload ran');
  assert.deepEqual(w.dialogs, [], 'no dialog opened');
  assert.equal(await page.locator('.detail img, .detail script, .detail iframe, .detail svg[onload]').count(), 0, 'no element was created from a body');
  assert.deepEqual(w.external, []);
  assert.ok(!w.consoleErrors.some((e) => /x-probe/.test(e)), 'the probe image was never requested');
  await page.context().close();
});
