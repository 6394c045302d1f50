// `agenttap import FILE [--from auto|har|llm-tracer|probe|oximy|claude-trace] -o FILE`
import { createWriteStream, existsSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { CliError, usageError } from './errors.js';
import { createProgress } from '../analysis/progress.js';
import { ImportError, importFile, parseImportFormat } from '../interop/import-file.js';
import { IMPORT_FORMATS, IMPORT_FORMAT_HELP } from '../interop/import-types.js';

interface ImportFlags {
  from: string;
  out?: string;
  append?: boolean;
  force?: boolean;
  keepSecrets?: boolean;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command('import')
    .description('convert another tool\'s capture (HAR, llm-tracer, probe, Oximy, claude-trace) into an agenttap capture')
    .argument('<file>', 'the file to import')
    .option('--from <format>', `source format: auto, ${IMPORT_FORMATS.join(', ')}`, 'auto')
    .option('-o, --out <file>', 'the capture file to write (record v1 JSONL)')
    .option('--append', 'add to an existing capture file')
    .option('--force', 'replace an existing capture file')
    .option('--keep-secrets', 'keep authorization headers, API keys and cookies (redacted by default)')
    .option('-q, --quiet', 'no summary line')
    .addHelpText('after', `\nFormats:\n${IMPORT_FORMATS.map((f) => `  ${f.padEnd(13)} ${IMPORT_FORMAT_HELP[f]}`).join('\n')}\n`)
    .action(async (file: string, flags: ImportFlags) => {
      if (!flags.out) throw usageError('import needs -o FILE: the capture file to write');
      if (!existsSync(file)) throw new CliError(`${file}: no such file`, 1, 'not-found');
      let from;
      try {
        from = parseImportFormat(flags.from);
      } catch (e) {
        throw usageError((e as Error).message);
      }
      if (resolve(flags.out) === resolve(file)) throw usageError('-o must name a new file, not the file being imported');
      const exists = existsSync(flags.out) && statSync(flags.out).size > 0;
      if (exists && !flags.append && !flags.force) throw new CliError(`${flags.out} already exists: pass --append to add to it or --force to replace it`, 1, 'exists');
      const size = statSync(file).size;
      const progress = createProgress(`importing ${file}`, size);
      const out = createWriteStream(flags.out, { flags: flags.append ? 'a' : 'w' });
      const failed = new Promise<never>((_, reject) => out.once('error', reject));
      failed.catch(() => {});
      try {
        const summary = await Promise.race([
          importFile(file, {
            from,
            keepSecrets: flags.keepSecrets,
            onWarning: (m) => process.stderr.write(`${m}\n`),
            onProgress: (bytes, n) => progress.update(bytes, n),
            onRecord: async (record) => {
              if (!out.write(`${JSON.stringify(record)}\n`)) await Promise.race([once(out, 'drain'), failed]);
            },
          }),
          failed,
        ]);
        progress.done();
        out.end();
        await Promise.race([once(out, 'finish'), failed]);
        if (!flags.quiet) {
          process.stderr.write(
            `imported ${summary.imported} of ${summary.entries} ${summary.format} entries into ${flags.out}` +
              `${summary.skipped ? `, ${summary.skipped} skipped` : ''}${summary.warnings ? `, ${summary.warnings} warning(s)` : ''}\n`,
          );
        }
      } catch (e) {
        progress.done();
        out.destroy();
        if (e instanceof ImportError) throw new CliError(e.message, e.code === 'unknown-format' ? 2 : 1, e.code);
        throw new CliError(`cannot write ${flags.out}: ${(e as Error).message}`, 1, 'write-failed');
      }
    });
}
