// A SWE-bench task as a workspace to capture an agent on: the instance's repository cloned at its
// base commit, the problem statement in TASK.md, and the `agenttap run` command to start.
// Instances come from a local JSONL/JSON/Parquet file or from the Hugging Face datasets server.
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parquetReadObjects } from 'hyparquet';

export interface SweBenchInstance {
  instance_id: string;
  repo: string; // "owner/name"
  base_commit: string;
  problem_statement: string;
  hints_text?: string;
  version?: string;
  FAIL_TO_PASS?: string | string[];
  PASS_TO_PASS?: string | string[];
  [k: string]: unknown;
}

export class TaskError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

export const DEFAULT_HF_DATASET = 'princeton-nlp/SWE-bench_Lite';

function checkInstance(row: unknown, where: string): SweBenchInstance {
  const r = row as Partial<SweBenchInstance> | null;
  const missing = ['instance_id', 'repo', 'base_commit', 'problem_statement'].filter((k) => typeof (r as Record<string, unknown> | null)?.[k] !== 'string');
  if (!r || missing.length) throw new TaskError(`${where}: not a SWE-bench instance (missing ${missing.join(', ')})`, 'bad-instance');
  if (!/^[\w.-]+\/[\w.-]+$/.test(r.repo!)) throw new TaskError(`${where}: repo "${r.repo}" is not owner/name`, 'bad-instance');
  if (!/^[0-9a-f]{7,40}$/i.test(r.base_commit!)) throw new TaskError(`${where}: base_commit "${r.base_commit}" is not a commit hash`, 'bad-instance');
  return r as SweBenchInstance;
}

/** Instance N (0-based) of a JSONL file, streaming (SWE-bench files are large); bad lines are reported and skipped. */
async function fromJsonl(file: string, index: number, warn: (l: string) => void): Promise<SweBenchInstance> {
  const rl = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let n = 0;
  let lineNo = 0;
  try {
    for await (const line of rl) {
      lineNo++;
      if (!line.trim()) continue;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch (e) {
        warn(`${file}:${lineNo}: bad JSON line skipped (${(e as Error).message})`);
        continue;
      }
      if (n === index) return checkInstance(row, `${file}:${lineNo}`);
      n++;
    }
  } finally {
    rl.close();
  }
  throw new TaskError(`${file} has ${n} instances; --index ${index} is out of range`, 'index-out-of-range');
}

async function fromParquet(file: string, index: number): Promise<SweBenchInstance> {
  const buf = readFileSync(file);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  let rows: Record<string, unknown>[];
  try {
    rows = (await parquetReadObjects({ file: ab, rowStart: index, rowEnd: index + 1 })) as Record<string, unknown>[];
  } catch (e) {
    throw new TaskError(`${file} is not a readable Parquet file (${(e as Error).message})`, 'bad-parquet');
  }
  if (!rows[0]) throw new TaskError(`${file}: --index ${index} is out of range`, 'index-out-of-range');
  return checkInstance(rows[0], `${file} row ${index}`);
}

export async function loadInstanceFromFile(file: string, index: number, warn: (l: string) => void = () => {}): Promise<SweBenchInstance> {
  if (!existsSync(file)) throw new TaskError(`dataset file not found: ${file}`, 'dataset-not-found');
  if (/\.parquet$/i.test(file)) return fromParquet(file, index);
  const head = readFileSync(file, { encoding: 'utf8', flag: 'r' }).slice(0, 1).trimStart();
  if (/\.json$/i.test(file) && head === '[') {
    const all = JSON.parse(readFileSync(file, 'utf8')) as unknown[];
    if (index >= all.length) throw new TaskError(`${file} has ${all.length} instances; --index ${index} is out of range`, 'index-out-of-range');
    return checkInstance(all[index], `${file}[${index}]`);
  }
  return fromJsonl(file, index, warn);
}

/** One row from the Hugging Face datasets server (no token needed for public datasets). */
export async function loadInstanceFromHub(dataset: string, split: string, index: number, baseUrl = 'https://datasets-server.huggingface.co'): Promise<SweBenchInstance> {
  const url = `${baseUrl}/rows?dataset=${encodeURIComponent(dataset)}&config=default&split=${encodeURIComponent(split)}&offset=${index}&length=1`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(20_000) });
  } catch (e) {
    throw new TaskError(`cannot reach the Hugging Face datasets server (${(e as Error).message}): pass --dataset FILE (JSONL or Parquet) to work offline`, 'hub-unreachable');
  }
  if (!res.ok) throw new TaskError(`datasets server answered ${res.status} for ${dataset} (${split}): ${(await res.text()).slice(0, 200)}`, 'hub-error');
  const body = (await res.json()) as { rows?: { row: unknown }[] };
  const row = body.rows?.[0]?.row;
  if (!row) throw new TaskError(`${dataset} (${split}) has no row ${index}`, 'index-out-of-range');
  return checkInstance(row, `${dataset}[${index}]`);
}

function git(args: string[], cwd?: string): Promise<void> {
  return new Promise((res, rej) => {
    const p = spawn('git', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', (e) => rej(new TaskError(`git is needed to clone the task repository: ${e.message}`, 'git-missing')));
    p.on('close', (code) => (code === 0 ? res() : rej(new TaskError(`git ${args[0]} failed: ${err.trim().split('\n').pop() ?? `exit ${code}`}`, 'git-failed'))));
  });
}

function listOf(v: string | string[] | undefined): string[] {
  if (!v) return [];
  if (Array.isArray(v)) return v;
  try {
    const parsed = JSON.parse(v) as unknown;
    return Array.isArray(parsed) ? parsed.map(String) : [v];
  } catch {
    return [v];
  }
}

/** TASK.md text (pure). */
export function taskMarkdown(i: SweBenchInstance): string {
  const lines = [
    `# ${i.instance_id}`,
    '',
    `- Repository: ${i.repo}`,
    `- Base commit: ${i.base_commit}`,
    ...(i.version ? [`- Version: ${i.version}`] : []),
    '',
    '## Problem statement',
    '',
    i.problem_statement.trim(),
    '',
  ];
  if (i.hints_text && i.hints_text.trim()) lines.push('## Hints', '', i.hints_text.trim(), '');
  const f2p = listOf(i.FAIL_TO_PASS);
  if (f2p.length) lines.push('## Tests that should pass after the fix', '', ...f2p.map((t) => `- \`${t}\``), '');
  return lines.join('\n');
}

export interface PreparedTask {
  instance: SweBenchInstance;
  repoDir: string;
  taskFile: string;
  /** The suggested capture command, to run from repoDir. */
  command: string;
}

export interface PrepareOptions {
  outDir: string;
  /** Clone source; default https://github.com/<repo>.git. */
  repoUrl?: string;
  force?: boolean;
  agentCommand?: string;
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export async function prepareTask(instance: SweBenchInstance, o: PrepareOptions): Promise<PreparedTask> {
  const outDir = resolve(o.outDir);
  mkdirSync(outDir, { recursive: true });
  const repoDir = join(outDir, instance.repo.split('/')[1]!);
  const url = o.repoUrl ?? `https://github.com/${instance.repo}.git`;
  if (existsSync(join(repoDir, '.git')) && !o.force) {
    await git(['fetch', '--quiet', 'origin'], repoDir).catch(() => undefined); // offline is fine if the commit is there
  } else {
    if (existsSync(repoDir)) {
      const { rmSync } = await import('node:fs');
      rmSync(repoDir, { recursive: true, force: true });
    }
    await git(['clone', '--quiet', '--no-checkout', url, repoDir]);
  }
  await git(['-c', 'advice.detachedHead=false', 'checkout', '--quiet', '--force', instance.base_commit], repoDir);
  const taskFile = join(outDir, 'TASK.md');
  writeFileSync(taskFile, taskMarkdown(instance));
  writeFileSync(join(outDir, 'instance.json'), JSON.stringify(instance, null, 2) + '\n');
  const capture = join(outDir, 'capture.jsonl');
  const agent = o.agentCommand ?? `claude -p "$(cat ${shellQuote(taskFile)})"`;
  const command = `cd ${shellQuote(repoDir)} && agenttap run --out ${shellQuote(capture)} -- ${agent}`;
  return { instance, repoDir, taskFile, command };
}
