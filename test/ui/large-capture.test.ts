// A capture of 100,000 exchanges opens, scrolls and filters in the browser; bad lines are named
// in a banner; the keyboard moves through the list, / focuses search and Esc clears it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { startInspector, type InspectorServer } from '../../src/server/inspector-server.js';
import { captureCounts, writeCapture } from './capture-fixtures.js';
import { launch, openPage, screenshot } from './browser.js';

const N = 100_000;
let dir: string;
let server: InspectorServer;
let browser: Browser;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agenttap-100k-'));
  await writeCapture(join(dir, 'big.jsonl'), N, ['{"v":1,"id":', '{"v":7,"id":"x","kind":"http","server":{}}']);
  server = await startInspector({ file: join(dir, 'big.jsonl'), home: join(dir, 'home'), port: 0 });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

async function counts(page: Page): Promise<string> {
  return (await page.locator('[data-testid=counts]').textContent()) ?? '';
}

async function waitCounts(page: Page, text: string): Promise<void> {
  await page.waitForFunction((t) => (globalThis as any).document.querySelector('[data-testid=counts]')?.textContent === t, text, { timeout: 60_000 });
}

test('a 100,000-exchange capture opens, loads on demand, scrolls and filters', async () => {
  const expected = captureCounts(N);
  const w = await openPage(browser, server.url);
  const { page } = w;
  await page.click('[data-testid=profile-all]');
  await waitCounts(page, `5,000 shown / 100,000`);
  assert.ok((await page.locator('.row[data-id]').count()) < 150, 'only the rows in view are in the DOM');

  const banner = (await page.locator('[data-testid=bad-lines]').textContent()) ?? '';
  assert.match(banner, /2 bad lines/);
  assert.match(banner, /line 100001 \(torn last line|line 100001 \(malformed JSON/);
  assert.match(banner, /line 100002 \(unsupported record version 7/);

  // Older exchanges come from the file on demand.
  await page.locator('.list').evaluate((el) => (el.scrollTop = 0));
  await page.waitForSelector('.row.older');
  assert.match((await page.locator('.row.older').textContent()) ?? '', /95,000 older exchanges/);
  await page.locator('.row.older button', { hasText: 'load all' }).click();
  await waitCounts(page, `100,000 shown / 100,000`);

  // Scroll to the middle: the row there is exchange #50,000 of the file.
  await page.locator('.list').evaluate((el) => (el.scrollTop = 50_000 * 24));
  const mid = server.store.allRows()[50_000]!;
  await page.waitForSelector(`.row[data-id="${mid.id}"]`);
  await screenshot(page, 'large-capture-scrolled');

  // Filters: host, status class, body search; Esc clears the search.
  await page.fill('[data-testid=filter-host]', 'registry.example');
  await waitCounts(page, `${expected.other.toLocaleString('en-US')} shown / 100,000`);
  await page.selectOption('[data-testid=filter-status]', '4xx');
  await waitCounts(page, `${expected.status4xx.toLocaleString('en-US')} shown / 100,000`);
  await page.selectOption('[data-testid=filter-status]', '');
  await page.fill('[data-testid=filter-host]', '');
  await waitCounts(page, `100,000 shown / 100,000`);

  await page.locator('.list').click({ position: { x: 5, y: 5 } });
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => (globalThis as any).document.activeElement?.getAttribute('data-testid')), 'search');
  await page.keyboard.type('needle12340');
  await waitCounts(page, `1 shown / 100,000`);
  const only = page.locator('.row[data-id]');
  assert.equal(await only.count(), 1);
  assert.equal(await only.getAttribute('data-id'), server.store.allRows()[12_340]!.id);
  await screenshot(page, 'large-capture-search');
  await page.keyboard.press('Escape');
  await waitCounts(page, `100,000 shown / 100,000`);

  // Keyboard: ↓ selects, ↓ again moves to the next row, ↑ back.
  await page.locator('.list').evaluate((el) => (el.scrollTop = 0));
  await page.locator('.row[data-id]').first().click();
  const first = await page.locator('.row.sel').getAttribute('data-id');
  await page.keyboard.press('ArrowDown');
  await page.waitForFunction((id) => (globalThis as any).document.querySelector('.row.sel')?.getAttribute('data-id') !== id, first);
  const second = await page.locator('.row.sel').getAttribute('data-id');
  assert.equal(second, server.store.allRows()[1]!.id);
  await page.keyboard.press('ArrowUp');
  await page.waitForFunction((id) => (globalThis as any).document.querySelector('.row.sel')?.getAttribute('data-id') === id, first);
  await page.waitForSelector('.detail-head');
  assert.match((await page.locator('.detail-title').textContent()) ?? '', /api\.anthropic\.com\/v1\/messages/);
  assert.deepEqual(w.external, []);
  assert.ok(/ shown \/ 100,000/.test(await counts(page)));
  await page.context().close();
});
