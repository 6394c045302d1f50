import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli-process.js';

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.test', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.test' } }).trim();
}

function makeRepo(): { dir: string; first: string; second: string } {
  const dir = mkdtempSync(join(tmpdir(), 'agenttap-swe-repo-'));
  git(dir, 'init', '--quiet', '-b', 'main');
  writeFileSync(join(dir, 'calc.py'), 'def add(a, b):\n    return a - b\n');
  git(dir, 'add', '.');
  git(dir, 'commit', '--quiet', '-m', 'buggy add');
  const first = git(dir, 'rev-parse', 'HEAD');
  writeFileSync(join(dir, 'calc.py'), 'def add(a, b):\n    return a + b\n');
  git(dir, 'commit', '--quiet', '-am', 'fix add');
  return { dir, first, second: git(dir, 'rev-parse', 'HEAD') };
}

test('task swe-bench clones the instance repo at base_commit and writes TASK.md from a JSONL dataset', async () => {
  const repo = makeRepo();
  const work = mkdtempSync(join(tmpdir(), 'agenttap-swe-'));
  const dataset = join(work, 'swe.jsonl');
  const inst = (id: string, commit: string, problem: string) =>
    JSON.stringify({ instance_id: id, repo: 'acme/calc', base_commit: commit, problem_statement: problem, hints_text: 'look at add()', FAIL_TO_PASS: '["test_calc.py::test_add"]' });
  writeFileSync(dataset, [inst('acme__calc-1', repo.second, 'unused'), '{"broken json', inst('acme__calc-2', repo.first, 'add() subtracts instead of adding')].join('\n') + '\n');
  const out = join(work, 'ws');
  const r = await runCli(['task', 'swe-bench', '--index', '1', '-o', out, '--dataset', dataset, '--repo-url', repo.dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /swe\.jsonl:2: bad JSON line skipped/);
  const repoDir = join(out, 'calc');
  assert.equal(git(repoDir, 'rev-parse', 'HEAD'), repo.first);
  assert.equal(readFileSync(join(repoDir, 'calc.py'), 'utf8'), 'def add(a, b):\n    return a - b\n');
  const md = readFileSync(join(out, 'TASK.md'), 'utf8');
  assert.match(md, /^# acme__calc-2$/m);
  assert.match(md, /add\(\) subtracts instead of adding/);
  assert.match(md, /- `test_calc.py::test_add`/);
  assert.match(md, new RegExp(`Base commit: ${repo.first}`));
  assert.match(r.stdout, new RegExp(`cd ${repoDir.replace(/[/.]/g, '\\$&')} && agenttap run --out .*capture\\.jsonl -- claude -p`));

  // Running again reuses the clone and still lands on the base commit.
  const again = await runCli(['task', 'swe-bench', '--index', '0', '-o', out, '--dataset', dataset, '--repo-url', repo.dir]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(git(repoDir, 'rev-parse', 'HEAD'), repo.second);
  assert.match(readFileSync(join(out, 'TASK.md'), 'utf8'), /^# acme__calc-1$/m);
});

test('task swe-bench: out-of-range index, missing dataset and bad instances are one clear line', async () => {
  const work = mkdtempSync(join(tmpdir(), 'agenttap-swe-bad-'));
  const dataset = join(work, 'd.jsonl');
  writeFileSync(dataset, JSON.stringify({ instance_id: 'x', repo: 'a/b', problem_statement: 'p' }) + '\n');
  const range = await runCli(['task', 'swe-bench', '--index', '5', '-o', join(work, 'o'), '--dataset', dataset]);
  assert.equal(range.code, 1);
  assert.match(range.stderr, /has 1 instances; --index 5 is out of range/);
  const bad = await runCli(['task', 'swe-bench', '--index', '0', '-o', join(work, 'o'), '--dataset', dataset]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /d\.jsonl:1: not a SWE-bench instance \(missing base_commit\)/);
  const missing = await runCli(['task', 'swe-bench', '-o', join(work, 'o'), '--dataset', join(work, 'nope.jsonl')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /dataset file not found/);
  const usage = await runCli(['task', 'swe-bench', '--index', '-3', '-o', join(work, 'o'), '--dataset', dataset]);
  assert.equal(usage.code, 2);
  assert.equal(existsSync(join(work, 'o', 'TASK.md')), false);
});

test('task swe-bench without --dataset reads the row from the Hugging Face datasets server API', async () => {
  const http = await import('node:http');
  const repo = makeRepo();
  const seen: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push(req.url ?? '');
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname !== '/rows' || u.searchParams.get('offset') !== '3') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"no"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ rows: [{ row_idx: 3, row: { instance_id: 'acme__calc-9', repo: 'acme/calc', base_commit: repo.first, problem_statement: 'from the hub' } }] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as import('node:net').AddressInfo).port;
  try {
    const out = join(mkdtempSync(join(tmpdir(), 'agenttap-swe-hub-')), 'ws');
    const r = await runCli(['task', 'swe-bench', '--index', '3', '-o', out, '--repo-url', repo.dir], { env: { ...process.env, AGENTTAP_HF_DATASETS_SERVER: `http://127.0.0.1:${port}` } });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(seen, ['/rows?dataset=princeton-nlp%2FSWE-bench_Lite&config=default&split=test&offset=3&length=1']);
    assert.match(readFileSync(join(out, 'TASK.md'), 'utf8'), /from the hub/);
    const missing = await runCli(['task', 'swe-bench', '--index', '4', '-o', out], { env: { ...process.env, AGENTTAP_HF_DATASETS_SERVER: `http://127.0.0.1:${port}` } });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /datasets server answered 404/);
  } finally {
    server.close();
  }
});

test('task swe-bench reads its instance from a Parquet dataset, as the Hugging Face files are', async () => {
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const repo = makeRepo();
  const work = mkdtempSync(join(tmpdir(), 'agenttap-swe-parquet-'));
  const dataset = join(work, 'test-00000-of-00001.parquet');
  const buffer = parquetWriteBuffer({
    columnData: [
      { name: 'instance_id', data: ['acme__calc-1', 'acme__calc-2'], type: 'STRING' },
      { name: 'repo', data: ['acme/calc', 'acme/calc'], type: 'STRING' },
      { name: 'base_commit', data: [repo.second, repo.first], type: 'STRING' },
      { name: 'problem_statement', data: ['first', 'parquet says add() subtracts'], type: 'STRING' },
    ],
  });
  writeFileSync(dataset, Buffer.from(buffer));
  const out = join(work, 'ws');
  const r = await runCli(['task', 'swe-bench', '--index', '1', '-o', out, '--dataset', dataset, '--repo-url', repo.dir]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(git(join(out, 'calc'), 'rev-parse', 'HEAD'), repo.first);
  assert.match(readFileSync(join(out, 'TASK.md'), 'utf8'), /parquet says add\(\) subtracts/);

  writeFileSync(join(work, 'bad.parquet'), 'not parquet at all');
  const bad = await runCli(['task', 'swe-bench', '--index', '0', '-o', join(work, 'o'), '--dataset', join(work, 'bad.parquet')]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /bad\.parquet is not a readable Parquet file/);
});
