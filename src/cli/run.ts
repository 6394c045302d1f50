// `agenttap run [--target NAME] [--mode forward|reverse] [proxy flags] -- COMMAND [ARGS...]`:
// capture one command with no change to it. Starts the capture proxy on a free loopback port,
// runs the command with the environment that makes its runtimes use the proxy and trust our CA
// (forward) or with base URLs on per-upstream listeners (reverse), waits, stops the proxy and prints
// a summary. The child keeps the terminal; `run` exits with the child's code (128+N for signal N).
import type { Command } from 'commander';
import { MapRemoteError, parseMapRemote } from '../engine/map-remote.js';
import type { CaptureProxyOptions } from '../capture/capture-proxy.js';
import { CliError } from './errors.js';

interface RunFlags {
  target?: string;
  mode: string;
  listTargets?: boolean;
  session?: string;
  summary: boolean;
  out?: string;
  port?: string;
  mapRemote?: string[];
  keepSecrets?: boolean;
  insecureUpstream?: boolean;
}

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

export function register(program: Command): void {
  // Options after COMMAND belong to COMMAND (`agenttap run claude -p hi` works without `--`).
  program.enablePositionalOptions();
  program
    .command('run')
    .description('run a command (an agent, a script, curl) with its traffic captured')
    .usage('[options] -- COMMAND [ARGS...]')
    .argument('[command...]', 'the command to run and its arguments')
    .option('--target <name>', 'agent profile (default: inferred from the command; see --list-targets)')
    .option('--mode <mode>', 'forward (HTTPS_PROXY + CA trust) or reverse (base-URL variables + one listener per upstream)', 'forward')
    .option('--list-targets', 'list the known targets and exit')
    .option('--session <id>', 'labels.session for this run (default: a fresh id)')
    .option('--no-summary', 'do not print the summary at the end')
    .option('-o, --out <file>', 'capture file (default: $AGENTTAP_HOME/runs/<time>-<target>-<id>.jsonl)')
    .option('--port <port>', 'forward listener port (default: a free port)')
    .option('--map-remote <pattern=url>', 'send requests for matching hosts to URL (repeatable)', collect)
    .option('--keep-secrets', 'do not redact secrets in the capture')
    .option('--insecure-upstream', 'do not verify upstream TLS certificates')
    .passThroughOptions()
    .action(async (command: string[], flags: RunFlags) => {
      const { runCommand, RunError } = await import('../run/run-command.js');
      const capture: CaptureProxyOptions = {};
      try {
        if (flags.out) capture.out = flags.out;
        if (flags.port !== undefined) {
          const p = Number(flags.port);
          if (!Number.isInteger(p) || p < 0 || p > 65535) throw new RunError(`--port must be 0-65535, got "${flags.port}"`, 2, 'usage');
          capture.port = p;
        }
        if (flags.mapRemote?.length) capture.mapRemote = flags.mapRemote.map(parseMapRemote);
        if (flags.keepSecrets) capture.keepSecrets = true;
        if (flags.insecureUpstream) capture.insecureUpstream = true;
        const opts = { mode: flags.mode, summary: flags.summary, capture, ...(flags.target ? { target: flags.target } : {}), ...(flags.listTargets ? { listTargets: true } : {}), ...(flags.session ? { session: flags.session } : {}) };
        process.exitCode = await runCommand(command, opts);
      } catch (e) {
        if (e instanceof RunError) throw new CliError(e.message, e.exitCode, e.code);
        if (e instanceof MapRemoteError) throw new CliError(e.message, 2, 'usage');
        throw e;
      }
    });
}
