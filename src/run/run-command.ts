// The body of `agenttap run`: target → capture proxy → child with the right environment → summary.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { uuidv7 } from '../capture/ids.js';
import { readRecords } from '../capture/reader.js';
import type { CaptureRecord } from '../capture/record.js';
import { startCaptureProxy, type CaptureProxy, type CaptureProxyOptions } from '../capture/capture-proxy.js';
import { createClientProcessResolver, isInTree, pidAnnotator, processTree } from '../engine/client-process.js';
import { agenttapHome } from '../engine/home.js';
import { writeCombinedBundle } from '../targets/ca-bundle.js';
import { forwardEnv } from '../targets/forward-env.js';
import { findTarget, inferTarget, UnknownTargetError } from '../targets/registry.js';
import { reverseArgs, reverseEnv } from '../targets/reverse-env.js';
import type { Target } from '../targets/types.js';
import { CommandNotFoundError, resolveCommand, runChild } from './child.js';
import { formatTargetList } from './list-targets.js';
import { formatSummary, loadLlmHooks, SummaryBuilder } from './summary.js';
import { startLiveInspector, type LiveUiFlags } from '../cli/ui.js';

export interface RunOptions {
  target?: string;
  mode?: string;
  listTargets?: boolean;
  session?: string;
  summary?: boolean;
  /** Proxy settings from the shared proxy flags (out, mapRemote, keepSecrets, …). */
  capture: CaptureProxyOptions;
  /** --ui [PORT] / --ui-host / --ui-buffer: the web inspector on this run's traffic. */
  ui?: LiveUiFlags;
}

/** Errors `run` reports as one line; exitCode 2 = usage. */
export class RunError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2,
    readonly code: string,
  ) {
    super(message);
  }
}

const PRELOAD = fileURLToPath(new URL('../targets/node-proxy-preload.js', import.meta.url));

function pickTarget(argv: readonly string[], name: string | undefined): Target {
  if (name) {
    try {
      return findTarget(name);
    } catch (e) {
      if (e instanceof UnknownTargetError) throw new RunError(e.message, 2, e.code);
      throw e;
    }
  }
  return inferTarget(argv[0] ?? '', argv.slice(1));
}

function stamp(d = new Date()): string {
  return d.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
}

/** NODE_EXTRA_CA_CERTS holds one file: when the user already had one, ours is appended to a copy. */
function nodeExtraCa(home: string, caFile: string, caPem: string, existing: string | undefined): string {
  if (!existing || existing === caFile) return caFile;
  let theirs: string;
  try {
    theirs = readFileSync(existing, 'utf8');
  } catch {
    return caFile;
  }
  const file = join(home, 'node-extra-ca.pem');
  writeFileSync(file, `${theirs.trimEnd()}\n${caPem.trim()}\n`);
  return file;
}

export async function runCommand(argv: string[], o: RunOptions, io = { out: process.stdout, err: process.stderr }): Promise<number> {
  if (o.listTargets) {
    io.out.write(formatTargetList());
    return 0;
  }
  const mode = o.mode ?? 'forward';
  if (mode !== 'forward' && mode !== 'reverse') throw new RunError(`--mode must be forward or reverse, got "${mode}"`, 2, 'usage');
  if (!argv.length && !o.target) throw new RunError('no command to run: agenttap run [options] -- COMMAND [ARGS...] (or --list-targets)', 2, 'usage');
  const target = pickTarget(argv, o.target);
  const home = o.capture.home ?? agenttapHome();

  if (!target.launch) {
    // Cursor and the like: agenttap cannot start them; say exactly what to do instead.
    const port = typeof o.capture.port === 'number' && o.capture.port > 0 ? o.capture.port : 8080;
    io.out.write(`${target.title}: agenttap does not start it. Capture it with these steps:\n`);
    const steps = target.manualSteps({ mode: 'forward', proxyUrl: `http://127.0.0.1:${port}`, caFile: join(home, 'ca.pem') });
    steps.forEach((s, i) => io.out.write(`  ${i + 1}. ${s}\n`));
    return 0;
  }
  if (!argv.length) throw new RunError(`no command to run for target ${target.name}: agenttap run --target ${target.name} -- COMMAND [ARGS...]`, 2, 'usage');

  let file: string;
  try {
    file = resolveCommand(argv[0]!);
  } catch (e) {
    if (e instanceof CommandNotFoundError) {
      io.err.write(`agenttap: ${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  }

  const session = o.session ?? uuidv7();
  // `out: false` (memory only) stays false; a path is made absolute so the summary names it exactly.
  const given = o.capture.out ?? join(home, 'runs', `${stamp()}-${target.name}-${session.slice(-8)}.jsonl`);
  const out = given === false ? false : resolve(given);
  if (out) mkdirSync(dirname(out), { recursive: true });

  // Attribution: the pid is looked up when the exchange starts (the client is connected then);
  // whether that process belongs to this run's child is decided once per pid.
  let childPid: number | undefined;
  const resolver = createClientProcessResolver({ preferredPids: () => (childPid ? processTree(childPid) : []) });
  const ownPorts: number[] = [];
  const ownership = new Map<number, boolean>();
  const attribute = pidAnnotator(resolver, () => ownPorts, { syncPerSecond: Infinity });
  const annotate = (r: CaptureRecord, phase: 'start' | 'end'): void => {
    attribute(r, phase);
    const pid = r.client?.pid;
    let ours = true; // the proxy is private to this run: an exchange from an unknown process is the child's
    if (pid !== undefined && childPid !== undefined) {
      const known = ownership.get(pid);
      ours = known ?? isInTree(resolver, pid, childPid);
      if (known === undefined) ownership.set(pid, ours);
    }
    if (ours) r.labels = { ...r.labels, target: target.name, session };
    else if (r.labels) {
      delete r.labels['target'];
      delete r.labels['session'];
    }
  };

  const reverse = mode === 'reverse' ? target.upstreams.map((u) => ({ port: 0, host: '127.0.0.1', target: u.url })) : [];
  if (mode === 'reverse' && !reverse.length) throw new RunError(`target ${target.name} has no upstreams for reverse mode: use --mode forward`, 2, 'usage');
  let cap: CaptureProxy;
  try {
    cap = await startCaptureProxy({
      ...o.capture,
      home,
      out,
      host: '127.0.0.1',
      port: mode === 'reverse' ? (o.capture.port ?? false) : (o.capture.port ?? 0),
      reverse: [...(o.capture.reverse ?? []), ...reverse],
      annotate: (r, phase) => {
        o.capture.annotate?.(r, phase);
        annotate(r, phase);
      },
    });
  } catch (e) {
    const err = e as Error & { code?: string };
    throw new RunError(err.message, 1, err.code ?? 'proxy-start');
  }
  if (cap.address) ownPorts.push(cap.address.port);
  for (const l of cap.reverseListeners) ownPorts.push(l.port);
  // --ui: the web inspector on this run's live traffic; it stays open after the command ends.
  let inspector: Awaited<ReturnType<typeof startLiveInspector>>;
  try {
    inspector = o.ui ? await startLiveInspector(cap, o.ui) : undefined;
  } catch (e) {
    await cap.close();
    throw e;
  }

  const notes: string[] = [];
  let childArgs = argv.slice(1);
  let overlay: Record<string, string>;
  let where: string;
  if (mode === 'forward') {
    const proxyUrl = cap.address!.url;
    const bundleFile = writeCombinedBundle(home, { caPem: cap.ca.certPem, ...(process.env['SSL_CERT_FILE'] ? { existingBundle: process.env['SSL_CERT_FILE'] } : {}) });
    const plan = forwardEnv(
      { proxyUrl, caFile: cap.ca.files.certPath, bundleFile, preloadFile: PRELOAD, nodeExtraCaFile: nodeExtraCa(home, cap.ca.files.certPath, cap.ca.certPem, process.env['NODE_EXTRA_CA_CERTS']), target },
      process.env,
    );
    overlay = plan.env;
    notes.push(...plan.notes);
    where = `forward proxy ${proxyUrl}`;
  } else {
    const listeners: Record<string, string> = {};
    const mine = cap.reverseListeners.slice(cap.reverseListeners.length - reverse.length);
    target.upstreams.forEach((u, i) => (listeners[u.id] = mine[i]!.url));
    overlay = reverseEnv(target, listeners);
    childArgs = [...reverseArgs(target, listeners), ...childArgs];
    where = target.upstreams.map((u) => `${listeners[u.id]} → ${u.url}`).join(', ');
    notes.push(...target.manualSteps({ mode: 'reverse', listeners }));
  }
  io.err.write(`agenttap: capturing ${target.name} (${mode}: ${where}) → ${cap.outFile ?? '(memory)'}\n`);
  for (const n of notes) io.err.write(`agenttap: note: ${n}\n`);

  let exitCode: number;
  let how = '';
  try {
    const result = await runChild(file, argv[0]!, childArgs, { ...process.env, ...overlay, AGENTTAP_SESSION: session }, (child) => {
      childPid = child.pid;
    });
    exitCode = result.exitCode;
    if (result.signal) how = ` killed by ${result.signal}`;
  } catch (e) {
    await cap.close();
    if (e instanceof CommandNotFoundError) {
      io.err.write(`agenttap: ${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  }
  await cap.close();

  if (how) io.err.write(`agenttap: ${argv[0]}${how}\n`);
  if (o.summary !== false && cap.outFile) {
    const llm = await loadLlmHooks();
    const b = new SummaryBuilder(llm);
    for await (const item of readRecords(cap.outFile, { onBadLine: () => {} })) {
      if (item.record.labels?.['session'] === session) b.add(item.record);
    }
    io.err.write(formatSummary(b.result(), cap.outFile, !!llm));
  }
  if (inspector) {
    io.err.write(`agenttap: the inspector stays open at ${inspector.url} (Ctrl-C to exit)\n`);
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await inspector.close();
  }
  return exitCode;
}
