// The flags of `agenttap proxy` for the traffic inspector's other capture modes: --system,
// --hosts-redirect HOST, --revert, --dry-run. Defined here once; proxy.ts adds them and calls
// runCaptureModes() around its proxy's life.
import type { Command } from 'commander';
import { CliError } from './errors.js';
import type { CaptureModeFlags, CaptureModes } from '../system/capture-modes.js';

export interface CaptureModeCliFlags {
  system?: boolean;
  systemTimeout?: string;
  systemPlatform?: string;
  hostsRedirect?: string[];
  hostsRedirectPort?: string;
  revert?: boolean;
  dryRun?: boolean;
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function addCaptureModeOptions(cmd: Command): Command {
  return cmd
    .option('--system', 'also point the OS proxy settings here (macOS, GNOME, KDE, Windows); restored on exit')
    .option('--system-timeout <duration>', 'restore the OS proxy settings after this long (0 = never)', '30m')
    .option('--system-platform <name>', 'whose settings --system changes: macos, gnome, kde, windows (default: this machine; others with --dry-run)')
    .option('--hosts-redirect <host>', 'send HOST to this machine via a marked hosts-file block and capture it on :443 (repeatable; needs root)', collect)
    .option('--hosts-redirect-port <port>', 'port of the --hosts-redirect listener', '443')
    .option('--revert', 'undo OS proxy settings and hosts-file changes left by agenttap, then exit')
    .option('--dry-run', 'print the OS changes --system / --hosts-redirect / --revert would make, change nothing, and exit');
}

/** True when the flags ask for something beyond the plain proxy. */
export function wantsCaptureModes(f: CaptureModeCliFlags): boolean {
  return !!(f.system || f.hostsRedirect?.length || f.revert || f.dryRun);
}

function toCli(e: unknown): never {
  const err = e as Error & { exitCode?: 1 | 2; code?: string };
  throw new CliError(err.message, err.exitCode === 2 ? 2 : 1, err.code);
}

export async function parseCaptureModeFlags(f: CaptureModeCliFlags, insecureUpstream?: boolean): Promise<CaptureModeFlags> {
  const m = await import('../system/capture-modes.js');
  try {
    const port = Number(f.hostsRedirectPort ?? '443');
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--hosts-redirect-port must be 0-65535, got "${f.hostsRedirectPort}"`, 2);
    return m.validateFlags({
      system: !!f.system,
      systemTimeoutMs: m.parseDuration(f.systemTimeout ?? '30m'),
      ...(f.systemPlatform ? { systemPlatform: m.parsePlatform(f.systemPlatform) } : {}),
      hostsRedirect: f.hostsRedirect ?? [],
      redirectPort: port,
      dryRun: !!f.dryRun,
      ...(insecureUpstream ? { insecureUpstream } : {}),
    });
  } catch (e) {
    if (e instanceof CliError) throw e;
    return toCli(e);
  }
}

/**
 * Before the proxy starts: `--revert` and `--dry-run` are handled completely (returns true: exit
 * now); otherwise changes a crashed earlier run left are undone.
 */
export async function handleCaptureModesEarly(f: CaptureModeCliFlags, flags: CaptureModeFlags, home: string, proxyPort: number, print: (l: string) => void): Promise<boolean> {
  const m = await import('../system/capture-modes.js');
  try {
    if (f.revert) {
      const done = await m.revertEverything(home, flags.dryRun, print);
      if (!flags.dryRun) print(done.length ? done.map((d) => `agenttap: ${d}`).join('\n') : 'agenttap: nothing to revert');
      return true;
    }
    if (flags.dryRun) {
      if (!flags.system && !flags.hostsRedirect.length) throw new CliError('--dry-run goes with --system, --hosts-redirect or --revert', 2);
      const modes = await m.startCaptureModes({ host: '127.0.0.1', port: proxyPort }, flags, { home, print });
      await modes.stop();
      return true;
    }
    await m.recoverStale(home, print);
    return false;
  } catch (e) {
    if (e instanceof CliError) throw e;
    return toCli(e);
  }
}

/** After the proxy listens: apply --system / --hosts-redirect. Call stop() on shutdown. */
export async function startCaptureModesCli(flags: CaptureModeFlags, proxy: { host: string; port: number }, home: string, print: (l: string) => void): Promise<CaptureModes> {
  const m = await import('../system/capture-modes.js');
  try {
    const modes = await m.startCaptureModes(proxy, flags, { home, print });
    if (flags.system) print(`agenttap: system proxy set to ${proxy.host}:${proxy.port}${flags.systemTimeoutMs ? ` (restored after ${Math.round(flags.systemTimeoutMs / 60000)} min or on exit)` : ' (restored on exit)'}`);
    if (modes.redirect) print(`agenttap: ${flags.hostsRedirect.join(', ')} → this machine (hosts file), TLS on 127.0.0.1:${modes.redirect.port}`);
    return modes;
  } catch (e) {
    return toCli(e);
  }
}

/** The upstream connector --hosts-redirect needs (real DNS for redirected hosts). */
export async function captureModeConnector(flags: CaptureModeFlags): Promise<import('../engine/upstream.js').UpstreamConnector | undefined> {
  const m = await import('../system/capture-modes.js');
  return m.captureModeConnector(flags);
}
