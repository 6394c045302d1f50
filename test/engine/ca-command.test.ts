// agenttap ca: created on first use with the key at 0600, path and SHA-256 fingerprint printed,
// --regenerate replaces it, --trust-instructions covers every platform and runtime.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { runCli } from '../support/cli-process.js';
import { tempDir } from '../support/temp-home.js';

test('agenttap ca creates the CA with a 0600 key and prints its path and SHA-256 fingerprint', async () => {
  const d = tempDir();
  try {
    const env = { ...process.env, AGENTTAP_HOME: d.dir };
    const first = await runCli(['ca'], { env });
    assert.equal(first.code, 0, first.stderr);
    const certPath = d.file('ca.pem');
    assert.equal(statSync(d.file('ca-key.pem')).mode & 0o777, 0o600);
    const cert = new X509Certificate(readFileSync(certPath));
    assert.ok(cert.ca);
    assert.ok(first.stdout.includes(certPath));
    assert.ok(first.stdout.includes(`SHA-256 fingerprint: ${cert.fingerprint256}`), first.stdout);
    assert.match(first.stdout, /Created now/);

    const again = await runCli(['ca'], { env });
    assert.ok(again.stdout.includes(cert.fingerprint256), 'same CA on the second run');
    assert.doesNotMatch(again.stdout, /Created now/);

    const p = await runCli(['ca', '--path'], { env });
    assert.equal(p.stdout, `${certPath}\n`);

    const regen = await runCli(['ca', '--regenerate'], { env });
    assert.equal(regen.code, 0);
    const next = new X509Certificate(readFileSync(certPath));
    assert.notEqual(next.fingerprint256, cert.fingerprint256);
    assert.ok(regen.stdout.includes(next.fingerprint256));
    assert.equal(statSync(d.file('ca-key.pem')).mode & 0o777, 0o600);
  } finally {
    d.cleanup();
  }
});

test('agenttap ca --trust-instructions names the steps for each OS and runtime', async () => {
  const d = tempDir();
  try {
    const r = await runCli(['ca', '--trust-instructions'], { env: { ...process.env, AGENTTAP_HOME: d.dir } });
    assert.equal(r.code, 0);
    for (const s of ['NODE_EXTRA_CA_CERTS', 'REQUESTS_CA_BUNDLE', 'SSL_CERT_FILE', 'curl --cacert', 'security add-trusted-cert', 'update-ca-certificates', 'update-ca-trust', 'Import-Certificate', d.file('ca.pem')]) {
      assert.ok(r.stdout.includes(s), `missing ${s}`);
    }
  } finally {
    d.cleanup();
  }
});

test('an unreadable CA is one clear line and exit 1', async () => {
  const d = tempDir();
  try {
    const env = { ...process.env, AGENTTAP_HOME: d.dir };
    await runCli(['ca'], { env });
    const { writeFileSync } = await import('node:fs');
    writeFileSync(d.file('ca-key.pem'), 'not a key');
    const r = await runCli(['ca'], { env });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^agenttap: the CA in .* is damaged .*agenttap ca --regenerate\n$/);
  } finally {
    d.cleanup();
  }
});
