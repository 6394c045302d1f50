// `agenttap report FILE [--format md|html] [-o FILE]`
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { usageError } from './errors.js';
import { parseGap, requireCapture, toCliError } from './sessions.js';
import { writeReport } from '../analysis/report.js';
import { HtmlReport } from '../analysis/report-html.js';
import { MarkdownReport } from '../analysis/report-md.js';

export function register(program: Command): void {
  program
    .command('report')
    .description('a Markdown or self-contained HTML report: totals, endpoints, payload structure, usage, and the full conversation log')
    .argument('<file>', 'capture file (record v1 JSONL)')
    .option('--format <format>', 'md or html', 'md')
    .option('-o, --out <file>', 'write to FILE (default: standard output)')
    .option('--gap <seconds>', 'session gap', '300')
    .action(async (file: string, flags: { format: string; out?: string; gap: string }) => {
      if (flags.format !== 'md' && flags.format !== 'html') throw usageError(`--format must be md or html, got "${flags.format}"`);
      const gapSeconds = parseGap(flags.gap);
      requireCapture(file);
      const out: Writable = flags.out ? createWriteStream(flags.out, { highWaterMark: 1 << 20 }) : process.stdout;
      try {
        const data = await writeReport(file, flags.format === 'html' ? new HtmlReport() : new MarkdownReport(), out, {
          gapSeconds,
          progress: flags.out ? `reading ${file}` : undefined,
          onWarning: (m) => process.stderr.write(`${m}\n`),
        });
        if (flags.out) {
          out.end();
          await once(out, 'finish');
          process.stderr.write(`report of ${data.records} exchange(s) in ${data.sessions.length} session(s) written to ${flags.out}\n`);
        }
      } catch (e) {
        if (flags.out) out.destroy();
        throw toCliError(e);
      }
    });
}
