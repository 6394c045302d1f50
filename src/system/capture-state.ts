// What agenttap changed on this machine (OS proxy, hosts block), saved in $AGENTTAP_HOME so it
// can be undone after a crash: the next `agenttap proxy` (or `agenttap proxy --revert`) puts it back.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addRedirects, hostsFilePath, removeRedirects, withBlock, removeBlock } from './hosts-file.js';
import { renderAction, runActions, type OsAction } from './os-actions.js';
import {
  applyActions,
  assumedPrevious,
  readCommands,
  readPrevious,
  revertActions,
  type Exec,
  type ProxyEndpoint,
  type ProxyPlatform,
  type SystemProxyState,
} from './system-proxy.js';

export interface HostsRedirectState {
  path: string;
  hosts: string[];
  pid: number;
  appliedAt: string;
}

export interface SavedSystemState {
  systemProxy?: SystemProxyState;
  hostsRedirect?: HostsRedirectState;
}

export interface ActOptions {
  home: string;
  dryRun: boolean;
  print: (line: string) => void;
  exec?: Exec;
}

const FILE = 'system-state.json';

export function loadState(home: string): SavedSystemState {
  try {
    return JSON.parse(readFileSync(join(home, FILE), 'utf8')) as SavedSystemState;
  } catch {
    return {};
  }
}

function saveState(home: string, s: SavedSystemState): void {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const file = join(home, FILE);
  if (!s.systemProxy && !s.hostsRedirect) {
    rmSync(file, { force: true });
    return;
  }
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(s, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, file);
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Point the OS proxy at `proxy`, saving what was there first. Returns the state (also under dry-run). */
export async function enableSystemProxy(
  platform: ProxyPlatform,
  proxy: ProxyEndpoint,
  timeoutMs: number,
  o: ActOptions,
): Promise<SystemProxyState> {
  let previous;
  if (o.dryRun) {
    for (const argv of readCommands(platform)) o.print(`${argv.join(' ')}    # read the current setting (assumed: proxy off)`);
    previous = assumedPrevious(platform);
  } else {
    previous = await readPrevious(platform, o.exec);
  }
  const state: SystemProxyState = {
    platform,
    proxy,
    pid: process.pid,
    appliedAt: new Date().toISOString(),
    ...(timeoutMs > 0 ? { expiresAt: new Date(Date.now() + timeoutMs).toISOString() } : {}),
    previous,
  };
  const actions = applyActions(previous, proxy);
  if (!o.dryRun) {
    // Saved before the first change: a crash half-way is still revertible.
    saveState(o.home, { ...loadState(o.home), systemProxy: state });
    try {
      await runActions(actions, { dryRun: false, print: o.print });
    } catch (e) {
      await runActions(revertActions(previous), { dryRun: false, print: () => {} }).catch(() => {});
      saveState(o.home, { ...loadState(o.home), systemProxy: undefined });
      throw e;
    }
  } else {
    await runActions(actions, { dryRun: true, print: o.print });
  }
  return state;
}

export async function disableSystemProxy(state: SystemProxyState, o: ActOptions): Promise<void> {
  await runActions(revertActions(state.previous), { dryRun: o.dryRun, print: o.print });
  if (!o.dryRun) saveState(o.home, { ...loadState(o.home), systemProxy: undefined });
}

export function enableHostsRedirect(hosts: string[], o: ActOptions): HostsRedirectState {
  const path = hostsFilePath();
  const state: HostsRedirectState = { path, hosts, pid: process.pid, appliedAt: new Date().toISOString() };
  if (o.dryRun) {
    o.print(`write ${path}    # add the block:`);
    for (const line of withBlock('', hosts).trimEnd().split('\n')) o.print(`  ${line}`);
    return state;
  }
  addRedirects(path, hosts); // throws HostsFileError (not root) before anything is saved
  saveState(o.home, { ...loadState(o.home), hostsRedirect: state });
  return state;
}

export function disableHostsRedirect(state: HostsRedirectState, o: ActOptions): void {
  if (o.dryRun) {
    o.print(`write ${state.path}    # remove the agenttap block (${state.hosts.join(', ')})`);
    return;
  }
  removeRedirects(state.path);
  saveState(o.home, { ...loadState(o.home), hostsRedirect: undefined });
}

/**
 * Undo everything recorded in the state file. `onlyDead`: leave changes owned by a live agenttap
 * process alone (used at start-up to recover from a crash without fighting a running instance).
 */
export async function revertSaved(o: ActOptions & { onlyDead?: boolean }): Promise<string[]> {
  const s = loadState(o.home);
  const done: string[] = [];
  const mine = (pid: number): boolean => !o.onlyDead || !pidAlive(pid) || pid === process.pid;
  if (s.systemProxy && mine(s.systemProxy.pid)) {
    await disableSystemProxy(s.systemProxy, o);
    done.push(`system proxy (${s.systemProxy.platform}) restored`);
  }
  if (s.hostsRedirect && mine(s.hostsRedirect.pid)) {
    disableHostsRedirect(s.hostsRedirect, o);
    done.push(`hosts file block removed (${s.hostsRedirect.hosts.join(', ')})`);
  }
  // A block left without a state file (state deleted by hand): `--revert` still cleans it up.
  if (!o.onlyDead && !s.hostsRedirect && !o.dryRun) {
    const path = hostsFilePath();
    try {
      const removed = removeRedirects(path);
      if (removed.length) done.push(`hosts file block removed (${removed.join(', ')})`);
    } catch {
      // not writable and nothing of ours to remove is the common case
    }
  }
  return done;
}

export { renderAction, removeBlock, type OsAction };
