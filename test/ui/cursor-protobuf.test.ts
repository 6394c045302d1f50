// A Cursor request (Connect, application/proto) shows as a schema-less protobuf tree in the
// Request tab: nested messages, strings and numbers, with field numbers as keys.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { startInspector, type InspectorServer } from '../../src/server/inspector-server.js';
import type { CaptureRecord } from '../../src/capture/record.js';
import { launch, openPage, screenshot } from './browser.js';

const SAMPLE = resolve('../shared/fixtures/cursor/payload-samples/20251217_162108_453911_aiserver.v1.ToolCallEventService_SubmitToolCallEvents_1d09fcfcdfc6.bin');
let dir: string;
let server: InspectorServer;
let browser: Browser;
let record: CaptureRecord;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agenttap-cursor-'));
  const bin = await readFile(SAMPLE);
  record = {
    v: 1,
    id: '019ccccc-0000-7000-8000-000000000001',
    kind: 'http',
    mode: 'forward',
    startedAt: '2025-12-17T16:21:08.454Z',
    server: { host: 'api2.cursor.sh', port: 443, tls: true, alpn: 'h2' },
    request: {
      method: 'POST',
      url: 'https://api2.cursor.sh/aiserver.v1.ToolCallEventService/SubmitToolCallEvents',
      httpVersion: '2',
      headers: [['content-type', 'application/proto'], ['connect-protocol-version', '1'], ['user-agent', 'connect-es/1.6.1']],
      body: { base64: bin.toString('base64'), size: bin.length },
    },
    response: { status: 200, httpVersion: '2', headers: [['content-type', 'application/proto']], body: { base64: '', size: 0 } },
    timing: { ttfbMs: 80, totalMs: 81 },
    error: null,
  };
  await writeFile(join(dir, 'cursor.jsonl'), JSON.stringify(record) + '\n');
  server = await startInspector({ file: join(dir, 'cursor.jsonl'), home: join(dir, 'home'), port: 0 });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

test('a Cursor protobuf body reads as a field tree', async () => {
  const { page } = await openPage(browser, server.url);
  await page.click('[data-testid=profile-all]');
  await page.click(`.row[data-id="${record.id}"]`);
  await page.click('[data-tab=request]');
  const mode = page.locator('[data-mode=protobuf]');
  assert.equal(await mode.getAttribute('class'), 'seg on', 'the protobuf view is the default for a protobuf body');
  // Open every level of the tree.
  for (let i = 0; i < 6; i++) {
    const closed = page.locator('.json .j-toggle:has(.j-caret:text("▸"))');
    const n = await closed.count();
    if (n === 0) break;
    for (let k = 0; k < n; k++) await closed.first().click();
  }
  const tree = (await page.locator('.json').textContent()) ?? '';
  assert.match(tree, /#1: "tool_call_session_1766009696040_plrr55wth"/);
  assert.match(tree, /"toolu_01MYWVwP69JeGtaEbuooVuev"/);
  assert.match(tree, /"run_terminal_cmd"/);
  assert.match(tree, /"claude-4\.5-opus-high-thinking"/);
  await screenshot(page, 'cursor-protobuf-tree');
  await page.context().close();
});
