// The web inspector in real headless Chromium: opening a 100,000-exchange capture, filtering it,
// the page's memory, and keeping up with 200 live exchanges per second.
import { mkdtemp, rm } from 'node:fs/promises';
import { EventEmitter } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { BenchModule, BenchResult } from './types.js';
import { startInspector } from '../src/server/inspector-server.js';
import { anthropicRecord, writeCapture } from '../test/ui/capture-fixtures.js';
import { launch } from '../test/ui/browser.js';

type PageDoc = { querySelector(s: string): { textContent: string | null } | null };

const bench: BenchModule = {
  title: 'web inspector (ui)',
  async run(ctx) {
    const n = ctx.quick ? 20_000 : 100_000;
    const label = `${n / 1000}k`;
    const dir = await mkdtemp(join(tmpdir(), 'agenttap-uibench-'));
    const browser = await launch();
    const results: BenchResult[] = [];
    try {
      const file = join(dir, 'big.jsonl');
      await writeCapture(file, n);
      // As `agenttap ui FILE` does it: serve at once, index in the background.
      const context = await browser.newContext({ viewport: { width: 1400, height: 850 } });
      const page = await context.newPage();
      const t0 = performance.now();
      const server = await startInspector({ file, home: join(dir, 'home'), port: 0, background: true });
      try {
        await page.goto(server.url);
        await page.waitForSelector('.row[data-id]');
        const firstMs = performance.now() - t0;
        results.push({ metric: `open a ${label} capture: start → first rows rendered`, value: firstMs, unit: 'ms', target: '< 2000 ms', pass: firstMs < 2000 });
        await server.ready;
        const indexMs = performance.now() - t0;
        await page.waitForSelector('[data-testid=indexing]', { state: 'detached', timeout: 60_000 });
        const fullMs = performance.now() - t0;
        ctx.log(`indexed ${n} exchanges in ${indexMs.toFixed(0)} ms`);
        results.push({ metric: `index the whole ${label} capture (LLM facts included)`, value: indexMs, unit: 'ms' });
        results.push({ metric: `start → complete list shown, ${label} capture`, value: fullMs, unit: 'ms' });
        await page.click('[data-testid=profile-all]');
        // Load every row into the page, then time filters end to end (input → list updated).
        await page.locator('.list').evaluate((el) => (el.scrollTop = 0));
        await page.locator('.row.older button', { hasText: 'load all' }).click();
        const all = `${n.toLocaleString('en-US')} shown / ${n.toLocaleString('en-US')}`;
        await page.waitForFunction((t) => (globalThis as unknown as { document: PageDoc }).document.querySelector('[data-testid=counts]')?.textContent === t, all, { timeout: 120_000 });
        const times: number[] = [];
        for (const value of ['registry.example', '', 'api.openai.com', '', 'anthropic', '']) {
          const ms = await page.evaluate(async (v) => {
            type El = { value: string; dispatchEvent(e: unknown): void; textContent: string | null };
            const g = globalThis as unknown as { document: { querySelector(s: string): El }; performance: { now(): number }; Event: new (t: string, o: unknown) => unknown; MutationObserver: new (cb: () => void) => { observe(n: unknown, o: unknown): void; disconnect(): void } };
            const input = g.document.querySelector('[data-testid=filter-host]');
            const counts = g.document.querySelector('[data-testid=counts]');
            const before = counts.textContent;
            const start = g.performance.now();
            const done = new Promise<void>((resolve) => {
              const mo = new g.MutationObserver(() => {
                if (counts.textContent !== before) {
                  mo.disconnect();
                  resolve();
                }
              });
              mo.observe(counts, { childList: true, subtree: true, characterData: true });
            });
            input.value = v;
            input.dispatchEvent(new g.Event('input', { bubbles: true }));
            await done;
            return g.performance.now() - start;
          }, value);
          times.push(ms);
        }
        times.sort((a, b) => a - b);
        const p50 = times[Math.floor(times.length / 2)]!;
        const worst = times[times.length - 1]!;
        results.push({ metric: `filter latency p50 over ${label} rows`, value: p50, unit: 'ms', target: '< 100 ms', pass: p50 < 100 });
        results.push({ metric: `filter latency worst over ${label} rows`, value: worst, unit: 'ms' });
        const cdp = await context.newCDPSession(page);
        await cdp.send('Performance.enable');
        await cdp.send('HeapProfiler.collectGarbage');
        const metrics = (await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] };
        const heap = (metrics.metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? 0) / 1048576;
        results.push({ metric: `page JS heap with ${label} rows loaded`, value: heap, unit: 'MB', target: '< 300 MB', pass: heap < 300 });
      } finally {
        await context.close();
        await server.close();
      }

      // Live: recorder events at 200 exchanges per second (a start update, then the finished record).
      const recorder = new EventEmitter();
      const live = await startInspector({ live: { recorder }, home: join(dir, 'home'), port: 0 });
      try {
        const context = await browser.newContext({ viewport: { width: 1400, height: 850 } });
        const page = await context.newPage();
        await page.goto(live.url);
        await page.click('[data-testid=profile-all]');
        await page.waitForSelector('[data-testid=conn]:has-text("live")');
        const rate = 200;
        const seconds = ctx.quick ? 3 : 10;
        const total = rate * seconds;
        const start = performance.now();
        let sent = 0;
        while (sent < total) {
          const due = Math.min(total, Math.floor(((performance.now() - start) / 1000) * rate) + 1);
          for (; sent < due; sent++) {
            const r = anthropicRecord(sent, Date.now());
            recorder.emit('update', { id: r.id, stage: 'start', record: { ...r, response: undefined, timing: undefined } });
            recorder.emit('record', r);
          }
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
        const sentAt = performance.now();
        const want = `${total.toLocaleString('en-US')} shown / ${total.toLocaleString('en-US')}`;
        await page.waitForFunction((t) => (globalThis as unknown as { document: PageDoc }).document.querySelector('[data-testid=counts]')?.textContent === t, want, { timeout: 60_000 });
        const lag = performance.now() - sentAt;
        const achieved = total / ((performance.now() - start) / 1000);
        ctx.log(`live: ${total} exchanges at ${rate}/s; page caught up ${lag.toFixed(0)} ms after the last one`);
        results.push({ metric: `live exchanges/s shown (offered ${rate}/s)`, value: achieved, unit: '/s', target: `≥ ${rate * 0.95}/s`, pass: achieved >= rate * 0.95 });
        results.push({ metric: 'live: page lag after the last exchange', value: lag, unit: 'ms', target: '< 1000 ms', pass: lag < 1000 });
        await context.close();
      } finally {
        await live.close();
      }
    } finally {
      await browser.close();
      await rm(dir, { recursive: true, force: true });
    }
    return results;
  },
};

export default bench;
