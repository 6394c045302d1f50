// agenttap demo works offline end to end: fake upstream, capture proxy, bundled agent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readAllRecords } from '../../src/capture/reader.js';
import { runCli } from '../support/cli-process.js';
import { tempDir } from '../support/temp-home.js';

test('agenttap demo runs tool round trips against both APIs and writes 8 records', async () => {
  const d = tempDir();
  try {
    const out = d.file('demo.jsonl');
    const r = await runCli(['demo', '--out', out], { env: { ...process.env, AGENTTAP_HOME: d.file('home'), HTTPS_PROXY: '', HTTP_PROXY: '' } });
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /anthropic \(stream\): answer \(end_turn\): The tool returned/);
    assert.match(r.stdout, /openai: model asked for get_weather/);
    assert.match(r.stdout, /captured 8 exchanges/);
    const recs = await readAllRecords(out);
    assert.equal(recs.length, 8);
    // The agent calls the real API hosts; map-remote keeps it offline and the record keeps the original URL.
    assert.equal(recs.filter((x) => x.request!.url === 'https://api.anthropic.com/v1/messages').length, 4);
    assert.equal(recs.filter((x) => x.request!.url === 'https://api.openai.com/v1/chat/completions').length, 4);
    assert.ok(recs.every((x) => x.server.mappedTo?.startsWith('https://127.0.0.1:')));
    assert.ok(recs.every((x) => x.error === null && x.response!.status === 200));
    const streamed = recs.filter((x) => (JSON.parse(x.request!.body!.text!) as { stream: boolean }).stream);
    assert.equal(streamed.length, 4);
    assert.ok(streamed.every((x) => x.response!.chunks!.length > 3));
    // Then the analysis: the timeline on the terminal, the reports beside the capture.
    assert.match(r.stdout, /tool_call +get_weather \{"city":"agenttap-tool-ok"\}/);
    assert.match(r.stdout, /answer +claude-haiku-4-5/);
    const md = readFileSync(d.file('demo-report.md'), 'utf8');
    assert.match(md, /\| api\.anthropic\.com \| \/v1\/messages \| POST \| 4 \| 0 \|/);
    assert.match(md, /\| gpt-4\.1-mini \| 4 \| 0 \|/);
    assert.match(readFileSync(d.file('demo-report.html'), 'utf8'), /^<!DOCTYPE html>/i);
  } finally {
    d.cleanup();
  }
});
