import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createProgress } from '../../src/analysis/progress.js';
import { agenttap } from '../support/analysis-cli.js';
import { builtCapture } from '../support/analysis-fixtures.js';

function fakeStream(isTTY: boolean): NodeJS.WriteStream & { out: string } {
  const s = { isTTY, out: '', write(chunk: string) { s.out += chunk; return true; } };
  return s as unknown as NodeJS.WriteStream & { out: string };
}

test('progress shows bytes read and records/s on a terminal, redrawn in place, and clears itself', async () => {
  const tty = fakeStream(true);
  const p = createProgress('reading c.jsonl', 10 * 1048576, tty);
  p.update(5 * 1048576, 1000);
  assert.match(tty.out, /^\r\x1b\[2Kreading c\.jsonl: 5\.0 MB of 10\.0 MB \(50%\), 1000 records, \d+ records\/s$/);
  p.update(6 * 1048576, 1200); // within 200 ms: not redrawn
  assert.doesNotMatch(tty.out, /6\.0 MB/);
  await new Promise((r) => setTimeout(r, 220));
  p.update(7 * 1048576, 1400);
  assert.match(tty.out, /7\.0 MB of 10\.0 MB \(70%\), 1400 records/);
  p.done();
  assert.ok(tty.out.endsWith('\r\x1b[2K'));
});

test('no progress output when stderr is not a terminal (piped)', () => {
  const pipe = fakeStream(false);
  const p = createProgress('reading', 100, pipe);
  p.update(50, 10);
  p.done();
  assert.equal(pipe.out, '');
  const r = agenttap(['stats', builtCapture()]);
  assert.equal(r.code, 0);
  assert.equal(r.stderr, '', 'a piped run prints nothing but its result');
});
