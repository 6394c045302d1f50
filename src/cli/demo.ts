// agenttap demo: offline end-to-end run (fake upstream + capture proxy + bundled agent), then
// what was captured.
import type { Command } from 'commander';
import path from 'node:path';
import { runDemo } from '../demo/run-demo.js';
import { CliError } from './errors.js';
import { exchangeLine } from './exchange-log.js';
import { printTimeline } from './timeline.js';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { writeReport } from '../analysis/report.js';
import { MarkdownReport } from '../analysis/report-md.js';
import { HtmlReport } from '../analysis/report-html.js';

export function register(program: Command): void {
  program
    .command('demo')
    .description('offline demo: a fake LLM upstream, the capture proxy and a small agent doing tool calls; prints what was captured')
    .option('--out <file>', 'capture file to write', 'agenttap-demo.jsonl')
    .action(async (flags: { out: string }) => {
      const out = (s: string) => process.stdout.write(s + '\n');
      const result = await runDemo({ out: flags.out });
      out('');
      out(`captured ${result.records.length} exchanges:`);
      const sorted = [...result.records].sort((a, b) => a.startedAt.localeCompare(b.startedAt) || a.id.localeCompare(b.id));
      for (const r of sorted) {
        const chunks = r.response?.chunks?.length ?? 0;
        out(`  ${exchangeLine(r)}  ${chunks > 1 ? `streamed in ${chunks} chunks, ttfb ${Math.round(r.timing?.ttfbMs ?? 0)}ms` : ''}`.trimEnd());
      }
      if (result.agentExitCode !== 0) throw new CliError(`the demo agent failed (exit ${result.agentExitCode})`, 1);
      if (result.records.length !== 8 || result.records.some((r) => r.error)) throw new CliError('the demo did not capture the 8 exchanges it expected', 1);
      // Then the analysis of that capture file, as a user would run it afterwards.
      out('');
      out('the reasoning timeline (agenttap timeline):');
      await printTimeline(result.out, { gap: '300' }, (s) => process.stdout.write(s));
      const base = result.out.replace(/\.jsonl$/, '');
      for (const [format, renderer] of [['md', new MarkdownReport()], ['html', new HtmlReport()]] as const) {
        const file = `${base}-report.${format}`;
        const stream = createWriteStream(file);
        await writeReport(result.out, renderer, stream, {});
        stream.end();
        await once(stream, 'finish');
        out(`${format === 'md' ? '\nreport' : 'report'} (agenttap report --format ${format}): ${path.resolve(file)}`);
      }
      out(`capture file: ${path.resolve(result.out)}`);
      out(`next: agenttap inspect ${result.out}   ·   agenttap stats ${result.out}   ·   agenttap ui ${result.out}`);
    });
}
