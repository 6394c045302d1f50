// The capture modes `agenttap proxy` adds on top of the explicit proxy: --system (OS proxy settings),
// --hosts-redirect HOST (hosts file + :443 listener), --revert, all printable with --dry-run.
// proxy.ts calls: captureModeConnector() before starting the proxy, startCaptureModes() after,
// and stop() when it shuts down. Whatever was changed is saved in $AGENTTAP_HOME first, so a
// crash is repaired by the next start (recoverStale) or by `agenttap proxy --revert`.
import { disableHostsRedirect, disableSystemProxy, enableHostsRedirect, enableSystemProxy, loadState, revertSaved } from './capture-state.js';
import { hostsFilePath, lookupBypassingHosts, removeRedirects, validateHost } from './hosts-file.js';
import { LookupConnector, type LookupFn } from './lookup-connector.js';
import { runActionsSync } from './os-actions.js';
import { startRedirectListener, type RedirectListener } from './hosts-redirect-listener.js';
import { detectProxyPlatform, PROXY_PLATFORMS, revertActions, type ProxyPlatform } from './system-proxy.js';

export interface CaptureModeFlags {
  system?: boolean;
  /** ms; 0 = never. */
  systemTimeoutMs: number;
  /** Which OS's settings to change (default: this machine's); other values are for --dry-run. */
  systemPlatform?: ProxyPlatform;
  hostsRedirect: string[];
  /** Port of the hosts-redirect listener (443; tests use 0). */
  redirectPort: number;
  dryRun: boolean;
  insecureUpstream?: boolean;
}

export class CaptureModeError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}

/** "30m", "90s", "2h", "45" (minutes), "0" (never) → ms. */
export function parseDuration(text: string, flag = '--system-timeout'): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i.exec(text.trim());
  if (!m) throw new CaptureModeError(`${flag} "${text}": expected a duration like 30m, 90s or 2h (0 = never)`, 'usage', 2);
  const n = Number(m[1]);
  const unit = (m[2] ?? 'm').toLowerCase();
  return Math.round(n * (unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'h' ? 3_600_000 : 60_000));
}

export function parsePlatform(text: string): ProxyPlatform {
  if ((PROXY_PLATFORMS as readonly string[]).includes(text)) return text as ProxyPlatform;
  throw new CaptureModeError(`--system-platform "${text}": choose one of ${PROXY_PLATFORMS.join(', ')}`, 'usage', 2);
}

export function validateFlags(f: CaptureModeFlags): CaptureModeFlags {
  return { ...f, hostsRedirect: f.hostsRedirect.map((h) => validateHost(h)) };
}

/** The upstream connector hosts-redirect needs (real DNS for redirected names), if any. */
export function captureModeConnector(f: CaptureModeFlags): LookupConnector | undefined {
  if (!f.hostsRedirect.length || f.dryRun) return undefined;
  return new LookupConnector(lookupBypassingHosts(f.hostsRedirect) as unknown as LookupFn, { insecure: !!f.insecureUpstream });
}

/** Undo what a crashed earlier run left behind (its pid is gone). Prints what it did. */
export async function recoverStale(home: string, print: (l: string) => void): Promise<void> {
  const done = await revertSaved({ home, dryRun: false, print, onlyDead: true });
  for (const d of done) print(`agenttap: an earlier run did not clean up: ${d}`);
}

/** `agenttap proxy --revert`. */
export async function revertEverything(home: string, dryRun: boolean, print: (l: string) => void): Promise<string[]> {
  if (dryRun) {
    const s = loadState(home);
    if (!s.systemProxy && !s.hostsRedirect) print(`# nothing recorded in ${home}; would remove any agenttap block from ${hostsFilePath()}`);
  }
  return revertSaved({ home, dryRun, print });
}

/** The record fields the capture modes adjust (structural, like the recorder's annotate hook). */
export interface ModeAnnotatable {
  mode: string;
  client?: { ip: string; port: number; pid?: number; process?: string };
  labels?: Record<string, string>;
}

export interface CaptureModes {
  /** The :443 listener of --hosts-redirect. */
  redirect?: RedirectListener;
  /**
   * For the recorder's annotate hook: an exchange that came in through the hosts-redirect
   * listener shows its real client and `mode: "transparent"`.
   */
  annotate(record: ModeAnnotatable): void;
  stop(): Promise<void>;
}

export async function startCaptureModes(
  proxy: { host: string; port: number },
  f: CaptureModeFlags,
  o: { home: string; print: (l: string) => void; onTimeout?: () => void },
): Promise<CaptureModes> {
  const act = { home: o.home, dryRun: f.dryRun, print: o.print };
  let systemState: Awaited<ReturnType<typeof enableSystemProxy>> | undefined;
  let hostsState: ReturnType<typeof enableHostsRedirect> | undefined;
  let redirect: RedirectListener | undefined;
  let timer: NodeJS.Timeout | undefined;

  const lastChance = (): void => {
    // Process is exiting without stop() (uncaught error): revert synchronously.
    if (systemState) runActionsSync(revertActions(systemState.previous));
    if (hostsState) {
      try {
        removeRedirects(hostsState.path);
      } catch {
        // the state file lets --revert finish it
      }
    }
  };

  const stop = async (): Promise<void> => {
    if (timer) clearTimeout(timer);
    process.off('exit', lastChance);
    const errors: string[] = [];
    if (systemState) {
      const s = systemState;
      systemState = undefined;
      await disableSystemProxy(s, act).catch((e: Error) => errors.push(e.message));
      if (!f.dryRun) o.print(`agenttap: system proxy restored (${s.platform})`);
    }
    if (hostsState) {
      const s = hostsState;
      hostsState = undefined;
      try {
        disableHostsRedirect(s, act);
        if (!f.dryRun) o.print(`agenttap: hosts file restored (${s.hosts.join(', ')})`);
      } catch (e) {
        errors.push((e as Error).message);
      }
    }
    await redirect?.close();
    redirect = undefined;
    if (errors.length) throw new CaptureModeError(`could not undo everything (${errors.join('; ')}): run agenttap proxy --revert`, 'revert-failed');
  };

  try {
    if (f.hostsRedirect.length) {
      if (!f.dryRun) {
        // Listen first: if :443 needs root, the hosts file is never touched.
        redirect = await startRedirectListener({ hosts: f.hostsRedirect, proxy, port: f.redirectPort }).catch((e: Error & { code?: string }) => {
          throw new CaptureModeError(e.message, e.code ?? 'listen-failed');
        });
      } else o.print(`listen 127.0.0.1:${f.redirectPort}    # TLS with certificates for ${f.hostsRedirect.join(', ')}, forwarded into the capture proxy`);
      try {
        hostsState = enableHostsRedirect(f.hostsRedirect, act);
      } catch (e) {
        throw new CaptureModeError((e as Error).message, (e as { code?: string }).code ?? 'hosts-failed');
      }
    }
    if (f.system) {
      let platform: ProxyPlatform;
      try {
        platform = f.systemPlatform ?? detectProxyPlatform();
      } catch (e) {
        throw new CaptureModeError((e as Error).message, 'unsupported-os');
      }
      try {
        systemState = await enableSystemProxy(platform, proxy, f.systemTimeoutMs, act);
      } catch (e) {
        throw new CaptureModeError((e as Error).message, (e as { code?: string }).code ?? 'system-proxy-failed');
      }
      if (!f.dryRun && f.systemTimeoutMs > 0) {
        timer = setTimeout(() => {
          const s = systemState;
          if (!s) return;
          systemState = undefined;
          void disableSystemProxy(s, act).then(
            () => {
              o.print(`agenttap: --system-timeout reached: system proxy restored (${s.platform}); the proxy keeps running for clients set up explicitly`);
              o.onTimeout?.();
            },
            (e: Error) => o.print(`agenttap: could not restore the system proxy: ${e.message} (run agenttap proxy --revert)`),
          );
        }, f.systemTimeoutMs);
        timer.unref();
      }
    }
  } catch (e) {
    await stop().catch(() => {});
    throw e;
  }
  if (f.dryRun) {
    // Show the way back too, then forget the pretend state.
    if (systemState || hostsState) o.print('# on exit:');
    if (systemState) await disableSystemProxy(systemState, act);
    if (hostsState) disableHostsRedirect(hostsState, act);
    systemState = undefined;
    hostsState = undefined;
  } else process.on('exit', lastChance);
  const annotate = (r: ModeAnnotatable): void => {
    const origin = redirect && r.client ? redirect.originOf(r.client.port) : undefined;
    if (!origin || !r.client) return;
    r.client.ip = origin.ip;
    r.client.port = origin.port;
    r.mode = 'transparent';
    r.labels = { ...r.labels, capture: 'hosts-redirect' };
  };
  return { ...(redirect ? { redirect } : {}), annotate, stop };
}
