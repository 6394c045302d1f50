// Headless Debian Chromium through playwright-core, with the flags the brief requires, plus a
// page-level XSS tripwire: any dialog or any script setting window.__xss fails the test.
import { chromium, type Browser, type Page } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

export const ARTIFACTS = resolve('test-artifacts/ui');

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export interface WatchedPage {
  page: Page;
  dialogs: string[];
  consoleErrors: string[];
  /** Requests that left loopback (there must be none). */
  external: string[];
}

export async function openPage(browser: Browser, url: string, size = { width: 1400, height: 850 }): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: size, acceptDownloads: true });
  const page = await context.newPage();
  const w: WatchedPage = { page, dialogs: [], consoleErrors: [], external: [] };
  page.on('dialog', (d) => {
    w.dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('console', (m) => {
    if (m.type() === 'error') w.consoleErrors.push(m.text());
  });
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname) && !['blob:', 'data:'].includes(u.protocol)) w.external.push(r.url());
  });
  await page.goto(url);
  return w;
}

export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = resolve(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path });
  return path;
}
