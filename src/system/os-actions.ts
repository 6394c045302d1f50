// OS changes as data: each step is a command or a file write that can be printed (--dry-run) or done.
// Printing is how the macOS, Windows and KDE paths are checked on a Linux CI box.
import { execFile, execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';

export type OsAction =
  | { kind: 'exec'; argv: string[]; why: string; /** a failure here is reported but does not stop the rest */ optional?: boolean }
  | { kind: 'write-file'; path: string; content: string; why: string };

export class OsActionError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** Shell-like rendering of argv for printing (single quotes where needed). */
export function renderArgv(argv: readonly string[]): string {
  return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ');
}

export function renderAction(a: OsAction): string {
  return a.kind === 'exec' ? `${renderArgv(a.argv)}    # ${a.why}` : `write ${a.path}    # ${a.why}`;
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  code: number;
}

export function execCommand(argv: readonly string[], timeoutMs = 10_000): Promise<ExecResult> {
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { timeout: timeoutMs, windowsHide: true }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
      const code = !e ? 0 : typeof e.code === 'number' ? e.code : e.code === 'ENOENT' ? 127 : 1;
      resolve({ stdout: String(stdout), stderr: String(stderr || (e && !stdout ? e.message : '')), code });
    });
  });
}

/** Do the actions in order (stopping at the first required failure), or print them when dryRun. */
export async function runActions(actions: readonly OsAction[], opts: { dryRun: boolean; print: (line: string) => void }): Promise<void> {
  for (const a of actions) {
    if (opts.dryRun) {
      opts.print(renderAction(a));
      continue;
    }
    if (a.kind === 'write-file') {
      writeFileSync(a.path, a.content);
      continue;
    }
    const r = await execCommand(a.argv);
    if (r.code !== 0) {
      const msg = `${renderArgv(a.argv)} failed (${r.code === 127 ? 'command not found' : `exit ${r.code}`}): ${r.stderr.trim().split('\n')[0] ?? ''}`;
      if (a.optional) opts.print(`warning: ${msg}`);
      else throw new OsActionError(msg, r.code === 127 ? 'command-not-found' : 'command-failed');
    }
  }
}

/** Synchronous variant for process 'exit' handlers (no event loop left); failures are ignored. */
export function runActionsSync(actions: readonly OsAction[]): void {
  for (const a of actions) {
    try {
      if (a.kind === 'write-file') writeFileSync(a.path, a.content);
      else execFileSync(a.argv[0]!, a.argv.slice(1), { stdio: 'ignore', timeout: 10_000, windowsHide: true });
    } catch {
      // best effort: the state file stays, so `agenttap proxy --revert` can finish the job
    }
  }
}
