// The HTML report opened from disk in headless Debian Chromium: no network request, no script
// from the capture runs, search filters exchanges and opens the matches, collapse/expand work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { agenttap, tempDir } from '../support/analysis-cli.js';
import { hostileCapture, importedFixture } from '../support/analysis-fixtures.js';

async function withPage<T>(file: string, fn: (page: import('playwright-core').Page, seen: { requests: string[]; dialogs: string[] }) => Promise<T>): Promise<T> {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    const seen = { requests: [] as string[], dialogs: [] as string[] };
    page.on('request', (r) => seen.requests.push(r.url()));
    page.on('dialog', (d) => {
      seen.dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(pathToFileURL(file).href);
    return await fn(page, seen);
  } finally {
    await browser.close();
  }
}

test('HTML report in Chromium: search filters and opens matches, collapse and expand, no requests', async () => {
  const out = join(tempDir(), 'claude.html');
  assert.equal(agenttap(['report', importedFixture('claude-trace--test-traffic.jsonl'), '--format', 'html', '-o', out]).code, 0);
  await withPage(out, async (page, seen) => {
    assert.equal(await page.locator('#count').textContent(), '64 exchanges');
    const visible = () => page.locator('details.exchange:not(.hidden)').count();
    assert.equal(await visible(), 64);
    await page.fill('#q', 'please delete the weather folder');
    await page.locator('#count', { hasText: 'match' }).waitFor();
    const matches = await visible();
    assert.ok(matches >= 1 && matches < 64, `got ${matches}`);
    assert.equal(await page.locator('#count').textContent(), `${matches} of 64 exchanges match`);
    // Matches are opened, so the text is on screen.
    assert.ok(await page.locator('details.exchange:not(.hidden)').first().evaluate((d) => (d as unknown as { open: boolean }).open));
    assert.ok(await page.getByText('please delete the weather folder').first().isVisible());
    // Conversations without a match are hidden.
    const hiddenConvs = await page.locator('details.conv.hidden').count();
    assert.ok(hiddenConvs >= 1);
    await page.fill('#q', '');
    await page.locator('#count', { hasText: /^64 exchanges$/ }).waitFor();
    await page.click('#expand');
    assert.equal(await page.locator('details.exchange[open]').count(), 64);
    await page.click('#collapse');
    assert.equal(await page.locator('details.exchange[open]').count(), 0);
    // A tool call's "result ↓" link leads to its result row and opens it.
    const link = page.locator('.call a.pair:not(.hidden)').first();
    const target = (await link.getAttribute('href'))!;
    await page.click('#collapse');
    await link.evaluate((a) => {
      for (let p = (a as unknown as { parentElement: unknown }).parentElement as { tagName: string; open?: boolean; parentElement: unknown } | null; p; p = p.parentElement as typeof p) if (p.tagName === 'DETAILS') p.open = true;
    });
    await link.click();
    assert.ok(await page.locator(target).isVisible());
    assert.deepEqual(seen.requests.filter((u) => !u.startsWith('file:')), []);
    assert.deepEqual(seen.dialogs, []);
  });
});

test('HTML report in Chromium: hostile captured text never runs', async () => {
  const out = join(tempDir(), 'hostile.html');
  assert.equal(agenttap(['report', hostileCapture().file, '--format', 'html', '-o', out]).code, 0);
  await withPage(out, async (page, seen) => {
    await page.click('#expand');
    assert.equal(await page.evaluate('window.__xss'), undefined);
    assert.equal(await page.locator('main img').count(), 0);
    assert.ok(await page.getByText('<script>window.__xss=1;alert(1)</script>').first().isVisible());
    assert.deepEqual(seen.dialogs, []);
    assert.deepEqual(seen.requests.filter((u) => !u.startsWith('file:')), []);
  });
});
