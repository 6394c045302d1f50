// `npm run bench [-- [--quick] [NAME...]]`: runs every bench/*.bench.ts module (or those whose
// file name contains NAME), prints one table per module and writes bench-results.json.
import { readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BenchModule, BenchResult } from './types.js';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const names = args.filter((a) => !a.startsWith('-'));

function fmt(n: number | undefined): string {
  if (n === undefined) return '';
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(3);
}

const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => names.length === 0 || names.some((n) => f.includes(n)))
  .sort();
const all: Record<string, BenchResult[]> = {};
let failed = 0;
for (const file of files) {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { default: BenchModule };
  const bench = mod.default;
  console.log(`\n## ${bench.title}\n`);
  const results = await bench.run({ quick, log: (line) => console.log(`  ${line}`) });
  all[bench.title] = results;
  console.log('| metric | agenttap | baseline | ratio | target | ok |');
  console.log('|---|---|---|---|---|---|');
  for (const r of results) {
    const ok = r.pass === undefined ? '' : r.pass ? 'yes' : 'NO';
    if (r.pass === false) failed++;
    console.log(`| ${r.metric} | ${fmt(r.value)} ${r.unit} | ${r.baseline === undefined ? '' : `${fmt(r.baseline)} ${r.unit}`} | ${r.ratio === undefined ? '' : `${fmt(r.ratio)}×`} | ${r.target ?? ''} | ${ok} |`);
  }
}
writeFileSync('bench-results.json', JSON.stringify({ node: process.version, at: new Date().toISOString(), results: all }, null, 2));
console.log(`\n${failed === 0 ? 'all targets met' : `${failed} target(s) missed`}; details in bench-results.json`);
