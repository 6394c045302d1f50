#!/usr/bin/env node
// Runs every compiled *.test.js under dist/test with node:test (Node 20's runner takes no globs,
// and a directory argument would also run the support modules beside the tests).
// Extra arguments narrow the run: `npm test -- engine` runs the files whose path contains "engine".
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = 'dist/test';
const filters = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const passthrough = process.argv.slice(2).filter((a) => a.startsWith('-'));

function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...walk(path));
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const files = walk(root)
  .filter((f) => filters.length === 0 || filters.some((w) => relative(root, f).includes(w)))
  .sort();
if (files.length === 0) {
  console.error(`no test files under ${root} match ${filters.join(' ')}`);
  process.exit(1);
}
const result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', '--test-timeout=240000', ...passthrough, ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
