// `agenttap ui [FILE]`: opens a capture file (or only the saved sessions) in the web inspector.
// The live variant is `agenttap proxy --ui` / `agenttap run --ui`, which use `startLiveInspector`.
import type { Command } from 'commander';
import { stat } from 'node:fs/promises';
import { CliError, usageError } from './errors.js';
import type { InspectorServer, LiveSource } from '../server/inspector-server.js';
import type { CaptureProxy } from '../capture/capture-proxy.js';
import { headerValue } from '../capture/record.js';
import { agenttapHome } from '../engine/home.js';

export interface UiFlags {
  port?: string;
  uiHost?: string;
  uiBuffer?: string;
}

export function parsePort(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw usageError(`--port must be a port number (0-65535), got "${value}"`);
  return n;
}

export function parseBuffer(value: string | undefined): number {
  if (value === undefined) return 5000;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 10 || n > 10_000_000) throw usageError(`--ui-buffer must be a whole number of exchanges (10 or more), got "${value}"`);
  return n;
}

/** Starts the inspector and prints where it is. Shared by `ui`, `proxy --ui` and `run --ui`. */
export async function startInspectorFromCli(opts: { file?: string; live?: LiveSource; port: number; uiHost?: string; buffer: number; quiet?: boolean; background?: boolean }): Promise<InspectorServer> {
  const { startInspector, InspectorError } = await import('../server/inspector-server.js');
  const host = opts.uiHost ?? '127.0.0.1';
  const remote = opts.uiHost !== undefined && !['127.0.0.1', '::1', 'localhost'].includes(opts.uiHost);
  if (remote) {
    process.stderr.write(
      `agenttap: WARNING: the inspector will listen on ${opts.uiHost}, reachable from other machines. It shows every captured request, including secrets; only the token in the URL protects it.\n`,
    );
  }
  const isTty = process.stderr.isTTY && !opts.quiet && !opts.background;
  let last = 0;
  try {
    const server = await startInspector({
      ...(opts.file ? { file: opts.file } : {}),
      ...(opts.live ? { live: opts.live } : {}),
      host,
      port: opts.port,
      allowRemote: remote,
      bufferSize: opts.buffer,
      home: agenttapHome(),
      ...(opts.background ? { background: true } : {}),
      ...(isTty
        ? {
            onProgress: (bytes: number) => {
              if (bytes - last > 16 << 20) {
                last = bytes;
                process.stderr.write(`\ragenttap: indexing ${(bytes / 1048576).toFixed(0)} MB…`);
              }
            },
          }
        : {}),
    });
    if (last) process.stderr.write('\n');
    return server;
  } catch (e) {
    if (e instanceof InspectorError) throw new CliError(e.message, e.code === 'not-loopback' ? 2 : 1, e.code);
    throw e;
  }
}

export interface LiveUiFlags {
  /** `--ui` alone (true) or `--ui PORT`. */
  ui?: boolean | string;
  uiHost?: string;
  uiBuffer?: string;
}

/**
 * `proxy --ui` / `run --ui`: opens the inspector on a running capture proxy. Replays sent from
 * the UI carry `x-agenttap-replay-of`; the recorder's annotate hook turns it into `replayOf` on
 * the record, so the link is in the capture file too.
 */
export async function startLiveInspector(capture: CaptureProxy, flags: LiveUiFlags, quiet = false): Promise<InspectorServer | undefined> {
  if (flags.ui === undefined || flags.ui === false) return undefined;
  const port = flags.ui === true ? 8081 : parsePort(flags.ui, 8081);
  const options = capture.recorder.options;
  const previous = options.annotate;
  options.annotate = (record, phase) => {
    previous?.(record, phase);
    if (phase !== 'end' || record.replayOf) return;
    const origin = headerValue(record.request?.headers, 'x-agenttap-replay-of');
    if (origin && /^[0-9a-f-]{36}$/i.test(origin)) record.replayOf = origin;
  };
  const server = await startInspectorFromCli({
    live: {
      recorder: capture.recorder,
      ...(capture.outFile ? { outFile: capture.outFile, currentOutFile: () => capture.outFile } : {}),
      ...(capture.address ? { proxyUrl: capture.address.url } : {}),
      caPem: capture.ca.certPem,
    },
    port,
    ...(flags.uiHost ? { uiHost: flags.uiHost } : {}),
    buffer: parseBuffer(flags.uiBuffer),
    quiet,
  });
  process.stderr.write(`agenttap inspector: ${server.url}\n`);
  return server;
}

export function register(program: Command): void {
  program
    .command('ui')
    .description('open a capture file in the web inspector (loopback only, token-protected)')
    .argument('[file]', 'capture file (JSONL, record v1); without it, only saved sessions are listed')
    .option('--port <port>', 'port to listen on (0: any free port)', '8081')
    .option('--ui-host <host>', 'listen on this address instead of 127.0.0.1 (exposes captured secrets; prints a warning)')
    .option('--ui-buffer <n>', 'full exchanges kept in memory; older ones are read back from the file', '5000')
    .action(async (file: string | undefined, flags: UiFlags) => {
      if (file) {
        const st = await stat(file).catch(() => undefined);
        if (!st) throw new CliError(`${file}: no such file`);
        if (!st.isFile()) throw new CliError(`${file} is not a file`);
      }
      const server = await startInspectorFromCli({
        ...(file ? { file } : {}),
        port: parsePort(flags.port, 8081),
        ...(flags.uiHost ? { uiHost: flags.uiHost } : {}),
        buffer: parseBuffer(flags.uiBuffer),
        background: true,
      });
      // Signal handlers first: a script may stop us as soon as it reads the URL.
      const stopped = new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void server.close().then(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      // The page opens while a big capture is still being indexed; the summary follows.
      process.stdout.write(`agenttap inspector: ${server.url}\npress Ctrl-C to stop\n`);
      void server.ready.then(async () => {
        if (!file) return;
        const { printBadLine } = await import('../capture/reader.js');
        for (const b of server.store.bad) printBadLine(b);
        const bad = server.store.badCount;
        process.stdout.write(`${server.store.size} exchanges from ${file}${bad ? ` (${bad} bad lines skipped)` : ''}\n`);
      }, (e: Error) => process.stderr.write(`agenttap: could not read ${file}: ${e.message}\n`));
      await stopped;
    });
}
