// `agenttap export FILE --format har|jsonl|otlp [-o FILE | --endpoint URL]`
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { CliError, usageError } from './errors.js';
import { parseGap, requireCapture, toCliError } from './sessions.js';
import { scanCapture } from '../analysis/scan.js';
import { harEntryOf, harHead, harTail } from '../interop/har-export.js';
import { jsonlEntryOf } from '../interop/jsonl-export.js';
import { otlpRequest, spanOf, tracesUrl, type OtlpSpan } from '../interop/otlp-export.js';

const FORMATS = ['har', 'jsonl', 'otlp'] as const;
const OTLP_BATCH = 256;

interface ExportFlags {
  format?: string;
  out?: string;
  endpoint?: string;
  header?: string[];
  gap: string;
}

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

async function postOtlp(url: string, body: unknown, headers: Record<string, string>): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  } catch (e) {
    throw new CliError(`cannot reach the OTLP endpoint ${url}: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`, 1, 'otlp-unreachable');
  }
  if (!res.ok) {
    const text = (await res.text().catch(() => '')).slice(0, 300);
    throw new CliError(`the OTLP endpoint ${url} answered ${res.status}${text ? `: ${text}` : ''}`, 1, 'otlp-rejected');
  }
  await res.arrayBuffer().catch(() => undefined);
}

export function register(program: Command): void {
  program
    .command('export')
    .description('export a capture as HAR 1.2, llm-interceptor style JSONL, or OTLP (OpenTelemetry GenAI spans)')
    .argument('<file>', 'capture file (record v1 JSONL)')
    .option('--format <format>', `output format: ${FORMATS.join(', ')}`)
    .option('-o, --out <file>', 'write to FILE (default: standard output)')
    .option('--endpoint <url>', 'otlp: POST the spans to this OTLP/HTTP endpoint (e.g. http://127.0.0.1:4318)')
    .option('--header <name=value...>', 'otlp: extra HTTP header for --endpoint (repeatable)')
    .option('--gap <seconds>', 'session gap used for trace and session ids', '300')
    .action(async (file: string, flags: ExportFlags) => {
      if (!flags.format) throw usageError(`export needs --format: ${FORMATS.join(', ')}`);
      if (!(FORMATS as readonly string[]).includes(flags.format)) throw usageError(`unknown export format "${flags.format}"; known formats: ${FORMATS.join(', ')}`);
      if (flags.endpoint && flags.format !== 'otlp') throw usageError('--endpoint is for --format otlp');
      if (flags.endpoint && flags.out) throw usageError('pass either -o FILE or --endpoint URL, not both');
      let endpoint: string | undefined;
      if (flags.endpoint) {
        try {
          endpoint = tracesUrl(flags.endpoint);
        } catch {
          throw usageError(`--endpoint is not a URL: "${flags.endpoint}"`);
        }
      }
      const headers: Record<string, string> = {};
      for (const h of flags.header ?? []) {
        const eq = h.indexOf('=');
        if (eq <= 0) throw usageError(`--header must be NAME=VALUE, got "${h}"`);
        headers[h.slice(0, eq)] = h.slice(eq + 1);
      }
      const gapSeconds = parseGap(flags.gap);
      requireCapture(file);
      const out: Writable = flags.out ? createWriteStream(flags.out) : process.stdout;
      const format = flags.format as (typeof FORMATS)[number];
      let count = 0;
      let skipped = 0;
      let spans: OtlpSpan[] = [];
      const flushSpans = async () => {
        if (spans.length === 0) return;
        const body = otlpRequest(spans);
        spans = [];
        if (endpoint) await postOtlp(endpoint, body, headers);
        else await write(out, `${JSON.stringify(body)}\n`);
      };
      try {
        if (format === 'har') await write(out, harHead());
        await scanCapture(file, {
          gapSeconds,
          progress: flags.out || endpoint ? `exporting ${file}` : undefined,
          onItem: async ({ record, summary, exchange, assignment }) => {
            if (format === 'har') {
              const entry = harEntryOf(record, exchange);
              if (!entry) return void skipped++;
              await write(out, `${count ? ',' : ''}\n${JSON.stringify(entry)}`);
            } else if (format === 'jsonl') {
              const entry = jsonlEntryOf(record, summary, assignment.session, assignment.conversation);
              if (!entry) return void skipped++;
              await write(out, `${JSON.stringify(entry)}\n`);
            } else {
              const span = spanOf(record, summary, exchange, assignment.session, assignment.conversation);
              if (!span) return void skipped++;
              spans.push(span);
              if (spans.length >= OTLP_BATCH) await flushSpans();
            }
            count++;
          },
        });
        if (format === 'har') await write(out, `\n${harTail()}`);
        if (format === 'otlp') await flushSpans();
      } catch (e) {
        throw toCliError(e);
      } finally {
        if (flags.out) {
          out.end();
          await once(out, 'finish').catch(() => undefined);
        }
      }
      if (flags.out || endpoint) {
        process.stderr.write(`exported ${count} exchange(s) as ${format} to ${endpoint ?? flags.out}${skipped ? ` (${skipped} tunnel row(s) have no HTTP exchange and were left out)` : ''}\n`);
      }
    });
}
