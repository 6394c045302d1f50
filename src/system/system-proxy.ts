// `agenttap proxy --system`: point the OS proxy settings at agenttap, remember what was there, and
// put it back (on exit, Ctrl-C, --system-timeout, `--revert`, or on the next start after a crash).
// macOS: networksetup per network service. GNOME: gsettings. KDE: kwriteconfig5/6 + a KIO reparse
// signal. Windows: netsh winhttp + the WinINet registry keys (what browsers and most apps read).
import { execCommand, type OsAction } from './os-actions.js';

export type ProxyPlatform = 'macos' | 'gnome' | 'kde' | 'windows';
export const PROXY_PLATFORMS: readonly ProxyPlatform[] = ['macos', 'gnome', 'kde', 'windows'];

export interface ProxyEndpoint {
  host: string;
  port: number;
}

interface MacProxy {
  enabled: boolean;
  server: string;
  port: number;
}
export type PreviousProxy =
  | { platform: 'macos'; services: { name: string; web: MacProxy; secure: MacProxy }[] }
  | { platform: 'gnome'; mode: string; httpHost: string; httpPort: string; httpsHost: string; httpsPort: string }
  | { platform: 'kde'; tool: string; proxyType: string; httpProxy: string; httpsProxy: string }
  | { platform: 'windows'; winhttpProxy: string | null; winhttpBypass: string | null; proxyEnable: string; proxyServer: string | null };

/** What is saved in $AGENTTAP_HOME/system-proxy.json while the OS proxy points at us. */
export interface SystemProxyState {
  platform: ProxyPlatform;
  proxy: ProxyEndpoint;
  pid: number;
  appliedAt: string;
  expiresAt?: string;
  previous: PreviousProxy;
}

export class SystemProxyError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

const WININET_KEY = 'HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings';

/** The desktop/OS whose proxy settings apply here, or an error saying why none does. */
export function detectProxyPlatform(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): ProxyPlatform {
  if (platform === 'darwin') return 'macos';
  if (platform === 'win32') return 'windows';
  if (platform === 'linux' || platform === 'freebsd') {
    const desktop = `${env['XDG_CURRENT_DESKTOP'] ?? ''}:${env['DESKTOP_SESSION'] ?? ''}`.toLowerCase();
    if (desktop.includes('kde') || desktop.includes('plasma')) return 'kde';
    return 'gnome';
  }
  throw new SystemProxyError(`no system proxy settings agenttap knows on ${platform}: use agenttap run, or set HTTPS_PROXY yourself`, 'unsupported-os');
}

/** GNOME's gsettings talks to dconf over the session D-Bus; without a desktop session it cannot work. */
export function gnomeSessionProblem(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!env['DBUS_SESSION_BUS_ADDRESS'] && !env['DISPLAY'] && !env['WAYLAND_DISPLAY'] && env['GSETTINGS_BACKEND'] !== 'keyfile') {
    return 'gsettings needs a desktop session (no DBUS_SESSION_BUS_ADDRESS, DISPLAY or WAYLAND_DISPLAY here): run it from your desktop terminal, or use agenttap run / HTTPS_PROXY instead';
  }
  return undefined;
}

// ---------- parsing what the OS reports (pure) ----------

export function parseMacServices(text: string): string[] {
  return text
    .split('\n')
    .slice(1) // "An asterisk (*) denotes that a network service is disabled."
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('*'));
}

export function parseMacProxy(text: string): MacProxy {
  const get = (k: string): string => new RegExp(`^${k}:\\s*(.*)$`, 'm').exec(text)?.[1]?.trim() ?? '';
  return { enabled: get('Enabled') === 'Yes', server: get('Server'), port: Number(get('Port')) || 0 };
}

export function parseWinhttp(text: string): { proxy: string | null; bypass: string | null } {
  if (/Direct access/i.test(text)) return { proxy: null, bypass: null };
  const proxy = /Proxy Server\(s\)\s*:\s*(\S.*)$/m.exec(text)?.[1]?.trim() ?? null;
  const bypass = /Bypass List\s*:\s*(\S.*)$/m.exec(text)?.[1]?.trim() ?? null;
  return { proxy, bypass: bypass === '(none)' ? null : bypass };
}

export function parseRegValue(text: string, name: string): string | null {
  const m = new RegExp(`^\\s*${name}\\s+REG_\\w+\\s+(.*)$`, 'mi').exec(text);
  return m ? m[1]!.trim() : null;
}

/** gsettings prints GVariant text: 'none', 8080, '' … */
export function unquoteGvariant(text: string): string {
  const t = text.trim();
  return t.startsWith("'") && t.endsWith("'") ? t.slice(1, -1) : t;
}

// ---------- reading the current settings ----------

export type Exec = (argv: string[]) => Promise<{ stdout: string; code: number; stderr: string }>;

/** Commands used to read the current state; printed under --dry-run. */
export function readCommands(platform: ProxyPlatform, kdeTool = 'kreadconfig5'): string[][] {
  switch (platform) {
    case 'macos':
      return [['networksetup', '-listallnetworkservices'], ['networksetup', '-getwebproxy', '<service>'], ['networksetup', '-getsecurewebproxy', '<service>']];
    case 'gnome':
      return ['mode', 'http host', 'http port', 'https host', 'https port'].map((k) => {
        const [a, b] = k.split(' ');
        return b ? ['gsettings', 'get', `org.gnome.system.proxy.${a}`, b] : ['gsettings', 'get', 'org.gnome.system.proxy', a!];
      });
    case 'kde':
      return ['ProxyType', 'httpProxy', 'httpsProxy'].map((k) => [kdeTool, '--file', 'kioslaverc', '--group', 'Proxy Settings', '--key', k]);
    case 'windows':
      return [['netsh', 'winhttp', 'show', 'proxy'], ['reg', 'query', WININET_KEY, '/v', 'ProxyEnable'], ['reg', 'query', WININET_KEY, '/v', 'ProxyServer']];
  }
}

/** Settings assumed under --dry-run (nothing is read): proxy off everywhere. */
export function assumedPrevious(platform: ProxyPlatform): PreviousProxy {
  switch (platform) {
    case 'macos':
      return { platform, services: [{ name: 'Wi-Fi', web: { enabled: false, server: '', port: 0 }, secure: { enabled: false, server: '', port: 0 } }] };
    case 'gnome':
      return { platform, mode: 'none', httpHost: '', httpPort: '0', httpsHost: '', httpsPort: '0' };
    case 'kde':
      return { platform, tool: 'kwriteconfig5', proxyType: '0', httpProxy: '', httpsProxy: '' };
    case 'windows':
      return { platform, winhttpProxy: null, winhttpBypass: null, proxyEnable: '0x0', proxyServer: null };
  }
}

async function must(exec: Exec, argv: string[]): Promise<string> {
  const r = await exec(argv);
  if (r.code === 127) throw new SystemProxyError(`${argv[0]} is not installed: cannot read the system proxy settings`, 'command-not-found');
  if (r.code !== 0) throw new SystemProxyError(`${argv.join(' ')} failed: ${r.stderr.trim().split('\n')[0] ?? `exit ${r.code}`}`, 'command-failed');
  return r.stdout;
}

async function whichKde(exec: Exec): Promise<{ read: string; write: string }> {
  const six = await exec(['kreadconfig6', '--help']);
  return six.code === 127 ? { read: 'kreadconfig5', write: 'kwriteconfig5' } : { read: 'kreadconfig6', write: 'kwriteconfig6' };
}

export async function readPrevious(platform: ProxyPlatform, exec: Exec = (a) => execCommand(a)): Promise<PreviousProxy> {
  switch (platform) {
    case 'macos': {
      const services = parseMacServices(await must(exec, ['networksetup', '-listallnetworkservices']));
      const out: { name: string; web: MacProxy; secure: MacProxy }[] = [];
      for (const name of services) {
        out.push({
          name,
          web: parseMacProxy(await must(exec, ['networksetup', '-getwebproxy', name])),
          secure: parseMacProxy(await must(exec, ['networksetup', '-getsecurewebproxy', name])),
        });
      }
      return { platform, services: out };
    }
    case 'gnome': {
      const problem = gnomeSessionProblem();
      if (problem) throw new SystemProxyError(problem, 'no-desktop-session');
      const [mode, httpHost, httpPort, httpsHost, httpsPort] = await Promise.all(
        readCommands('gnome').map(async (argv) => unquoteGvariant(await must(exec, argv))),
      );
      return { platform, mode: mode!, httpHost: httpHost!, httpPort: httpPort!, httpsHost: httpsHost!, httpsPort: httpsPort! };
    }
    case 'kde': {
      const tools = await whichKde(exec);
      const [proxyType, httpProxy, httpsProxy] = await Promise.all(readCommands('kde', tools.read).map(async (argv) => (await must(exec, argv)).trim()));
      return { platform, tool: tools.write, proxyType: proxyType!, httpProxy: httpProxy!, httpsProxy: httpsProxy! };
    }
    case 'windows': {
      const w = parseWinhttp(await must(exec, ['netsh', 'winhttp', 'show', 'proxy']));
      const en = await exec(['reg', 'query', WININET_KEY, '/v', 'ProxyEnable']);
      const sv = await exec(['reg', 'query', WININET_KEY, '/v', 'ProxyServer']);
      return {
        platform,
        winhttpProxy: w.proxy,
        winhttpBypass: w.bypass,
        proxyEnable: parseRegValue(en.stdout, 'ProxyEnable') ?? '0x0',
        proxyServer: parseRegValue(sv.stdout, 'ProxyServer'),
      };
    }
  }
}

// ---------- the changes (pure) ----------

const kdeSignal: OsAction = {
  kind: 'exec',
  argv: ['dbus-send', '--type=signal', '/KIO/Scheduler', 'org.kde.KIO.Scheduler.reparseSlaveConfiguration', 'string:'],
  why: 'tell running KDE apps to re-read the proxy settings',
  optional: true,
};

export function applyActions(previous: PreviousProxy, proxy: ProxyEndpoint): OsAction[] {
  const hp = `${proxy.host}:${proxy.port}`;
  switch (previous.platform) {
    case 'macos':
      return previous.services.flatMap((s) => [
        { kind: 'exec', argv: ['networksetup', '-setwebproxy', s.name, proxy.host, String(proxy.port)], why: `HTTP proxy for ${s.name}` },
        { kind: 'exec', argv: ['networksetup', '-setsecurewebproxy', s.name, proxy.host, String(proxy.port)], why: `HTTPS proxy for ${s.name}` },
      ]);
    case 'gnome':
      return [
        { kind: 'exec', argv: ['gsettings', 'set', 'org.gnome.system.proxy.http', 'host', proxy.host], why: 'HTTP proxy host' },
        { kind: 'exec', argv: ['gsettings', 'set', 'org.gnome.system.proxy.http', 'port', String(proxy.port)], why: 'HTTP proxy port' },
        { kind: 'exec', argv: ['gsettings', 'set', 'org.gnome.system.proxy.https', 'host', proxy.host], why: 'HTTPS proxy host' },
        { kind: 'exec', argv: ['gsettings', 'set', 'org.gnome.system.proxy.https', 'port', String(proxy.port)], why: 'HTTPS proxy port' },
        { kind: 'exec', argv: ['gsettings', 'set', 'org.gnome.system.proxy', 'mode', 'manual'], why: 'use the manual proxy' },
      ];
    case 'kde': {
      const w = (key: string, value: string, why: string): OsAction => ({
        kind: 'exec',
        argv: [previous.tool, '--file', 'kioslaverc', '--group', 'Proxy Settings', '--key', key, value],
        why,
      });
      return [w('httpProxy', `http://${proxy.host} ${proxy.port}`, 'HTTP proxy'), w('httpsProxy', `http://${proxy.host} ${proxy.port}`, 'HTTPS proxy'), w('ProxyType', '1', 'manual proxy'), kdeSignal];
    }
    case 'windows':
      return [
        { kind: 'exec', argv: ['netsh', 'winhttp', 'set', 'proxy', hp, '<local>'], why: 'WinHTTP proxy (services, PowerShell)' },
        { kind: 'exec', argv: ['reg', 'add', WININET_KEY, '/v', 'ProxyServer', '/t', 'REG_SZ', '/d', hp, '/f'], why: 'WinINet proxy (browsers, most apps)' },
        { kind: 'exec', argv: ['reg', 'add', WININET_KEY, '/v', 'ProxyEnable', '/t', 'REG_DWORD', '/d', '1', '/f'], why: 'enable the WinINet proxy' },
      ];
  }
}

export function revertActions(previous: PreviousProxy): OsAction[] {
  switch (previous.platform) {
    case 'macos':
      return previous.services.flatMap((s): OsAction[] => {
        const one = (flag: 'web' | 'secure', p: MacProxy): OsAction[] => {
          const set = flag === 'web' ? '-setwebproxy' : '-setsecurewebproxy';
          const state = flag === 'web' ? '-setwebproxystate' : '-setsecurewebproxystate';
          const acts: OsAction[] = [];
          if (p.server) acts.push({ kind: 'exec', argv: ['networksetup', set, s.name, p.server, String(p.port)], why: `restore ${s.name} ${flag} proxy` });
          acts.push({ kind: 'exec', argv: ['networksetup', state, s.name, p.enabled ? 'on' : 'off'], why: `restore ${s.name} ${flag} proxy state` });
          return acts;
        };
        return [...one('web', s.web), ...one('secure', s.secure)];
      });
    case 'gnome':
      return [
        { kind: 'exec', argv: ['gsettings', 'set', 'org.gnome.system.proxy', 'mode', previous.mode], why: 'restore proxy mode' },
        { kind: 'exec', argv: ['gsettings', 'set', 'org.gnome.system.proxy.http', 'host', previous.httpHost], why: 'restore HTTP proxy host' },
        { kind: 'exec', argv: ['gsettings', 'set', 'org.gnome.system.proxy.http', 'port', previous.httpPort], why: 'restore HTTP proxy port' },
        { kind: 'exec', argv: ['gsettings', 'set', 'org.gnome.system.proxy.https', 'host', previous.httpsHost], why: 'restore HTTPS proxy host' },
        { kind: 'exec', argv: ['gsettings', 'set', 'org.gnome.system.proxy.https', 'port', previous.httpsPort], why: 'restore HTTPS proxy port' },
      ];
    case 'kde': {
      const w = (key: string, value: string): OsAction => ({
        kind: 'exec',
        argv: [previous.tool, '--file', 'kioslaverc', '--group', 'Proxy Settings', '--key', key, value],
        why: `restore ${key}`,
      });
      return [w('ProxyType', previous.proxyType || '0'), w('httpProxy', previous.httpProxy), w('httpsProxy', previous.httpsProxy), kdeSignal];
    }
    case 'windows': {
      const acts: OsAction[] = [
        previous.winhttpProxy
          ? { kind: 'exec', argv: ['netsh', 'winhttp', 'set', 'proxy', previous.winhttpProxy, previous.winhttpBypass ?? '<local>'], why: 'restore the WinHTTP proxy' }
          : { kind: 'exec', argv: ['netsh', 'winhttp', 'reset', 'proxy'], why: 'WinHTTP back to direct access' },
      ];
      acts.push(
        previous.proxyServer !== null
          ? { kind: 'exec', argv: ['reg', 'add', WININET_KEY, '/v', 'ProxyServer', '/t', 'REG_SZ', '/d', previous.proxyServer, '/f'], why: 'restore the WinINet proxy server' }
          : { kind: 'exec', argv: ['reg', 'delete', WININET_KEY, '/v', 'ProxyServer', '/f'], why: 'remove the WinINet proxy server', optional: true },
      );
      const enable = /^0x0*1$|^1$/.test(previous.proxyEnable) ? '1' : '0';
      acts.push({ kind: 'exec', argv: ['reg', 'add', WININET_KEY, '/v', 'ProxyEnable', '/t', 'REG_DWORD', '/d', enable, '/f'], why: 'restore WinINet proxy on/off' });
      return acts;
    }
  }
}
