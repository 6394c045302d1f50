// `agenttap sessions FILE [--gap SECONDS] [--json] [-o FILE]`
import { createWriteStream, existsSync, statSync } from 'node:fs';
import { once } from 'node:events';
import type { Command } from 'commander';
import { CliError, usageError } from './errors.js';
import { scanParallel, workersFor } from '../analysis/parallel-scan.js';
import { scanCapture } from '../analysis/scan.js';
import type { Session } from '../analysis/sessions.js';
import { formatDuration, formatTokens, renderTable } from '../analysis/text-table.js';

/** Errors of the analysis layer (empty capture, missing file…) as one-line CLI errors. */
export function toCliError(e: unknown): unknown {
  if (e instanceof CliError) return e;
  const code = (e as { code?: unknown }).code;
  if (code === 'empty-capture') return new CliError((e as Error).message, 1, 'empty-capture');
  if (code === 'ENOENT') return new CliError(`${(e as { path?: string }).path ?? 'file'}: no such file`, 1, 'not-found');
  if (code === 'EISDIR') return new CliError(`${(e as { path?: string }).path ?? 'file'} is a directory, not a capture file`, 1, 'not-a-file');
  return e;
}

/** A reader that went away (`| head`) ends the command quietly instead of with a stack. */
export function quietOnClosedStdout(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

export function requireCapture(file: string): void {
  quietOnClosedStdout();
  if (!existsSync(file)) throw new CliError(`${file}: no such file`, 1, 'not-found');
}

export function parseGap(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw usageError(`--gap must be a positive number of seconds, got "${value}"`);
  return n;
}

/** The `sessions --json` shape of DESIGN.md, one object per session. */
export function sessionJson(s: Session): Record<string, unknown> {
  return {
    id: s.id,
    client: s.client,
    agent: s.agent,
    start: s.start,
    end: s.end,
    models: s.models,
    requests: s.requests,
    errors: s.errors,
    usage: s.usage,
    promptTokens: s.promptTokens,
    costUsd: Math.round(s.costUsd * 1e6) / 1e6,
    basis: s.basis,
    conversations: s.conversations.map((c) => ({
      id: c.id,
      kind: c.kind,
      ...(c.parent ? { parent: c.parent } : {}),
      ...(c.compactedFrom ? { compactedFrom: c.compactedFrom } : {}),
      turns: c.turns,
    })),
  };
}

function sessionsTable(sessions: Session[]): string {
  const rows = sessions.map((s) => {
    const convs = s.conversations;
    const subagents = convs.filter((c) => c.kind === 'subagent').length;
    const turns = convs.reduce((n, c) => n + c.turns.length, 0);
    return [
      s.id,
      s.agent ?? '-',
      s.client,
      s.start.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
      formatDuration(Date.parse(s.end) - Date.parse(s.start)),
      String(s.requests),
      `${convs.length}${subagents ? ` (${subagents} sub)` : ''}`,
      String(turns),
      s.models.join(', ') || '-',
      formatTokens(s.promptTokens),
      formatTokens(s.usage.output),
      s.costUsd ? `$${s.costUsd.toFixed(4)}` : '-',
    ];
  });
  return renderTable(['session', 'agent', 'client', 'start', 'duration', 'requests', 'conversations', 'turns', 'models', 'tokens in', 'tokens out', 'cost'], rows, [5, 7, 9, 10, 11]);
}

export function register(program: Command): void {
  program
    .command('sessions')
    .description('group a capture into sessions and conversations (explicit ids, continuity, context, client + gap)')
    .argument('<file>', 'capture file (record v1 JSONL)')
    .option('--gap <seconds>', 'max seconds between exchanges of one client in one session', '300')
    .option('--json', 'one JSON object per session (JSON Lines)')
    .option('-o, --out <file>', 'write the sessions as a JSON array to FILE')
    .action(async (file: string, flags: { gap: string; json?: boolean; out?: string }) => {
      const gapSeconds = parseGap(flags.gap);
      requireCapture(file);
      try {
        const workers = workersFor(statSync(file).size);
        const { tracker } = workers > 0 ? await scanParallel(file, { gapSeconds, progress: `reading ${file}`, workers }) : await scanCapture(file, { gapSeconds, progress: `reading ${file}` });
        const sessions = tracker.result();
        if (flags.out) {
          // One session at a time: a day of sessions never becomes one giant string.
          const out = createWriteStream(flags.out);
          for (let i = 0; i < sessions.length; i++) {
            if (!out.write(`${i === 0 ? '[\n' : ',\n'}${JSON.stringify(sessionJson(sessions[i]!))}`)) await once(out, 'drain');
          }
          out.end(sessions.length ? '\n]\n' : '[]\n');
          await once(out, 'finish');
          process.stderr.write(`${sessions.length} session(s) written to ${flags.out}\n`);
        }
        if (flags.json) {
          for (const s of sessions) process.stdout.write(`${JSON.stringify(sessionJson(s))}\n`);
        } else if (!flags.out) {
          if (sessions.length === 0) process.stdout.write('no LLM sessions in this capture\n');
          else process.stdout.write(sessionsTable(sessions));
        }
      } catch (e) {
        throw toCliError(e);
      }
    });
}
