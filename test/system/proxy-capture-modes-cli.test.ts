import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliBin, runCli } from '../support/cli-process.js';

function sandbox(): { home: string; hosts: string; env: NodeJS.ProcessEnv } {
  const home = mkdtempSync(join(tmpdir(), 'agenttap-modes-'));
  const hosts = join(home, 'hosts');
  writeFileSync(hosts, '127.0.0.1 localhost\n');
  return { home, hosts, env: { PATH: process.env['PATH'], HOME: home, AGENTTAP_HOME: join(home, '.agenttap'), AGENTTAP_HOSTS_FILE: hosts } };
}

const commands = (stdout: string): string[] => stdout.split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split('    #')[0]!);

test('proxy --system --dry-run prints the exact OS commands for macOS, Windows, KDE and GNOME, and changes nothing', async () => {
  const s = sandbox();
  const mac = await runCli(['proxy', '--system', '--dry-run', '--system-platform', 'macos', '--port', '8123'], { env: s.env });
  assert.equal(mac.code, 0, mac.stderr);
  assert.deepEqual(commands(mac.stdout), [
    'networksetup -listallnetworkservices',
    'networksetup -getwebproxy <service>',
    'networksetup -getsecurewebproxy <service>',
    'networksetup -setwebproxy Wi-Fi 127.0.0.1 8123',
    'networksetup -setsecurewebproxy Wi-Fi 127.0.0.1 8123',
    'networksetup -setwebproxystate Wi-Fi off',
    'networksetup -setsecurewebproxystate Wi-Fi off',
  ]);
  const win = await runCli(['proxy', '--system', '--dry-run', '--system-platform', 'windows', '--port', '8123'], { env: s.env });
  assert.equal(win.code, 0, win.stderr);
  const w = commands(win.stdout);
  assert.ok(w.includes("netsh winhttp set proxy 127.0.0.1:8123 '<local>'"), w.join('\n'));
  assert.ok(w.some((l) => /^reg add .*Internet Settings' \/v ProxyServer \/t REG_SZ \/d 127\.0\.0\.1:8123 \/f$/.test(l)));
  assert.ok(w.includes('netsh winhttp reset proxy'));
  const kde = await runCli(['proxy', '--system', '--dry-run', '--system-platform', 'kde', '--port', '8123'], { env: s.env });
  assert.equal(kde.code, 0, kde.stderr);
  assert.ok(commands(kde.stdout).includes("kwriteconfig5 --file kioslaverc --group 'Proxy Settings' --key httpsProxy 'http://127.0.0.1 8123'"));
  const gnome = await runCli(['proxy', '--system', '--dry-run', '--system-platform', 'gnome', '--port', '8123'], { env: s.env });
  assert.equal(gnome.code, 0, gnome.stderr);
  assert.ok(commands(gnome.stdout).includes('gsettings set org.gnome.system.proxy mode manual'));
  assert.ok(commands(gnome.stdout).includes('gsettings set org.gnome.system.proxy mode none'));
  assert.equal(existsSync(join(s.home, '.agenttap', 'system-state.json')), false);
  const bad = await runCli(['proxy', '--system', '--dry-run', '--system-platform', 'beos'], { env: s.env });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--system-platform "beos": choose one of macos, gnome, kde, windows/);
});

test('proxy --hosts-redirect --dry-run prints the hosts block and the listener; the hosts file is untouched', async () => {
  const s = sandbox();
  const r = await runCli(['proxy', '--hosts-redirect', 'api.openai.com', '--dry-run'], { env: s.env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^listen 127\.0\.0\.1:443 /m);
  assert.match(r.stdout, new RegExp(`^write ${s.hosts.replace(/[.]/g, '\\.')} +# add the block:\\n  # >>> agenttap hosts-redirect.*\\n  127\\.0\\.0\\.1 api\\.openai\\.com\\n  # <<< agenttap hosts-redirect$`, 'm'));
  assert.match(r.stdout, /remove the agenttap block \(api\.openai\.com\)/);
  assert.equal(readFileSync(s.hosts, 'utf8'), '127.0.0.1 localhost\n');
  const bad = await runCli(['proxy', '--hosts-redirect', 'not a host', '--dry-run'], { env: s.env });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /--hosts-redirect needs a host name like api\.openai\.com/);
});

function gsettings(env: NodeJS.ProcessEnv, ...args: string[]): string {
  return execFileSync('gsettings', args, { env, encoding: 'utf8' }).trim();
}

test('proxy --system on GNOME (real gsettings): set while running, restored on Ctrl-C, by --revert or the next start after a crash, and by --system-timeout', async () => {
  const s = sandbox();
  const env = { ...s.env, GSETTINGS_BACKEND: 'keyfile', XDG_CONFIG_HOME: join(s.home, 'config'), XDG_CURRENT_DESKTOP: 'GNOME' };
  const start = (...extra: string[]): Promise<{ child: ReturnType<typeof spawn>; port: number; output: () => string }> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [cliBin, 'proxy', '--system', '--port', '0', '--out', join(s.home, 'cap.jsonl'), ...extra], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      const onData = (d: Buffer): void => {
        text += d.toString();
        const m = /system proxy set to 127\.0\.0\.1:(\d+)/.exec(text);
        if (m) resolve({ child, port: Number(m[1]), output: () => text });
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.on('exit', (code) => reject(new Error(`proxy exited ${code}: ${text}`)));
      setTimeout(() => reject(new Error(`proxy did not set the system proxy: ${text}`)), 20_000).unref();
    });
  const a = await start();
  assert.equal(gsettings(env, 'get', 'org.gnome.system.proxy', 'mode'), "'manual'");
  assert.equal(gsettings(env, 'get', 'org.gnome.system.proxy.https', 'port'), String(a.port));
  const exited = new Promise((r) => a.child.on('exit', r));
  a.child.kill('SIGINT');
  await exited;
  assert.equal(gsettings(env, 'get', 'org.gnome.system.proxy', 'mode'), "'none'");
  assert.equal(existsSync(join(s.home, '.agenttap', 'system-state.json')), false);

  const b = await start();
  const died = new Promise((r) => b.child.on('exit', r));
  b.child.kill('SIGKILL'); // a crash: nothing can run
  await died;
  assert.equal(gsettings(env, 'get', 'org.gnome.system.proxy', 'mode'), "'manual'");
  const rev = await runCli(['proxy', '--revert'], { env });
  assert.equal(rev.code, 0, rev.stderr);
  assert.match(rev.stdout + rev.stderr, /system proxy \(gnome\) restored/);
  assert.equal(gsettings(env, 'get', 'org.gnome.system.proxy', 'mode'), "'none'");
  const again = await runCli(['proxy', '--revert'], { env });
  assert.match(again.stdout + again.stderr, /nothing to revert/);

  // A crash, then the next start repairs it first (and saves the real previous state again).
  const d = await start();
  const dDied = new Promise((r) => d.child.on('exit', r));
  d.child.kill('SIGKILL');
  await dDied;
  const e = await start();
  assert.match(e.output(), /an earlier run did not clean up: system proxy \(gnome\) restored/);
  const eDone = new Promise((r) => e.child.on('exit', r));
  e.child.kill('SIGINT');
  await eDone;
  assert.equal(gsettings(env, 'get', 'org.gnome.system.proxy', 'mode'), "'none'");

  // --system-timeout: the OS setting goes back on its own; the proxy keeps running.
  const c = await start('--system-timeout', '1s');
  assert.equal(gsettings(env, 'get', 'org.gnome.system.proxy', 'mode'), "'manual'");
  for (let i = 0; i < 50 && !/--system-timeout reached/.test(c.output()); i++) await new Promise((r) => setTimeout(r, 100));
  assert.match(c.output(), /--system-timeout reached: system proxy restored \(gnome\)/);
  assert.equal(gsettings(env, 'get', 'org.gnome.system.proxy', 'mode'), "'none'");
  assert.equal(c.child.exitCode, null, 'the proxy is still running');
  const gone = new Promise((r) => c.child.on('exit', r));
  c.child.kill('SIGINT');
  await gone;
  assert.equal(gsettings(env, 'get', 'org.gnome.system.proxy', 'mode'), "'none'");
});

test('proxy --hosts-redirect (real run): HOST captured through the :443-style listener; an unwritable hosts file is one clear line and nothing changes', async () => {
  const s = sandbox();
  const { startFakeLlm: startFakeUpstream } = await import('../../src/fake-llm/server.js');
  const fake = await startFakeUpstream();
  const host = 'api.redirect-cli.example';
  const out = join(s.home, 'cap.jsonl');
  try {
    const child = spawn(process.execPath, [cliBin, 'proxy', '--quiet', '--port', '0', '--out', out, '--hosts-redirect', host, '--hosts-redirect-port', '0', '--map-remote', `${host}=${fake.url}`], { env: s.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    const port = await new Promise<number>((resolve, reject) => {
      const onData = (d: Buffer): void => {
        text += d.toString();
        const m = /TLS on 127\.0\.0\.1:(\d+)/.exec(text);
        if (m) resolve(Number(m[1]));
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.on('exit', (code) => reject(new Error(`proxy exited ${code}: ${text}`)));
      setTimeout(() => reject(new Error(`no listener line: ${text}`)), 20_000).unref();
    });
    after(() => child.kill('SIGKILL'));
    assert.match(readFileSync(s.hosts, 'utf8'), /^127\.0\.0\.1 api\.redirect-cli\.example$/m);
    const ca = join(s.home, '.agenttap', 'ca.pem');
    // Async: the fake upstream lives in this process and must keep serving.
    const r = await new Promise<string>((resolve, reject) => {
      const c = spawn('curl', ['-sS', '--fail', '--max-time', '20', '--connect-to', `${host}:443:127.0.0.1:${port}`, '--cacert', ca, '-H', 'content-type: application/json', '-d', '{"model":"gpt-4o-mini","input":"hi"}', `https://${host}/v1/responses`]);
      let o = '';
      let e = '';
      c.stdout.on('data', (d: Buffer) => (o += d.toString()));
      c.stderr.on('data', (d: Buffer) => (e += d.toString()));
      c.on('close', (code) => (code === 0 ? resolve(o) : reject(new Error(`curl exit ${code}: ${e}`))));
    });
    assert.match(r, /"object":"response"/);
    const exited = new Promise((res) => child.on('exit', res));
    child.kill('SIGINT');
    await exited;
    assert.equal(readFileSync(s.hosts, 'utf8'), '127.0.0.1 localhost\n');
    assert.match(readFileSync(out, 'utf8'), new RegExp(`"url":"https://${host.replace(/\./g, '\\.')}/v1/responses"`));
    const rec = JSON.parse(readFileSync(out, 'utf8').trim().split('\n').find((l) => l.includes('/v1/responses'))!) as { mode: string; client: { process?: string }; labels?: Record<string, string> };
    assert.equal(rec.mode, 'transparent');
    assert.equal(rec.labels?.['capture'], 'hosts-redirect');
    if (process.platform === 'linux') assert.equal(rec.client.process, 'curl');
  } finally {
    await fake.close();
  }
  // Not writable (as root, a sysfs file; otherwise a read-only file): exit 1, one line, no state left.
  const ro = process.getuid?.() === 0 ? '/sys/kernel/notes' : s.hosts;
  if (ro === s.hosts) execFileSync('chmod', ['444', s.hosts]);
  const bad = await runCli(['proxy', '--port', '0', '--out', join(s.home, 'bad.jsonl'), '--hosts-redirect', 'api.openai.com', '--hosts-redirect-port', '0'], { cwd: s.home, env: { ...s.env, AGENTTAP_HOSTS_FILE: ro } });
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^agenttap: cannot write .* editing the hosts file needs root — run with sudo/m);
  assert.equal(existsSync(join(s.home, '.agenttap', 'system-state.json')), false);
});

test('proxy --system with no desktop session (gsettings cannot work) is one clear line, exit 1, nothing changed', async () => {
  const s = sandbox();
  const r = await runCli(['proxy', '--system', '--port', '0', '--out', join(s.home, 'c.jsonl')], { cwd: s.home, env: { ...s.env, XDG_CURRENT_DESKTOP: 'GNOME' } });
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stderr, /^agenttap: gsettings needs a desktop session/m);
  assert.equal(existsSync(join(s.home, '.agenttap', 'system-state.json')), false);
});
