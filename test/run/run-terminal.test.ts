import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliBin } from '../support/cli-process.js';

// util-linux `script` gives the command a real pseudo-terminal, like a user's shell. Commands are
// `exec`ed so the shell script wraps them in does not take the Ctrl-C itself.
function inPty(command: string, home: string, onOutput?: (text: string, write: (s: string) => void) => void): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('script', ['-qec', command, '/dev/null'], { env: { PATH: process.env['PATH'], HOME: home, AGENTTAP_HOME: join(home, '.agenttap'), TERM: 'xterm' }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      onOutput?.(out, (s) => p.stdin.write(s));
    });
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const t = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`timed out: ${out}`));
    }, 30_000);
    p.on('close', (code) => {
      clearTimeout(t);
      resolve({ code, out });
    });
  });
}

test('the child keeps the terminal: stdin/stdout/stderr are the TTY, with its window size', async () => {
  const home = mkdtempSync(join(tmpdir(), 'agenttap-tty-'));
  const r = await inPty(`stty cols 123 rows 45; ${process.execPath} ${cliBin} run --no-summary -- sh -c 'test -t 0 && test -t 1 && test -t 2 && echo TTY-OK; stty size'`, home);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /TTY-OK/);
  assert.match(r.out, /^45 123\r?$/m);
});

test('Ctrl-C at the terminal reaches the child once (not twice), and run exits with the child’s code', async () => {
  const home = mkdtempSync(join(tmpdir(), 'agenttap-tty-'));
  let sent = false;
  const r = await inPty(
    `exec ${process.execPath} ${cliBin} run --no-summary -- sh -c 'trap "echo got-int; exit 3" INT; echo ready; while :; do sleep 0.1; done'`,
    home,
    (text, write) => {
      if (!sent && /ready/.test(text)) {
        sent = true;
        write('\x03');
      }
    },
  );
  assert.equal(sent, true, r.out);
  assert.equal((r.out.match(/got-int/g) ?? []).length, 1, r.out);
  assert.equal(r.code, 3, r.out);
});
