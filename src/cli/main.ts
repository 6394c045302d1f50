// agenttap's command line. Each command lives in its own module exporting `register(program)`;
// only the module of the command being run is loaded, so `agenttap decode` does not pay for
// the proxy engine and `agenttap proxy` starts fast.
import { Command, CommanderError } from 'commander';
import { CliError } from './errors.js';
import { wireLlmDataOptions } from './llm-data-options.js';

type Register = (program: Command) => void;

const commands: Record<string, () => Promise<{ register: Register }>> = {
  demo: () => import('./demo.js'),
  proxy: () => import('./proxy.js'),
  run: () => import('./run.js'),
  ca: () => import('./ca.js'),
  inspect: () => import('./inspect.js'),
  sessions: () => import('./sessions.js'),
  timeline: () => import('./timeline.js'),
  report: () => import('./report.js'),
  stats: () => import('./stats.js'),
  export: () => import('./export.js'),
  import: () => import('./import.js'),
  decode: () => import('./decode.js'),
  ui: () => import('./ui.js'),
  task: () => import('./task.js'),
};

async function main(argv: string[]): Promise<void> {
  const program = new Command('agenttap')
    .description('Tap the wire between AI agents and the model APIs they call.')
    .version(await packageVersion())
    .showHelpAfterError()
    .exitOverride();
  const name = argv[2];
  const wanted = name && Object.hasOwn(commands, name) ? [name] : Object.keys(commands);
  for (const key of wanted) (await commands[key]!()).register(program);
  wireLlmDataOptions(program);
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors with exit 2 (DESIGN.md section 6).
      process.exitCode = e.exitCode === 0 ? 0 : 2;
      return;
    }
    if (e instanceof CliError) {
      process.stderr.write(`agenttap: ${e.message}\n`);
      process.exitCode = e.exitCode;
      return;
    }
    process.stderr.write(`agenttap: ${(e as Error).stack ?? String(e)}\n`);
    process.exitCode = 1;
  }
}

async function packageVersion(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

await main(process.argv);
