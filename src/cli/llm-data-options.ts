// --registry / --pricing: user data files that extend detection rules and override prices.
// Every command that interprets traffic as LLM calls takes them, so a custom provider is
// detected, tiered and priced the same way in the proxy, the reports and the inspector.
import type { Command } from 'commander';
import { CliError } from './errors.js';
import { PricingError, usePricingFile } from '../llm/pricing.js';
import { RegistryError, useRegistryFiles } from '../llm/registry.js';

export interface LlmDataOptions {
  registry?: string[];
  pricing?: string;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function addLlmDataOptions(command: Command): Command {
  return command
    .option('--registry <file>', 'extra provider/detection rules (JSON, same shape as data/providers.json); repeatable', collect)
    .option('--pricing <file>', 'model prices that override data/pricing.json');
}

/** Installs --registry / --pricing files for this process. */
export function applyLlmDataOptions(opts: LlmDataOptions): void {
  try {
    if (opts.registry?.length) useRegistryFiles(opts.registry);
    if (opts.pricing) usePricingFile(opts.pricing);
  } catch (e) {
    if (e instanceof RegistryError || e instanceof PricingError) throw new CliError(e.message, 1, e.code);
    throw e;
  }
}

/** The commands besides `inspect` whose output depends on the LLM layer. */
export const LLM_DATA_COMMANDS = new Set(['proxy', 'run', 'sessions', 'timeline', 'report', 'stats', 'export', 'ui']);

/** Adds the options to those commands and applies them before their action runs. */
export function wireLlmDataOptions(program: Command): void {
  for (const command of program.commands) {
    if (!LLM_DATA_COMMANDS.has(command.name())) continue;
    addLlmDataOptions(command).hook('preAction', (_this, action) => applyLlmDataOptions(action.opts<LlmDataOptions>()));
  }
}
