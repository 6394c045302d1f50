// The commands a user types: `agenttap ui FILE` prints a token URL and serves the capture;
// `agenttap proxy --ui` serves the live traffic; bad flags and files get one clear line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { request } from 'undici';
import { writeCapture } from '../ui/capture-fixtures.js';

const BIN = resolve('bin/agenttap.js');

function start(args: string[], home: string): { child: ChildProcess; output: () => string; waitFor: (re: RegExp) => Promise<RegExpMatchArray>; done: Promise<number> } {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, AGENTTAP_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (d: Buffer): void => {
    out += d.toString();
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const done = new Promise<number>((r) => child.on('close', (code) => r(code ?? -1)));
  return {
    child,
    output: () => out,
    done,
    waitFor: (re) =>
      new Promise((resolvePromise, reject) => {
        const check = (): void => {
          const m = re.exec(out);
          if (m) {
            listeners.delete(check);
            clearTimeout(timer);
            resolvePromise(m);
          }
        };
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re} in: ${out}`)), 20_000);
        listeners.add(check);
        check();
        void done.then(() => check());
      }),
  };
}

test('agenttap ui FILE prints a token URL, serves the capture, names bad lines and stops on SIGTERM', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'agenttap-uicmd-'));
  try {
    const file = join(dir, 'c.jsonl');
    await writeCapture(file, 30, ['{oops']);
    const p = start(['ui', file, '--port', '0'], join(dir, 'home'));
    const [, url, port, token] = await p.waitFor(/agenttap inspector: (http:\/\/127\.0\.0\.1:(\d+)\/\?token=([\w-]+))/);
    await p.waitFor(/30 exchanges from .*c\.jsonl \(1 bad lines skipped\)/);
    assert.match(p.output(), /c\.jsonl:31: malformed JSON/);
    const page = await request(url!);
    assert.equal(page.statusCode, 200);
    await page.body.dump();
    const noToken = await request(`http://127.0.0.1:${port}/api/s/main/rows`);
    assert.equal(noToken.statusCode, 401);
    await noToken.body.dump();
    const rows = await request(`http://127.0.0.1:${port}/api/s/main/rows`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(((await rows.body.json()) as { rows: unknown[] }).rows.length, 30);
    p.child.kill('SIGTERM');
    assert.equal(await p.done, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('bad input: a missing file, a bad port, a non-loopback host without --ui-host', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'agenttap-uicmd-'));
  try {
    const missing = start(['ui', join(dir, 'nope.jsonl')], join(dir, 'home'));
    assert.equal(await missing.done, 1);
    assert.match(missing.output(), /agenttap: .*nope\.jsonl: no such file/);
    const badPort = start(['ui', '--port', 'eighty'], join(dir, 'home'));
    assert.equal(await badPort.done, 2);
    assert.match(badPort.output(), /--port must be a port number/);
    const remote = start(['ui', '--port', '0', '--ui-host', '0.0.0.0'], join(dir, 'home'));
    await remote.waitFor(/WARNING: the inspector will listen on 0\.0\.0\.0/);
    await remote.waitFor(/agenttap inspector: http:\/\/0\.0\.0\.0:\d+\/\?token=/);
    remote.child.kill('SIGTERM');
    assert.equal(await remote.done, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('agenttap proxy --ui shows the proxied exchanges in the inspector', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'agenttap-uicmd-'));
  try {
    const p = start(['proxy', '--port', '0', '--ui', '0', '--out', join(dir, 'live.jsonl')], join(dir, 'home'));
    const [, proxyUrl] = await p.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
    const [, port, token] = await p.waitFor(/agenttap inspector: http:\/\/127\.0\.0\.1:(\d+)\/\?token=([\w-]+)/);
    // A plain-HTTP request through the proxy to a local server that is not there: a 502 row.
    const curl = spawn('curl', ['-s', '-o', '/dev/null', '-x', proxyUrl!, 'http://127.0.0.1:9/nothing-here']);
    await new Promise((r) => curl.on('close', r));
    let rows: { path: string; state: string }[] = [];
    for (let i = 0; i < 50 && rows.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      const res = await request(`http://127.0.0.1:${port}/api/s/main/rows`, { headers: { authorization: `Bearer ${token}` } });
      rows = ((await res.body.json()) as { rows: { path: string; state: string }[] }).rows;
    }
    assert.equal(rows.length, 1);
    assert.equal(rows[0]!.path, '/nothing-here');
    assert.equal(rows[0]!.state, 'error');
    p.child.kill('SIGTERM');
    assert.equal(await p.done, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
