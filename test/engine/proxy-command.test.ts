// agenttap proxy as users run it: a child process trusting the upstream through
// NODE_EXTRA_CA_CERTS, driven by python3-requests and curl; log lines; clean shutdown on
// SIGINT/SIGTERM; one-line errors with exit 1 for a port in use, bad output and bad CA.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { readAllRecords } from '../../src/capture/reader.js';
import { startFakeLlm } from '../../src/fake-llm/server.js';
import { runCli } from '../support/cli-process.js';
import { spawnCliProxy } from '../support/proxy-harness.js';
import { curl, runTool } from '../support/run-tool.js';
import { tempDir } from '../support/temp-home.js';
import { upstreamTestCa } from '../support/test-upstream.js';

const PY = `
import json, os, sys, requests
proxies = {"https": os.environ["PROXY"], "http": os.environ["PROXY"]}
r = requests.post(os.environ["TARGET"] + "/v1/chat/completions", json={"model": "gpt-4.1-mini", "messages": [{"role": "user", "content": "hi"}]},
                  headers={"Authorization": "Bearer sk-python-requests-key-7777"}, proxies=proxies, verify=os.environ["PROXY_CA"], timeout=20)
print(r.status_code)
print(r.json()["choices"][0]["message"]["content"])
`;

test('python3-requests and curl through the CLI proxy (upstream trusted via NODE_EXTRA_CA_CERTS), --json lines, SIGTERM flushes', async () => {
  const d = tempDir();
  const { ca, caFile } = await upstreamTestCa();
  const leaf = await ca.leafFor('127.0.0.1');
  const fake = await startFakeLlm({ tls: { cert: leaf.certPem, key: leaf.keyPem } });
  const out = d.file('cap.jsonl');
  const proxy = await spawnCliProxy(['--out', out], { AGENTTAP_HOME: d.dir, NODE_EXTRA_CA_CERTS: caFile });
  try {
    const py = await runTool('/usr/bin/python3', ['-c', PY], { env: { PROXY: proxy.url!, PROXY_CA: d.file('ca.pem'), TARGET: fake.url } });
    assert.equal(py.code, 0, py.stderr);
    assert.match(py.stdout, /^200\nHello from the agenttap fake OpenAI upstream/);
    const c = await curl(['-x', proxy.url!, '--cacert', d.file('ca.pem'), '-H', 'content-type: application/json', '-d', '{"model":"m","max_tokens":10,"messages":[{"role":"user","content":"hi"}]}', `${fake.url}/v1/messages`]);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(JSON.parse(c.stdout).type, 'message');
    const code = await proxy.stop('SIGTERM');
    assert.equal(code, 0, proxy.stderr());
    const lines = proxy.stdout().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const exchanges = lines.filter((l) => l['type'] === 'exchange');
    assert.equal(exchanges.length, 2);
    assert.deepEqual(exchanges.map((e) => [e['method'], e['status']]), [['POST', 200], ['POST', 200]]);
    assert.ok(exchanges.every((e) => typeof e['durationMs'] === 'number' && (e['bytes'] as number) > 0));
    assert.deepEqual(lines[lines.length - 1], { type: 'closed', exchanges: 2, out });
    const recs = await readAllRecords(out);
    assert.equal(recs.length, 2);
    assert.ok(recs[0]!.request!.url.endsWith('/v1/chat/completions'));
    assert.match(JSON.stringify(recs[0]!.request!.headers), /Bearer \[REDACTED …7777\]/);
  } finally {
    await proxy.stop('SIGKILL');
    await fake.close();
    d.cleanup();
  }
});

test('without the upstream CA the CLI proxy refuses the upstream (502, tls) and prints a text log line', async () => {
  const d = tempDir();
  const { ca } = await upstreamTestCa();
  const leaf = await ca.leafFor('127.0.0.1');
  const fake = await startFakeLlm({ tls: { cert: leaf.certPem, key: leaf.keyPem } });
  const { spawn } = await import('node:child_process');
  const { cliBin } = await import('../support/cli-process.js');
  const child = spawn(process.execPath, [cliBin, 'proxy', '--port', '0', '--out', d.file('c.jsonl')], { env: { ...process.env, AGENTTAP_HOME: d.dir, NODE_EXTRA_CA_CERTS: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout!.on('data', (b: Buffer) => (stdout += b.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  try {
    const until = Date.now() + 15_000;
    while (!/listening on (http:\/\/\S+)/.test(stdout) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    const url = /listening on (http:\/\/\S+)/.exec(stdout)![1]!;
    const r = await curl(['-x', url, '--cacert', d.file('ca.pem'), '-w', '%{http_code}', '-o', '/dev/null', `${fake.url}/v1/models`]);
    assert.equal(r.stdout, '502');
    while (!/GET\s+127\.0\.0\.1:\d+\/v1\/models/.test(stdout) && Date.now() < until) await new Promise((res) => setTimeout(res, 20));
    assert.match(stdout, /\d\d:\d\d:\d\d GET\s+127\.0\.0\.1:\d+\/v1\/models ERR \d+ms 0 B {2}tls: /);
    child.kill('SIGINT');
    assert.equal(await exited, 0);
    assert.match(stdout, /capture: 1 exchange in .*c\.jsonl\n$/);
  } finally {
    child.kill('SIGKILL');
    await fake.close();
    d.cleanup();
  }
});

test('port in use, unwritable output and a damaged CA: one clear line each, exit 1', async () => {
  const d = tempDir();
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const port = (blocker.address() as net.AddressInfo).port;
  try {
    const env = { ...process.env, AGENTTAP_HOME: d.dir };
    const inUse = await runCli(['proxy', '--port', String(port), '--out', d.file('a.jsonl')], { env });
    assert.equal(inUse.code, 1);
    assert.equal(inUse.stderr, `agenttap: port ${port} on 127.0.0.1 is in use: pass --port with another port or stop the other process\n`);

    mkdirSync(d.file('dir.jsonl'));
    const badOut = await runCli(['proxy', '--port', '0', '--out', d.file('dir.jsonl')], { env });
    assert.equal(badOut.code, 1);
    assert.match(badOut.stderr, /^agenttap: cannot write the capture file .*dir\.jsonl: .*\(pass --out with a writable path\)\n$/);

    const home2 = d.file('home2');
    mkdirSync(home2);
    writeFileSync(`${home2}/ca.pem`, 'garbage');
    writeFileSync(`${home2}/ca-key.pem`, 'garbage');
    const badCa = await runCli(['proxy', '--port', '0', '--out', d.file('b.jsonl')], { env: { ...process.env, AGENTTAP_HOME: home2 } });
    assert.equal(badCa.code, 1);
    assert.match(badCa.stderr, /^agenttap: the CA in .* is damaged .*agenttap ca --regenerate\n$/);

    const usage = await runCli(['proxy', '--max-body', 'lots'], { env });
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--max-body: "lots" is not a size/);
  } finally {
    blocker.close();
    d.cleanup();
  }
});

test('a proxy listening beyond loopback says it is open to the network', async () => {
  const { spawn } = await import('node:child_process');
  const { cliBin } = await import('../support/cli-process.js');
  const d = tempDir();
  const child = spawn(process.execPath, [cliBin, 'proxy', '--host', '0.0.0.0', '--port', '0', '--out', d.file('c.jsonl'), '--quiet'], {
    env: { ...process.env, AGENTTAP_HOME: d.dir },
  });
  try {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b));
    child.stderr.on('data', (b: Buffer) => (stderr += b));
    const deadline = Date.now() + 20_000;
    while (!/listening on/.test(stdout) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    assert.match(stdout, /agenttap proxy listening on http:\/\/0\.0\.0\.0:\d+/);
    assert.match(stderr, /warning: --host 0\.0\.0\.0 is not loopback: anyone who can reach it can use this proxy/);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    d.cleanup();
  }
});
