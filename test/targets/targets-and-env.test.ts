import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findTarget, inferTarget, targets } from '../../src/targets/registry.js';
import { BUNDLE_VARIABLES, childNoProxy, forwardEnv, nodeOptionsWithPreload } from '../../src/targets/forward-env.js';
import { reverseArgs, reverseEnv } from '../../src/targets/reverse-env.js';
import { combineBundle, systemRootsPem, writeCombinedBundle } from '../../src/targets/ca-bundle.js';
import { startChainProxy } from '../support/chain-proxy.js';

test('the target is inferred from the command name, including npx launchers; unknown commands run as generic', () => {
  assert.equal(inferTarget('claude').name, 'claude-code');
  assert.equal(inferTarget('/usr/local/bin/codex').name, 'codex');
  assert.equal(inferTarget('gemini').name, 'gemini-cli');
  assert.equal(inferTarget('opencode').name, 'opencode');
  assert.equal(inferTarget('aider').name, 'aider');
  assert.equal(inferTarget('npx', ['-y', '@openai/codex@0.169.0', 'exec', 'hi']).name, 'codex');
  assert.equal(inferTarget('npx', ['@anthropic-ai/claude-code']).name, 'claude-code');
  assert.equal(inferTarget('python3', ['agent.py']).name, 'generic');
  assert.equal(inferTarget('curl').name, 'generic');
  assert.throws(() => findTarget('clod'), /unknown target "clod": choose one of claude-code, codex, gemini-cli/);
  for (const name of ['claude-code', 'codex', 'gemini-cli', 'opencode', 'aider', 'cursor', 'generic', 'openai-sdk', 'anthropic-sdk', 'gemini-sdk']) {
    assert.ok(targets.some((t) => t.name === name), name);
  }
  assert.equal(findTarget('cursor').launch, false);
});

test('reverse mode sets each target’s base-URL variables to its listeners, and Codex gets -c overrides', () => {
  const codex = findTarget('codex');
  const listeners = { openai: 'http://127.0.0.1:9001', chatgpt: 'http://127.0.0.1:9002' };
  assert.deepEqual(reverseArgs(codex, listeners), ['-c', 'openai_base_url="http://127.0.0.1:9001/v1"', '-c', 'chatgpt_base_url="http://127.0.0.1:9002/backend-api/"']);
  assert.equal(reverseEnv(codex, listeners)['OPENAI_BASE_URL'], 'http://127.0.0.1:9001/v1');
  assert.deepEqual(reverseEnv(findTarget('claude-code'), { anthropic: 'http://127.0.0.1:9100/' }), { ANTHROPIC_BASE_URL: 'http://127.0.0.1:9100' });
  assert.deepEqual(reverseEnv(findTarget('gemini-cli'), { gemini: 'http://127.0.0.1:9200' }), { GOOGLE_GEMINI_BASE_URL: 'http://127.0.0.1:9200' });
  const steps = findTarget('cursor').manualSteps({ mode: 'forward', proxyUrl: 'http://127.0.0.1:8123', caFile: '/h/ca.pem' });
  assert.ok(steps.some((s) => s.includes('"http.proxy": "http://127.0.0.1:8123"')));
  assert.ok(steps.some((s) => /HTTP\/2/.test(s)));
});

test('forward env: proxy in both cases, every CA variable on the combined bundle, loopback kept direct', () => {
  const plan = forwardEnv(
    { proxyUrl: 'http://127.0.0.1:8123', caFile: '/h/ca.pem', bundleFile: '/h/ca-bundle.pem', preloadFile: '/pkg dir/preload.js', target: findTarget('claude-code') },
    { NO_PROXY: 'internal.corp,*.anthropic.com,localhost', NODE_OPTIONS: '--max-old-space-size=4096' },
  );
  for (const v of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy']) assert.equal(plan.env[v], 'http://127.0.0.1:8123');
  for (const v of BUNDLE_VARIABLES) assert.equal(plan.env[v], '/h/ca-bundle.pem', v);
  for (const v of ['SSL_CERT_FILE', 'REQUESTS_CA_BUNDLE', 'CURL_CA_BUNDLE', 'GIT_SSL_CAINFO', 'CARGO_HTTP_CAINFO', 'AWS_CA_BUNDLE', 'DENO_CERT', 'CODEX_CA_CERTIFICATE']) {
    assert.equal(plan.env[v], '/h/ca-bundle.pem', v);
  }
  assert.equal(plan.env['NODE_EXTRA_CA_CERTS'], '/h/ca.pem');
  assert.equal(plan.env['NO_PROXY'], 'localhost,127.0.0.1,::1,internal.corp');
  assert.match(plan.notes.join('\n'), /\*\.anthropic\.com/);
  assert.equal(plan.env['NODE_OPTIONS'], '--max-old-space-size=4096 --import file:///pkg%20dir/preload.js');
  assert.equal(childNoProxy('*', findTarget('generic')).value, 'localhost,127.0.0.1,::1');
  assert.equal(nodeOptionsWithPreload(undefined, '/a/p.js'), '--import file:///a/p.js');
});

test('the combined bundle holds the system roots and our CA, written atomically into AGENTTAP_HOME', () => {
  const home = mkdtempSync(join(tmpdir(), 'agenttap-bundle-'));
  const fakeCa = '-----BEGIN CERTIFICATE-----\nMIIBfakeagenttapCA\n-----END CERTIFICATE-----\n';
  const userBundle = join(home, 'corp.pem');
  writeFileSync(userBundle, '-----BEGIN CERTIFICATE-----\nMIIBcorporateRoot\n-----END CERTIFICATE-----\n');
  const file = writeCombinedBundle(home, { caPem: fakeCa, existingBundle: userBundle });
  assert.equal(file, join(home, 'ca-bundle.pem'));
  const text = readFileSync(file, 'utf8');
  const roots = systemRootsPem();
  assert.ok(text.includes(roots.pem.trim().split('\n').slice(0, 3).join('\n')), 'system roots present');
  assert.ok(text.indexOf('MIIBcorporateRoot') < text.indexOf('MIIBfakeagenttapCA'));
  assert.ok(text.trimEnd().endsWith('-----END CERTIFICATE-----'));
  assert.ok((text.match(/BEGIN CERTIFICATE/g) ?? []).length > 50, 'a real root store, not just ours');
  assert.equal(combineBundle('', fakeCa).includes('MIIBfakeagenttapCA'), true);
});

const preload = fileURLToPath(new URL('../../src/targets/node-proxy-preload.js', import.meta.url));

// Async on purpose: the test proxy runs in this process and must keep answering.
function nodeScript(code: string, env: Record<string, string>): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'agenttap-preload-'));
  const file = join(dir, 'script.mjs');
  writeFileSync(file, code);
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [file], { env: { PATH: process.env['PATH'] ?? '', ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => p.kill('SIGKILL'), 20_000);
    p.on('error', reject);
    p.on('close', (status) => {
      clearTimeout(t);
      resolve({ status, stdout, stderr });
    });
  });
}

test('the NODE_OPTIONS preload makes plain fetch() use HTTPS_PROXY, and leaves a program’s own dispatcher alone', async () => {
  const proxy = await startChainProxy({ refuse: 502 });
  try {
    const env = { HTTPS_PROXY: proxy.url, NODE_OPTIONS: nodeOptionsWithPreload(undefined, preload), NODE_USE_ENV_PROXY: '1' };
    const plain = await nodeScript(
      `try { await fetch('https://api.agenttap-preload.test/v1/models'); console.log('ok') } catch (e) { console.log('failed:', e.cause?.message ?? e.message) }`,
      env,
    );
    assert.equal(plain.status, 0, plain.stderr);
    assert.deepEqual(proxy.connects.map((c) => c.authority), ['api.agenttap-preload.test:443']);
    assert.match(plain.stdout, /failed/); // the test proxy refuses the tunnel: the point is that fetch asked it

    // A program that installs its own dispatcher keeps it (here: a direct Agent, so no CONNECT at all).
    const own = await nodeScript(
      `import { Agent, setGlobalDispatcher } from ${JSON.stringify(new URL('../../../node_modules/undici/index.js', import.meta.url).href)};
       setGlobalDispatcher(new Agent({ connect: { timeout: 2000 } }));
       try { await fetch('https://own-dispatcher.invalid/') } catch (e) { console.log('direct:', e.cause?.code ?? e.message) }`,
      env,
    );
    assert.equal(own.status, 0, own.stderr);
    assert.match(own.stdout, /direct: (ENOTFOUND|EAI_AGAIN)/);
    assert.equal(proxy.connects.length, 1);

    // Lazy: a process that never calls fetch never loads undici nor installs anything.
    const lazy = await nodeScript(`console.log(typeof globalThis[Symbol.for('undici.globalDispatcher.1')])`, env);
    assert.equal(lazy.stdout.trim(), 'undefined');

    // Without any proxy variable the preload does nothing.
    const none = await nodeScript(`console.log(typeof globalThis[Symbol.for('undici.globalDispatcher.1')])`, { NODE_OPTIONS: env.NODE_OPTIONS });
    assert.equal(none.stdout.trim(), 'undefined');
  } finally {
    await proxy.close();
  }
});
