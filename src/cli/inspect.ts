// `agenttap inspect FILE [--id ID] [--json] [--full] [--registry FILE] [--pricing FILE]`:
// every exchange of a capture file as the LLM layer understands it — detection with reasons,
// the conversation, tool calls, usage and cost — or JSON Lines of LlmExchange.
import { existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { printBadLine, readRecords } from '../capture/reader.js';
import { detect } from '../llm/detect.js';
import { normalizeExchange, ResponsesChain } from '../llm/normalize.js';
import { renderExchangeText } from '../llm/render-text.js';
import { CliError } from './errors.js';
import { addLlmDataOptions, applyLlmDataOptions } from './llm-data-options.js';

interface InspectOptions {
  id?: string;
  json?: boolean;
  full?: boolean;
  all?: boolean;
  registry?: string[];
  pricing?: string;
}

export function register(program: Command): void {
  const command = program
    .command('inspect')
    .description('show each exchange of a capture file as the LLM layer understands it: detection with reasons, conversation, tool calls, usage, cost')
    .argument('<file>', 'capture file (JSON Lines, record v1)')
    .option('--id <id>', 'only the exchange with this record id (or a unique prefix of it)')
    .option('--json', 'JSON Lines: one normalized LlmExchange per LLM exchange')
    .option('--all', 'text mode: also list exchanges that are not LLM calls (app / unknown traffic)')
    .option('--full', 'do not shorten long texts')
    .action(async (file: string, opts: InspectOptions) => {
      await inspect(file, opts);
    });
  addLlmDataOptions(command);
}

async function inspect(file: string, opts: InspectOptions): Promise<void> {
  if (!existsSync(file)) throw new CliError(`${file}: no such file`, 1, 'not-found');
  if (statSync(file).isDirectory()) throw new CliError(`${file} is a directory, not a capture file`, 1, 'not-a-file');
  applyLlmDataOptions(opts);
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
  const chain = new ResponsesChain();
  const color = process.stdout.isTTY === true && !process.env.NO_COLOR;
  const write = (s: string) => process.stdout.write(s);
  let shown = 0;
  let matched = 0;
  let badLines = 0;
  const ambiguous: string[] = [];
  for await (const item of readRecords(file, {
    onBadLine: (bad) => {
      badLines++;
      printBadLine(bad);
    },
  })) {
    const record = item.record;
    const wanted = !opts.id || record.id === opts.id || record.id.startsWith(opts.id);
    let detection;
    try {
      detection = detect(record);
    } catch (e) {
      process.stderr.write(`${file}:${item.line}: detection failed: ${(e as Error).message}\n`);
      continue;
    }
    // Every LLM record goes through the chain so later previous_response_id requests resolve.
    const x = detection.kind === 'llm' ? normalizeExchange(record, { detection, chain }) : undefined;
    if (!wanted) continue;
    matched++;
    if (opts.id && record.id !== opts.id) ambiguous.push(record.id);
    if (opts.json) {
      if (x) write(JSON.stringify(x) + '\n');
      else if (opts.id) write(JSON.stringify({ id: record.id, detection }) + '\n');
      else continue;
    } else {
      if (!x && !opts.id && !opts.all) continue;
      write((shown ? '\n' : '') + renderExchangeText(record, detection, x, { maxText: opts.full ? 0 : 600, color }) + '\n');
    }
    shown++;
  }
  if (opts.id && matched === 0) throw new CliError(`no exchange with id ${opts.id} in ${file}`, 1, 'not-found');
  if (opts.id && matched > 1 && ambiguous.length === matched) process.stderr.write(`agenttap: --id ${opts.id} matched ${matched} exchanges\n`);
  if (!opts.json && shown === 0) process.stdout.write(`no LLM exchanges in ${file}${opts.all ? '' : ' (pass --all to list other traffic)'}\n`);
  if (badLines) process.stderr.write(`agenttap: ${badLines} bad line${badLines === 1 ? '' : 's'} skipped\n`);
}
