// The captured command: found on PATH before anything starts, run with the terminal inherited
// (stdin, TTY, colours, window size), signals passed on, and its exit status turned into ours.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { delimiter, isAbsolute, join, resolve } from 'node:path';

export class CommandNotFoundError extends Error {
  readonly code = 'command-not-found';
  constructor(
    readonly command: string,
    readonly exitCode: 126 | 127,
    message: string,
  ) {
    super(message);
  }
}

/** The executable `command` names (PATH lookup like a shell), or a CommandNotFoundError. */
export function resolveCommand(command: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
  const exts = process.platform === 'win32' ? ['', ...(env['PATHEXT'] ?? '.EXE;.CMD;.BAT;.COM').split(';')] : [''];
  const candidates = command.includes('/') || (process.platform === 'win32' && command.includes('\\')) || isAbsolute(command)
    ? [resolve(cwd, command)]
    : (env['PATH'] ?? '').split(delimiter).filter(Boolean).map((d) => join(d, command));
  let notExecutable: string | undefined;
  for (const base of candidates) {
    for (const ext of exts) {
      const file = base + ext;
      try {
        if (!statSync(file).isFile()) continue;
      } catch {
        continue;
      }
      try {
        accessSync(file, constants.X_OK);
        return file;
      } catch {
        notExecutable ??= file;
      }
    }
  }
  if (notExecutable) throw new CommandNotFoundError(command, 126, `permission denied: ${notExecutable} is not executable`);
  throw new CommandNotFoundError(command, 127, `command not found: ${command}`);
}

/** Shell convention: a child killed by signal N makes us exit 128+N. */
export function exitCodeFor(code: number | null, signal: NodeJS.Signals | null): number {
  if (signal) return 128 + ((osConstants.signals as Record<string, number>)[signal] ?? 0);
  return code ?? 1;
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  exitCode: number;
}

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

/**
 * Start the child with the inherited terminal. Signals sent to agenttap are passed on; Ctrl-C and
 * Ctrl-\ typed at a terminal already reach the child (same process group), so those are not sent
 * twice (a TUI would read two Ctrl-C as "quit").
 */
export function runChild(file: string, argv0: string, args: readonly string[], env: NodeJS.ProcessEnv, onSpawn?: (child: ChildProcess) => void): Promise<ChildResult> {
  return new Promise((resolvePromise, reject) => {
    // Handlers go in before the child exists: a Ctrl-C right after it starts must not kill us.
    let child: ChildProcess | undefined;
    const fromTerminal = process.stdin.isTTY === true;
    const handlers = new Map<NodeJS.Signals, () => void>();
    for (const sig of FORWARDED) {
      if (process.platform === 'win32' && sig !== 'SIGINT' && sig !== 'SIGTERM') continue;
      const h = (): void => {
        if (fromTerminal && (sig === 'SIGINT' || sig === 'SIGQUIT')) return;
        try {
          child?.kill(sig);
        } catch {
          // already gone
        }
      };
      handlers.set(sig, h);
      process.on(sig, h);
    }
    // Windows runs .cmd/.bat shims (npm-installed agents) only through the shell.
    const shell = process.platform === 'win32' && /\.(cmd|bat)$/i.test(file);
    child = spawn(file, args, { stdio: 'inherit', env, argv0, shell });
    const cleanup = (): void => {
      for (const [sig, h] of handlers) process.off(sig, h);
    };
    const started = child;
    started.once('spawn', () => onSpawn?.(started));
    started.once('error', (e) => {
      cleanup();
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') reject(new CommandNotFoundError(argv0, 127, `command not found: ${argv0}`));
      else if (code === 'EACCES') reject(new CommandNotFoundError(argv0, 126, `permission denied: ${argv0}`));
      else reject(e);
    });
    started.once('exit', (code, signal) => {
      cleanup();
      resolvePromise({ code, signal, exitCode: exitCodeFor(code, signal) });
    });
  });
}
