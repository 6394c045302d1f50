// The Conversation tab of a real Claude Code capture: system prompt, user and assistant bubbles,
// tool calls each shown with its result, the streamed answer merged; the LLM tab's facts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { startInspector, type InspectorServer } from '../../src/server/inspector-server.js';
import type { CaptureRecord } from '../../src/capture/record.js';
import { claudeCodeCapture } from './claude-code-capture.js';
import { launch, openPage, screenshot } from './browser.js';

let dir: string;
let server: InspectorServer;
let browser: Browser;
let records: CaptureRecord[];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agenttap-cc-'));
  records = await claudeCodeCapture(join(dir, 'cc.jsonl'));
  server = await startInspector({ file: join(dir, 'cc.jsonl'), home: join(dir, 'home'), port: 0 });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

test('a Claude Code turn reads as a conversation with tool calls paired to their results', async () => {
  const w = await openPage(browser, server.url);
  const { page } = w;
  // The default profile is "LLM only": every exchange of this capture is an LLM call.
  await page.waitForFunction((n) => (globalThis as any).document.querySelector('[data-testid=counts]')?.textContent === `${n} shown / ${n}`, records.length, { timeout: 30_000 });
  // The list is virtualized: scroll the 10th exchange into view first.
  await page.locator('.list').evaluate((el) => (el.scrollTop = 0));
  const row = page.locator(`.row[data-id="${records[9]!.id}"]`);
  await row.waitFor();
  assert.equal(await row.locator('.badge').textContent(), 'CC', 'the agent badge says Claude Code');
  assert.match((await row.locator('.c-what b').textContent()) ?? '', /claude-sonnet-4-20250514/);
  await row.click();
  await page.locator('[data-tab=conversation]').click();
  await page.waitForSelector('.conversation');
  const system = (await page.locator('.conversation > .role-system').textContent()) ?? '';
  assert.match(system, /You are Claude Code/);
  const users = await page.locator('.bubble[data-role=user]').allTextContents();
  assert.ok(users.some((t) => t.includes('create a folder weather')), 'the user prompt is a user bubble');
  const todo = page.locator('.tool-call', { hasText: 'TodoWrite' }).first();
  assert.match((await todo.locator('.tool-result').textContent()) ?? '', /Todos have been modified successfully/, 'TodoWrite shows its result');
  const ls = page.locator('.tool-call', { hasText: 'LS' }).first();
  assert.match((await ls.locator('.tool-result').textContent()) ?? '', /claude-logger\.py/, 'LS shows its result');
  // Results shown under their call are not repeated as loose bubbles.
  assert.equal(await page.locator('.conversation > .bubble > .tool-result').count(), 0);
  // The streamed answer, merged, closes the conversation.
  const after = page.locator('.divider', { hasText: 'response' });
  assert.equal(await after.count(), 1);
  const answer = (await page.locator('.bubble[data-role=assistant]').last().textContent()) ?? '';
  assert.ok(answer.length > 20, 'the merged assistant answer is shown');
  await screenshot(page, 'conversation-claude-code');

  await page.locator('[data-tab=llm]').click();
  const llm = (await page.locator('.llm-tab').textContent()) ?? '';
  assert.match(llm, /anthropic\.messages/);
  assert.match(llm, /claude-sonnet-4-20250514/);
  assert.ok(Number((await page.locator('[data-testid=tokens-in]').textContent())?.replace(/,/g, '')) > 0, 'input tokens are shown');
  await page.locator('[data-tab=response]').click();
  await page.locator('[data-mode=events]').click();
  assert.ok((await page.locator('.sse-ev').count()) > 3, 'the raw SSE events are listed');
  assert.match((await page.locator('.sse-ev .sse-name').first().textContent()) ?? '', /message_start/);
  await screenshot(page, 'response-sse-events');
  assert.deepEqual(w.external, []);

  // A note on the exchange is saved beside the capture and marks the row.
  await page.click('[data-testid=note-toggle]');
  await page.fill('.note-box textarea', 'first Write of index.html');
  await page.click('.note-box button');
  await page.waitForSelector('[data-testid=action-status]:has-text("note saved")');
  await page.waitForSelector(`.row[data-id="${records[9]!.id}"] .c-note`);
  const notes = JSON.parse(await readFile(join(dir, 'cc.jsonl.annotations.json'), 'utf8')) as Record<string, { note: string }>;
  assert.equal(notes[records[9]!.id]?.note, 'first Write of index.html');
  await page.context().close();
});
