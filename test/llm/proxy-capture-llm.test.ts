// `agenttap proxy --capture llm` with curl through it: the model call is recorded in full, the
// provider's telemetry as metadata only, unrelated traffic not at all; the log line shows
// provider, model, tokens and cost.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import type { CaptureRecord } from '../../src/capture/record.js';
import { llmLogSuffix } from '../../src/llm/log-summary.js';
import { fixture, makeRecord, repoRoot } from '../support/llm-records.js';
import { startReplayServer } from '../support/replay-server.js';

function run(cmd: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => (stdout += d));
    c.stderr.on('data', (d: Buffer) => (stderr += d));
    c.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('proxy --capture llm keeps LLM calls, strips app traffic to metadata, drops the rest', async () => {
  const sse = fixture('anthropic/lib__fixtures__tool_use_response.txt');
  const upstream = await startReplayServer((_m, url) => (url.startsWith('/v1/messages') ? { headers: { 'content-type': 'text/event-stream' }, body: sse } : { headers: { 'content-type': 'application/json' }, body: '{"ok":true,"secret":"telemetry"}' }));
  const dir = mkdtempSync(path.join(tmpdir(), 'agenttap-capture-llm-'));
  const out = path.join(dir, 'cap.jsonl');
  let proxy: ChildProcess | undefined;
  try {
    proxy = spawn(process.execPath, [path.join(repoRoot, 'bin/agenttap.js'), 'proxy', '--port', '0', '--out', out, '--json', '--capture', 'llm', '--map-remote', `*=${upstream.url}`], {
      env: { ...process.env, AGENTTAP_HOME: path.join(dir, 'home') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: Record<string, unknown>[] = [];
    const rl = createInterface({ input: proxy.stdout! });
    const listening = await new Promise<{ proxy: string; ca: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('proxy did not start')), 20_000);
      rl.on('line', (l) => {
        const o = JSON.parse(l) as Record<string, unknown>;
        lines.push(o);
        if (o.type === 'listening') {
          clearTimeout(timer);
          resolve(o as { proxy: string; ca: string });
        }
      });
    });
    const curl = (url: string, body?: string, headers: string[] = []) =>
      run('curl', ['-sS', '--proxy', listening.proxy, '--cacert', listening.ca, ...headers.flatMap((h) => ['-H', h]), ...(body ? ['--data', body] : []), url]);
    const llm = await curl('https://api.anthropic.com/v1/messages', JSON.stringify({ model: 'claude-opus-4-1', max_tokens: 50, stream: true, messages: [{ role: 'user', content: 'weather in Paris' }] }), ['content-type: application/json', 'anthropic-version: 2023-06-01', 'user-agent: claude-cli/2.0.0 (external, cli)']);
    assert.equal(llm.code, 0, llm.stderr);
    assert.match(llm.stdout, /message_stop/);
    const tel = await curl('https://statsig.anthropic.com/v1/rgstr', '{"events":[1,2,3]}', ['content-type: application/json']);
    assert.equal(tel.code, 0, tel.stderr);
    const other = await curl('https://example.org/index.html');
    assert.equal(other.code, 0, other.stderr);
    // Wait for the two kept exchanges in the log, then stop the proxy.
    const deadline = Date.now() + 10_000;
    while (lines.filter((l) => l.type === 'exchange').length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    proxy.kill('SIGTERM');
    await new Promise((r) => proxy!.once('close', r));
    const logged = lines.filter((l) => l.type === 'exchange');
    assert.equal(logged.length, 2, JSON.stringify(lines));
    const llmLine = logged.find((l) => String(l.url).includes('/v1/messages'))!;
    assert.deepEqual(llmLine.llm, { provider: 'anthropic', api: 'anthropic.messages', agent: 'claude-code', model: 'claude-opus-4-1', usage: { input: 377, output: 65, cacheRead: 0, cacheWrite: 0 }, costUsd: (377 * 15 + 65 * 75) / 1e6 });
    const records = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as CaptureRecord);
    assert.equal(records.length, 2);
    const full = records.find((r) => r.request?.url === 'https://api.anthropic.com/v1/messages')!;
    assert.match(full.response?.body?.text ?? '', /input_json_delta/);
    assert.match(full.request?.body?.text ?? '', /weather in Paris/);
    const meta = records.find((r) => r.server.host === 'statsig.anthropic.com')!;
    assert.equal(meta.response?.status, 200);
    assert.equal(meta.request?.body?.size, '{"events":[1,2,3]}'.length);
    assert.equal(meta.request?.body?.text, undefined);
    assert.equal(meta.response?.body?.text, undefined);
    assert.ok(!records.some((r) => r.server.host === 'example.org'));
  } finally {
    if (proxy && proxy.exitCode === null) proxy.kill('SIGKILL');
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the text log line names provider, model, tokens and cost for model calls only', () => {
  const rec = makeRecord({ url: 'https://api.anthropic.com/v1/messages', requestBody: { model: 'claude-opus-4-1', stream: true, max_tokens: 5, messages: [] }, responseBody: fixture('anthropic/lib__fixtures__tool_use_response.txt') });
  assert.equal(llmLogSuffix(rec), '  anthropic claude-opus-4-1 in 377 out 65 $0.01053');
  assert.equal(llmLogSuffix(makeRecord({ method: 'GET', url: 'https://example.org/' })), '');
});
