// Several processes append to one capture file without ever interleaving lines; daily rotation
// writes <name>-YYYY-MM-DD.jsonl.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { readAllRecords } from '../../src/capture/reader.js';
import { CaptureWriter, rotatedName } from '../../src/capture/writer.js';
import type { CaptureRecord } from '../../src/capture/record.js';
import { repoRoot } from '../support/cli-process.js';
import { tempDir } from '../support/temp-home.js';

const writerModule = pathToFileURL(path.join(repoRoot, 'dist/src/capture/writer.js')).href;

function writerProcess(file: string, who: number, count: number): Promise<number | null> {
  // Record sizes vary from tiny to 200 KB so some lines are far bigger than a pipe buffer.
  const code = `
    import { CaptureWriter } from ${JSON.stringify(writerModule)};
    const w = new CaptureWriter({ file: ${JSON.stringify(file)} });
    for (let i = 0; i < ${count}; i++) {
      const size = (i * 7919 + ${who} * 104729) % 5 === 0 ? 200000 : (i * 31) % 3000;
      w.write({ v: 1, id: 'p${who}-' + i, kind: 'http', mode: 'forward', startedAt: new Date().toISOString(),
        server: { host: 'h', port: 1, tls: true }, error: null, labels: { who: '${who}', pad: String(${who}).repeat(size) } });
      if (i % 10 === 0) await new Promise((r) => setImmediate(r));
    }
    await w.close();
  `;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('exit', (c) => resolve(c));
  });
}

test('four processes appending to one capture file never interleave lines', async () => {
  const d = tempDir();
  try {
    const file = d.file('shared.jsonl');
    const codes = await Promise.all([0, 1, 2, 3].map((who) => writerProcess(file, who, 150)));
    assert.deepEqual(codes, [0, 0, 0, 0]);
    const bad: string[] = [];
    const records = await readAllRecords(file, { onBadLine: (b) => bad.push(`${b.line}: ${b.reason}`) });
    assert.deepEqual(bad, []);
    assert.equal(records.length, 600);
    for (const r of records) assert.equal(r.labels!['pad']!.replace(new RegExp(r.labels!['who']!, 'g'), ''), '', `record ${r.id} is intact`);
    for (const who of [0, 1, 2, 3]) {
      const ids = records.filter((r) => r.labels!['who'] === String(who)).map((r) => r.id);
      assert.deepEqual(ids, Array.from({ length: 150 }, (_, i) => `p${who}-${i}`), 'each writer keeps its order');
    }
  } finally {
    d.cleanup();
  }
});

test('records still waiting to share a write reach the file when the process exits without closing the writer', async () => {
  const d = tempDir();
  try {
    const file = d.file('exit.jsonl');
    const code = `
      import { CaptureWriter } from ${JSON.stringify(writerModule)};
      const w = new CaptureWriter({ file: ${JSON.stringify(file)} });
      for (let i = 0; i < 3; i++) w.write({ v: 1, id: 'e' + i, kind: 'http', mode: 'forward', startedAt: new Date().toISOString(), server: { host: 'h', port: 1, tls: true }, error: null });
      w.write({ v: 1, id: 'big', kind: 'http', mode: 'forward', startedAt: new Date().toISOString(), server: { host: 'h', port: 1, tls: true }, error: null, labels: { pad: 'x'.repeat(100000) } });
      w.write({ v: 1, id: 'last', kind: 'http', mode: 'forward', startedAt: new Date().toISOString(), server: { host: 'h', port: 1, tls: true }, error: null });
      process.exit(0);
    `;
    const exit = await new Promise<number | null>((resolve) => spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: 'inherit' }).on('exit', resolve));
    assert.equal(exit, 0);
    const records = await readAllRecords(file);
    assert.deepEqual(records.map((r) => r.id), ['e0', 'e1', 'e2', 'big', 'last']);
  } finally {
    d.cleanup();
  }
});

test('--rotate daily starts <name>-YYYY-MM-DD.jsonl when the day changes', async () => {
  const d = tempDir();
  try {
    let now = new Date(2026, 10, 23, 23, 59, 59);
    const base = d.file('capture.jsonl');
    const w = new CaptureWriter({ file: base, rotate: 'daily', now: () => now });
    const rec = (id: string): CaptureRecord => ({ v: 1, id, kind: 'http', mode: 'forward', startedAt: now.toISOString(), server: { host: 'h', port: 1, tls: false }, error: null });
    assert.equal(w.currentFile, d.file('capture-2026-11-23.jsonl'));
    w.write(rec('a'));
    await w.flush();
    now = new Date(2026, 10, 24, 0, 0, 1);
    w.write(rec('b'));
    w.write(rec('c'));
    await w.close();
    assert.equal(w.currentFile, d.file('capture-2026-11-24.jsonl'));
    assert.equal(rotatedName('/x/y.jsonl', '2026-01-02'), '/x/y-2026-01-02.jsonl');
    assert.deepEqual((await readAllRecords(d.file('capture-2026-11-23.jsonl'))).map((r) => r.id), ['a']);
    assert.deepEqual((await readAllRecords(d.file('capture-2026-11-24.jsonl'))).map((r) => r.id), ['b', 'c']);
    assert.ok(!existsSync(base));
    assert.ok(readFileSync(d.file('capture-2026-11-24.jsonl'), 'utf8').endsWith('\n'));
  } finally {
    d.cleanup();
  }
});
