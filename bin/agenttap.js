#!/usr/bin/env node
// The published entry point: the compiled CLI lives in dist/ (npm run build).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const main = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  process.stderr.write('agenttap is not built yet: run `npm run build` in the package folder\n');
  process.exit(1);
}
await import(main);
