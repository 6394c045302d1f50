import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { disableSystemProxy, enableSystemProxy, loadState, revertSaved } from '../../src/system/capture-state.js';
import { renderAction } from '../../src/system/os-actions.js';
import {
  applyActions,
  detectProxyPlatform,
  gnomeSessionProblem,
  parseMacProxy,
  parseMacServices,
  parseRegValue,
  parseWinhttp,
  revertActions,
} from '../../src/system/system-proxy.js';
import { addRedirects, blockHosts, removeRedirects, resolveBypassingHosts, withBlock } from '../../src/system/hosts-file.js';

// GNOME's real gsettings with the keyfile backend: the same schema and tool as a desktop, stored in a temp dir.
function gnomeEnv(): NodeJS.ProcessEnv {
  const dir = mkdtempSync(join(tmpdir(), 'agenttap-gsettings-'));
  return { ...process.env, GSETTINGS_BACKEND: 'keyfile', XDG_CONFIG_HOME: dir };
}
const gget = (env: NodeJS.ProcessEnv, schema: string, key: string): string => execFileSync('gsettings', ['get', schema, key], { env, encoding: 'utf8' }).trim();

test('--system on GNOME sets the proxy with gsettings, saves the previous state, and restores it exactly', async () => {
  const env = gnomeEnv();
  execFileSync('gsettings', ['set', 'org.gnome.system.proxy.http', 'host', 'corp-proxy.example'], { env });
  execFileSync('gsettings', ['set', 'org.gnome.system.proxy.http', 'port', '3128'], { env });
  const home = mkdtempSync(join(tmpdir(), 'agenttap-home-'));
  const saved = { ...process.env };
  Object.assign(process.env, { GSETTINGS_BACKEND: env['GSETTINGS_BACKEND'], XDG_CONFIG_HOME: env['XDG_CONFIG_HOME'] });
  try {
    const printed: string[] = [];
    const state = await enableSystemProxy('gnome', { host: '127.0.0.1', port: 18080 }, 30 * 60_000, { home, dryRun: false, print: (l) => printed.push(l) });
    assert.equal(gget(env, 'org.gnome.system.proxy', 'mode'), "'manual'");
    assert.equal(gget(env, 'org.gnome.system.proxy.https', 'host'), "'127.0.0.1'");
    assert.equal(gget(env, 'org.gnome.system.proxy.https', 'port'), '18080');
    assert.deepEqual(loadState(home).systemProxy?.previous, { platform: 'gnome', mode: 'none', httpHost: 'corp-proxy.example', httpPort: '3128', httpsHost: '', httpsPort: '0' });
    assert.ok(state.expiresAt);
    await disableSystemProxy(state, { home, dryRun: false, print: (l) => printed.push(l) });
    assert.equal(gget(env, 'org.gnome.system.proxy', 'mode'), "'none'");
    assert.equal(gget(env, 'org.gnome.system.proxy.http', 'host'), "'corp-proxy.example'");
    assert.equal(gget(env, 'org.gnome.system.proxy.http', 'port'), '3128');
    assert.equal(existsSync(join(home, 'system-state.json')), false);

    // After a crash (state left behind, owner pid gone) the next start reverts it.
    await enableSystemProxy('gnome', { host: '127.0.0.1', port: 18081 }, 0, { home, dryRun: false, print: () => {} });
    const file = join(home, 'system-state.json');
    const st = JSON.parse(readFileSync(file, 'utf8'));
    st.systemProxy.pid = 2 ** 22 + 12345; // no such process
    writeFileSync(file, JSON.stringify(st));
    const done = await revertSaved({ home, dryRun: false, print: () => {}, onlyDead: true });
    assert.deepEqual(done, ['system proxy (gnome) restored']);
    assert.equal(gget(env, 'org.gnome.system.proxy', 'mode'), "'none'");
  } finally {
    process.env = saved;
  }
});

test('gsettings without a desktop session is one clear message and nothing changes', () => {
  assert.match(gnomeSessionProblem({ PATH: '/usr/bin' }) ?? '', /gsettings needs a desktop session/);
  assert.equal(gnomeSessionProblem({ DBUS_SESSION_BUS_ADDRESS: 'unix:path=/x' }), undefined);
  assert.equal(detectProxyPlatform({ XDG_CURRENT_DESKTOP: 'KDE' }, 'linux'), 'kde');
  assert.equal(detectProxyPlatform({}, 'darwin'), 'macos');
  assert.equal(detectProxyPlatform({}, 'win32'), 'windows');
  assert.throws(() => detectProxyPlatform({}, 'aix'), /no system proxy settings agenttap knows on aix/);
});

test('macOS, Windows and KDE: what the OS prints is parsed, and revert puts back exactly what was there', () => {
  // Output formats as printed by networksetup / netsh / reg.
  assert.deepEqual(parseMacServices('An asterisk (*) denotes that a network service is disabled.\nWi-Fi\n*Bluetooth PAN\nUSB 10/100/1000 LAN\n'), ['Wi-Fi', 'USB 10/100/1000 LAN']);
  assert.deepEqual(parseMacProxy('Enabled: Yes\nServer: proxy.corp\nPort: 3128\nAuthenticated Proxy Enabled: 0\n'), { enabled: true, server: 'proxy.corp', port: 3128 });
  assert.deepEqual(parseWinhttp('\nCurrent WinHTTP proxy settings:\n\n    Direct access (no proxy server).\n'), { proxy: null, bypass: null });
  assert.deepEqual(parseWinhttp('Current WinHTTP proxy settings:\n\n    Proxy Server(s) :  10.0.0.1:8080\n    Bypass List     :  <local>\n'), { proxy: '10.0.0.1:8080', bypass: '<local>' });
  assert.equal(parseRegValue('\nHKEY_CURRENT_USER\\Software\\...\n    ProxyEnable    REG_DWORD    0x1\n', 'ProxyEnable'), '0x1');

  const mac = revertActions({ platform: 'macos', services: [{ name: 'Wi-Fi', web: { enabled: true, server: 'proxy.corp', port: 3128 }, secure: { enabled: false, server: '', port: 0 } }] }).map(renderAction);
  assert.deepEqual(mac.map((l) => l.split('    #')[0]), [
    'networksetup -setwebproxy Wi-Fi proxy.corp 3128',
    'networksetup -setwebproxystate Wi-Fi on',
    'networksetup -setsecurewebproxystate Wi-Fi off',
  ]);
  const win = applyActions({ platform: 'windows', winhttpProxy: null, winhttpBypass: null, proxyEnable: '0x0', proxyServer: null }, { host: '127.0.0.1', port: 8080 }).map((a) => renderAction(a).split('    #')[0]);
  assert.deepEqual(win, [
    "netsh winhttp set proxy 127.0.0.1:8080 '<local>'",
    "reg add 'HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings' /v ProxyServer /t REG_SZ /d 127.0.0.1:8080 /f",
    "reg add 'HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings' /v ProxyEnable /t REG_DWORD /d 1 /f",
  ]);
  const winBack = revertActions({ platform: 'windows', winhttpProxy: null, winhttpBypass: null, proxyEnable: '0x0', proxyServer: null }).map((a) => renderAction(a).split('    #')[0]);
  assert.equal(winBack[0], 'netsh winhttp reset proxy');
  assert.match(winBack[2]!, /ProxyEnable \/t REG_DWORD \/d 0 \/f$/);
  const kde = applyActions({ platform: 'kde', tool: 'kwriteconfig6', proxyType: '0', httpProxy: '', httpsProxy: '' }, { host: '127.0.0.1', port: 8080 }).map((a) => renderAction(a).split('    #')[0]);
  assert.equal(kde[0], "kwriteconfig6 --file kioslaverc --group 'Proxy Settings' --key httpProxy 'http://127.0.0.1 8080'");
  assert.equal(kde[2], "kwriteconfig6 --file kioslaverc --group 'Proxy Settings' --key ProxyType 1");
  assert.match(kde[3]!, /^dbus-send .*reparseSlaveConfiguration/);
});

test('hosts redirect: a marked block is added and removed, other lines untouched; a read-only hosts file is one clear error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agenttap-hosts-'));
  const hosts = join(dir, 'hosts');
  const original = '127.0.0.1 localhost\n::1 localhost ip6-localhost\n10.1.2.3 build.corp # keep me\n';
  writeFileSync(hosts, original);
  addRedirects(hosts, ['api.openai.com']);
  addRedirects(hosts, ['api.anthropic.com', 'api.openai.com']);
  const text = readFileSync(hosts, 'utf8');
  assert.ok(text.startsWith(original));
  assert.deepEqual(blockHosts(text), ['api.openai.com', 'api.anthropic.com']);
  assert.match(text, /^# >>> agenttap hosts-redirect .*\n127\.0\.0\.1 api\.openai\.com\n127\.0\.0\.1 api\.anthropic\.com\n# <<< agenttap hosts-redirect\n$/m);
  assert.deepEqual(removeRedirects(hosts), ['api.openai.com', 'api.anthropic.com']);
  assert.equal(readFileSync(hosts, 'utf8'), original);
  assert.equal(withBlock('a\r\nb', ['x.example']).split('\r\n').length, 6, 'CRLF files stay CRLF');

  // Not writable: a read-only file for a normal user; as root (CI), a sysfs file root cannot write either.
  let readOnly = hosts;
  if (process.getuid?.() === 0) readOnly = '/sys/kernel/notes';
  else chmodSync(hosts, 0o444);
  const before = readFileSync(readOnly);
  assert.throws(() => addRedirects(readOnly, ['api.openai.com']), /cannot write .* \(EACCES\): editing the hosts file needs root — run with sudo/);
  assert.deepEqual(readFileSync(readOnly), before);
  const roDir = join(dir, 'missing-dir', 'hosts');
  assert.throws(() => addRedirects(roDir, ['api.openai.com']), /cannot update .*missing-dir\/hosts/);
});

test('the real upstream is resolved through DNS servers, not the hosts file', async () => {
  // A DNS server that cannot be reached: the resolver must ask it (and fail), never fall back to /etc/hosts.
  await assert.rejects(resolveBypassingHosts('localhost', ['127.0.0.1:9']), /cannot resolve localhost through DNS/);
});
