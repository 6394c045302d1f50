// Placeholder: the command's owner replaces this module (see the open issues).
import type { Command } from 'commander';
import { CliError } from './errors.js';

export function register(program: Command): void {
  program
    .command('import')
    .description('(coming soon)')
    .allowUnknownOption()
    .action(() => {
      throw new CliError('agenttap import is not built yet');
    });
}
