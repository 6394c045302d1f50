import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassthroughPolicy, hostPatternMatches, isCertificateRejection } from '../../src/engine/passthrough.js';

test('passthrough globs match hosts with an optional port', () => {
  assert.equal(hostPatternMatches('*', 'anything.example', 443), true);
  assert.equal(hostPatternMatches('*.openai.com', 'api.openai.com', 443), true);
  assert.equal(hostPatternMatches('*.openai.com', 'openai.com', 443), false);
  assert.equal(hostPatternMatches('API.anthropic.com:443', 'api.anthropic.com', 443), true);
  assert.equal(hostPatternMatches('api.anthropic.com:443', 'api.anthropic.com', 8443), false);
  assert.equal(hostPatternMatches('10.0.0.*', '10.0.0.7', 443), true);
  assert.equal(hostPatternMatches('[::1]:443', '::1', 443), true);
  assert.equal(hostPatternMatches('a.b', 'aXb', 443), false);
});

test('learned hosts are written to passthrough.json, survive a restart and are shared between processes', () => {
  const home = mkdtempSync(join(tmpdir(), 'agenttap-pt-'));
  const a = new PassthroughPolicy({ home, patterns: ['*.pinned.example'] });
  assert.equal(a.match('x.pinned.example', 443), 'passthrough');
  assert.equal(a.match('bank.example', 443), undefined);
  assert.equal(a.learn('Bank.example', 'tlsv1 alert unknown ca'), true);
  assert.equal(a.learn('bank.example', 'again'), false);
  assert.equal(a.match('bank.example', 443), 'learned');
  const file = JSON.parse(readFileSync(join(home, 'passthrough.json'), 'utf8'));
  assert.equal(file.hosts[0].host, 'bank.example');
  assert.equal(file.hosts[0].why, 'tlsv1 alert unknown ca');
  // A second process (a new policy on the same home) sees it and merges its own.
  const b = new PassthroughPolicy({ home });
  assert.equal(b.match('bank.example', 8443), 'learned');
  b.learn('other.example', 'tlsv1 alert bad certificate');
  assert.deepEqual(new PassthroughPolicy({ home }).learnedHosts().map((h) => h.host).sort(), ['bank.example', 'other.example']);
  // --no-learn: nothing is written.
  const c = new PassthroughPolicy({ home, learn: false });
  assert.equal(c.learn('third.example', 'x'), false);
  assert.equal(c.match('third.example', 443), undefined);
});

test('a broken passthrough.json is ignored, not fatal, and replaced on the next learn', () => {
  const home = mkdtempSync(join(tmpdir(), 'agenttap-pt-'));
  writeFileSync(join(home, 'passthrough.json'), '{ not json');
  const p = new PassthroughPolicy({ home });
  assert.equal(p.match('x.example', 443), undefined);
  assert.equal(p.learn('x.example', 'tlsv1 alert unknown ca'), true);
  assert.equal(JSON.parse(readFileSync(join(home, 'passthrough.json'), 'utf8')).hosts.length, 1);
});

test('certificate rejections are told apart from other handshake failures', () => {
  assert.equal(isCertificateRejection({ code: 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', message: 'C0:...:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca:...' }), 'tlsv1 alert unknown ca');
  assert.equal(isCertificateRejection({ code: 'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', message: 'sslv3 alert bad certificate' }), 'sslv3 alert bad certificate');
  assert.equal(isCertificateRejection({ code: 'ECONNRESET', message: 'read ECONNRESET' }), undefined);
  assert.equal(isCertificateRejection({ code: 'ERR_SSL_WRONG_VERSION_NUMBER', message: 'wrong version number' }), undefined);
});
