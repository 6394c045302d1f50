// --capture llm: model calls in full, known-provider app traffic as metadata, the rest dropped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CaptureRecord } from '../../src/capture/record.js';
import { captureDecider, captureTier, parseCaptureMode } from '../../src/llm/capture-tier.js';
import { makeRecord } from '../support/llm-records.js';

test('capture tiers follow detection', () => {
  const llm = makeRecord({ url: 'https://api.openai.com/v1/chat/completions', requestBody: { model: 'gpt-4o', messages: [] }, responseBody: { choices: [] } });
  const app = makeRecord({ method: 'GET', url: 'https://api.openai.com/v1/models', responseBody: { data: [] } });
  const telemetry = makeRecord({ url: 'https://statsig.anthropic.com/v1/rgstr', requestBody: { events: [] } });
  const other = makeRecord({ method: 'GET', url: 'https://registry.npmjs.org/left-pad' });
  const slackish = makeRecord({ url: 'https://chat.example.com/v1/messages', requestBody: { model: 'x', messages: [], max_tokens: 1 } });
  assert.equal(captureTier(llm), 'full');
  assert.equal(captureTier(app), 'metadata');
  assert.equal(captureTier(telemetry), 'metadata');
  assert.equal(captureTier(other), 'drop');
  assert.equal(captureTier(slackish), 'drop');
  const tunnel: CaptureRecord = { v: 1, id: 't', kind: 'tunnel', mode: 'forward', startedAt: new Date().toISOString(), server: { host: 'api2.cursor.sh', port: 443, tls: true }, tunnel: { bytesUp: 1, bytesDown: 1, durationMs: 1, reason: 'learned' }, error: null };
  assert.equal(captureTier(tunnel), 'metadata');
  assert.equal(captureTier({ ...tunnel, server: { host: 'github.com', port: 443, tls: true } }), 'drop');
});

test('--capture all keeps everything, --capture llm installs the tier hook, bad values are named', () => {
  assert.equal(captureDecider('all'), undefined);
  assert.equal(captureDecider('llm'), captureTier);
  assert.equal(parseCaptureMode('llm'), 'llm');
  assert.throws(() => parseCaptureMode('some'), /--capture must be one of all, llm, got "some"/);
});
