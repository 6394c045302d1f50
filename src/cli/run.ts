// `agenttap run [--target NAME] [--mode forward|reverse] [proxy flags] -- COMMAND [ARGS...]`:
// capture one command with no change to it. Starts the capture proxy on a free loopback port,
// runs the command with the environment that makes its runtimes use the proxy and trust our CA
// (forward) or with base URLs on per-upstream listeners (reverse), waits, stops the proxy and prints
// a summary. The child keeps the terminal; `run` exits with the child's code (128+N for signal N).
import type { Command } from 'commander';
import { CliError } from './errors.js';
import { addProxyOptions, parseProxyFlags, type ProxyFlags } from './proxy-options.js';

interface RunFlags extends ProxyFlags {
  target?: string;
  mode: string;
  listTargets?: boolean;
  session?: string;
  summary: boolean;
}

export function register(program: Command): void {
  // Options after COMMAND belong to COMMAND (`agenttap run claude -p hi` works without `--`).
  program.enablePositionalOptions();
  const cmd = program
    .command('run')
    .description('run a command (an agent, a script, curl) with its traffic captured')
    .usage('[options] -- COMMAND [ARGS...]')
    .argument('[command...]', 'the command to run and its arguments')
    .option('--target <name>', 'agent profile (default: inferred from the command; see --list-targets)')
    .option('--mode <mode>', 'forward (HTTPS_PROXY + CA trust) or reverse (base-URL variables + one listener per upstream)', 'forward')
    .option('--list-targets', 'list the known targets and exit')
    .option('--session <id>', 'labels.session for this run (default: a fresh id)')
    .option('--no-summary', 'do not print the summary at the end')
    .passThroughOptions();
  // The proxy flags are shared with `agenttap proxy`; here the forward port defaults to a free one
  // and the capture file to $AGENTTAP_HOME/runs/<time>-<target>-<id>.jsonl.
  addProxyOptions(cmd, { port: '0' });
  const outOption = cmd.options.find((o) => o.long === '--out');
  if (outOption) outOption.description = 'capture file (JSON Lines, appended); default $AGENTTAP_HOME/runs/<time>-<target>-<id>.jsonl';
  cmd.action(async (command: string[], flags: RunFlags) => {
    const { runCommand, RunError } = await import('../run/run-command.js');
    const parsed = parseProxyFlags(flags);
    try {
      const opts = {
        mode: flags.mode,
        summary: flags.summary && !parsed.quiet,
        capture: parsed.capture,
        ...(flags.target ? { target: flags.target } : {}),
        ...(flags.listTargets ? { listTargets: true } : {}),
        ...(flags.session ? { session: flags.session } : {}),
        ...(flags.ui !== undefined ? { ui: { ui: flags.ui, ...(flags.uiHost ? { uiHost: flags.uiHost } : {}), ...(flags.uiBuffer ? { uiBuffer: flags.uiBuffer } : {}) } } : {}),
      };
      process.exitCode = await runCommand(command, opts);
    } catch (e) {
      if (e instanceof RunError) throw new CliError(e.message, e.exitCode, e.code);
      throw e;
    }
  });
}
