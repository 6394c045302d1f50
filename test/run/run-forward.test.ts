import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAllRecords } from '../../src/capture/reader.js';
import type { CaptureRecord } from '../../src/capture/record.js';
import { startFakeLlm } from '../../src/fake-llm/server.js';
import { runCli } from '../support/cli-process.js';

async function readCapture(file: string): Promise<CaptureRecord[]> {
  return readAllRecords(file);
}

function env(home: string): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: home, AGENTTAP_HOME: join(home, '.agenttap'), LANG: 'C.UTF-8' };
  return e;
}

const CHAT_BODY = JSON.stringify({ model: 'gpt-4o-mini', input: 'say hi' });
const RESPONSES_URL = 'https://api.openai.com/v1/responses';

test('run -- curl: the request is captured through the forward proxy, TLS trusted via CURL_CA_BUNDLE, labelled with target and session', async () => {
  const fake = await startFakeLlm();
  const home = mkdtempSync(join(tmpdir(), 'agenttap-run-'));
  const out = join(home, 'cap.jsonl');
  try {
    const r = await runCli(
      ['run', '--out', out, '--map-remote', `api.openai.com=${fake.url}`, '--', 'curl', '-sS', '--fail', '-H', 'content-type: application/json', '-H', 'authorization: Bearer sk-test-1234567890', '-d', CHAT_BODY, RESPONSES_URL],
      { env: env(home) },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /SSL|certificate/i);
    const answer = JSON.parse(r.stdout) as { object: string; output: { content: { text: string }[] }[] };
    assert.equal(answer.object, 'response');
    assert.match(answer.output[0]!.content[0]!.text, /Hello from the agenttap fake upstream/);
    const recs = await readCapture(out);
    const chat = recs.filter((x) => x.request?.url === RESPONSES_URL);
    assert.equal(chat.length, 1);
    const rec = chat[0]!;
    assert.equal(rec.mode, 'forward');
    assert.equal(rec.response?.status, 200);
    assert.equal(rec.server.host, 'api.openai.com');
    assert.equal(rec.labels?.['target'], 'generic');
    assert.match(rec.labels?.['session'] ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(rec.client?.process, 'curl');
    assert.ok((rec.client?.pid ?? 0) > 0);
    assert.match(r.stderr, /agenttap: 1 exchange, 1 LLM call\n  gpt-4o-mini: 1 call, \d+ in \/ \d+ out tokens/);
    assert.doesNotMatch(readFileSync(out, 'utf8'), /sk-test-1234567890/);
    assert.match(r.stderr, new RegExp(`capture: ${out.replace(/[.]/g, '\\.')}`));
  } finally {
    await fake.close();
  }
});

test('run: python3 requests, python3 httpx and a Node fetch script with no proxy code are captured, with no TLS errors', async () => {
  const fake = await startFakeLlm();
  const home = mkdtempSync(join(tmpdir(), 'agenttap-run-'));
  const out = join(home, 'cap.jsonl');
  const py = join(home, 'agent.py');
  writeFileSync(
    py,
    [
      'import requests',
      'r = requests.post("https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent", headers={"x-goog-api-key": "AIza-test-abcdef"},',
      '    json={"contents": [{"role": "user", "parts": [{"text": "say hi"}]}]})',
      'r.raise_for_status()',
      'print("python-ok", r.json()["candidates"][0]["content"]["parts"][0]["text"])',
    ].join('\n'),
  );
  const js = join(home, 'agent.mjs');
  writeFileSync(
    js,
    [
      "const r = await fetch('https://api.openai.com/v1/responses', { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test-999' }, body: JSON.stringify({ model: 'gpt-4o-mini', input: 'hi', stream: true }) });",
      "if (!r.ok) throw new Error('status ' + r.status);",
      "const text = await r.text();",
      "console.log('node-ok', text.includes('event: response.completed'));",
    ].join('\n'),
  );
  try {
    const map = ['--map-remote', `generativelanguage.googleapis.com=${fake.url}`, '--map-remote', `api.openai.com=${fake.url}`];
    const p = await runCli(['run', '--out', out, ...map, '--', '/usr/bin/python3', py], { env: env(home) });
    assert.equal(p.code, 0, p.stderr);
    assert.match(p.stdout, /python-ok Hello from the agenttap fake upstream/);
    // httpx (Debian python3-httpx) reads SSL_CERT_FILE, not REQUESTS_CA_BUNDLE.
    const hx = join(home, 'agent_httpx.py');
    writeFileSync(hx, ['import httpx', 'r = httpx.post("https://api.openai.com/v1/responses", json={"model": "gpt-4o-mini", "input": "hi"}, headers={"authorization": "Bearer sk-test-httpx"})', 'r.raise_for_status()', 'print("httpx-ok", r.json()["object"])'].join('\n'));
    const h = await runCli(['run', '--out', out, ...map, '--', '/usr/bin/python3', hx], { env: env(home) });
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stdout, /httpx-ok response/);
    const n = await runCli(['run', '--out', out, ...map, '--', process.execPath, js], { env: env(home) });
    assert.equal(n.code, 0, n.stderr);
    assert.match(n.stdout, /node-ok true/);
    const recs = await readCapture(out);
    const anth = recs.find((x) => x.request?.url === 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent');
    const oai = recs.find((x) => x.request?.url === RESPONSES_URL);
    assert.equal(anth?.response?.status, 200);
    assert.equal(oai?.response?.status, 200);
    assert.equal(anth?.client?.process, 'python3');
    assert.equal(oai?.client?.process, 'python3'); // the httpx run came first
    assert.ok(recs.some((x) => x.request?.url === RESPONSES_URL && x.client?.process === 'node'));
    assert.notEqual(anth?.labels?.['session'], oai?.labels?.['session'], 'one session per run');
    // Secrets are redacted before disk.
    assert.doesNotMatch(readFileSync(out, 'utf8'), /AIza-test-abcdef|sk-test-999|sk-test-httpx/);
  } finally {
    await fake.close();
  }
});

test('run: loopback stays direct (local servers, OAuth callbacks) while real hosts go through the proxy', async () => {
  const fake = await startFakeLlm();
  const home = mkdtempSync(join(tmpdir(), 'agenttap-run-'));
  const out = join(home, 'cap.jsonl');
  try {
    const script = `curl -sS -o /dev/null -w 'local %{http_code}\\n' ${fake.url}/v1/models; curl -sS -o /dev/null -w 'remote %{http_code}\\n' -d '${CHAT_BODY}' -H 'content-type: application/json' ${RESPONSES_URL}; echo "no_proxy=$NO_PROXY"`;
    const r = await runCli(['run', '--out', out, '--map-remote', `api.openai.com=${fake.url}`, '--', '/bin/sh', '-c', script], { env: { ...env(home), NO_PROXY: 'intranet.example' } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^local 404$/m);
    assert.match(r.stdout, /^remote 200$/m);
    assert.match(r.stdout, /^no_proxy=localhost,127\.0\.0\.1,::1,intranet\.example$/m);
    const urls = (await readCapture(out)).map((x) => x.request?.url);
    assert.deepEqual(urls, [RESPONSES_URL]);
  } finally {
    await fake.close();
  }
});

test('run passes the exit code through; a child killed by a signal gives 128+signal and the capture is still written', async () => {
  const fake = await startFakeLlm();
  const home = mkdtempSync(join(tmpdir(), 'agenttap-run-'));
  const out = join(home, 'cap.jsonl');
  try {
    const seven = await runCli(['run', '--out', out, '--', '/bin/sh', '-c', 'exit 7'], { env: env(home) });
    assert.equal(seven.code, 7, seven.stderr);
    const killed = await runCli(
      ['run', '--out', out, '--map-remote', `api.openai.com=${fake.url}`, '--', '/bin/sh', '-c', `curl -sS -o /dev/null -d '${CHAT_BODY}' -H 'content-type: application/json' ${RESPONSES_URL} && kill -TERM $$`],
      { env: env(home) },
    );
    assert.equal(killed.code, 143, killed.stderr);
    const recs = await readCapture(out);
    assert.equal(recs.filter((x) => x.request?.url === RESPONSES_URL).length, 1);
    assert.match(killed.stderr, /killed by SIGTERM/);
  } finally {
    await fake.close();
  }
});

test('run: command not found is exit 127 with one clear line; unknown target is a usage error; --list-targets lists them', async () => {
  const home = mkdtempSync(join(tmpdir(), 'agenttap-run-'));
  const nf = await runCli(['run', '--', 'agenttap-no-such-command', '--flag'], { env: env(home) });
  assert.equal(nf.code, 127);
  assert.equal(nf.stderr.trim(), 'agenttap: command not found: agenttap-no-such-command');
  const bad = await runCli(['run', '--target', 'clod', '--', 'true'], { env: env(home) });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /unknown target "clod": choose one of claude-code, codex/);
  const none = await runCli(['run'], { env: env(home) });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no command to run/);
  const list = await runCli(['run', '--list-targets'], { env: env(home) });
  assert.equal(list.code, 0);
  for (const name of ['claude-code', 'codex', 'gemini-cli', 'opencode', 'aider', 'cursor', 'generic', 'openai-sdk', 'anthropic-sdk', 'gemini-sdk']) assert.match(list.stdout, new RegExp(`^${name} `, 'm'));
  // A port in use: one line, exit 1, and the command never starts.
  const net = await import('node:net');
  const busy = net.createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
  const port = (busy.address() as import('node:net').AddressInfo).port;
  const marker = join(home, 'started');
  const inUse = await runCli(['run', '--port', String(port), '--', '/bin/sh', '-c', `touch ${marker}`], { env: env(home) });
  busy.close();
  assert.equal(inUse.code, 1);
  assert.match(inUse.stderr, new RegExp(`^agenttap: port ${port} on 127\\.0\\.0\\.1 is in use`, 'm'));
  assert.equal((await import('node:fs')).existsSync(marker), false);
  const cursor = await runCli(['run', '--target', 'cursor'], { env: env(home) });
  assert.equal(cursor.code, 0);
  assert.match(cursor.stdout, /"http\.proxy"/);
  assert.match(cursor.stdout, /HTTP\/2/);
});
