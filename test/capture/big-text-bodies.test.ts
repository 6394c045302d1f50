// Big text bodies stay bytes until read: the record line must still be exactly what
// JSON.stringify gives, whatever the text holds and wherever the chunks were cut.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { BodyCollector } from '../../src/capture/body-decode.js';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { escapedTextOf, LAZY_TEXT_MIN, unescapeJson, Utf8Check, utf8PartsOf } from '../../src/capture/lazy-text.js';
import type { CaptureRecord, RecordBody } from '../../src/capture/record.js';
import { stripBodies } from '../../src/capture/recorder.js';
import { CaptureWriter, serializeLine } from '../../src/capture/writer.js';
import { tempDir } from '../support/temp-home.js';

/** Whether the chunks, joined, are valid UTF-8, fed to one Utf8Check. */
function isUtf8Parts(parts: readonly Buffer[]): boolean {
  const check = new Utf8Check();
  return parts.every((p) => check.push(p)) && check.end();
}

/** Text with every kind of byte JSON cares about, several MB long: quotes, backslashes, controls, multi-byte. */
function trickyText(bytes: number): string {
  const piece = 'plain ascii "quoted" back\\slash \n\r\t\b\f \u0000\u0001\u001f \u007f é ü 中文 😀 \u2028\u2029 {"json":[1,2]} ';
  return piece.repeat(Math.ceil(bytes / Buffer.byteLength(piece)));
}

/** Cuts a buffer at pseudo-random points (so multi-byte characters get split across chunks). */
function cut(buf: Buffer, seed: number): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  let x = seed;
  while (at < buf.length) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const n = 1 + (x % 70000);
    out.push(buf.subarray(at, at + n));
    at += n;
  }
  return out;
}

function record(body: RecordBody): CaptureRecord {
  return {
    v: 1,
    id: 'x',
    kind: 'http',
    mode: 'forward',
    startedAt: '2026-11-23T00:00:00.000Z',
    client: { ip: '127.0.0.1', port: 1 },
    server: { host: 'h', port: 443, tls: true },
    request: { method: 'POST', url: 'https://h/v1', httpVersion: '1.1', headers: [['content-type', 'text/plain']], body },
    error: null,
  };
}

test('a big text body is kept as bytes, and its line is byte for byte JSON.stringify of the record', async () => {
  const text = trickyText(3 * 1024 * 1024);
  const bytes = Buffer.from(text, 'utf8');
  for (const seed of [1, 7, 42]) {
    const c = new BodyCollector(undefined);
    for (const part of cut(bytes, seed)) c.push(part);
    const body = (await c.finish())!;
    assert.ok(escapedTextOf(body), 'the body stays (escaped) bytes until read');
    const line = serializeLine(record(body));
    assert.ok(escapedTextOf(body), 'writing the line does not decode it');
    // Reading text decodes it; the line must equal the plain JSON of the same record.
    assert.equal(body.text, text);
    assert.equal(body.size, bytes.length);
    assert.equal(line.toString('utf8'), JSON.stringify(record({ text, size: bytes.length })) + '\n');
  }
});

test('a binary body, a body cut inside a character and a small body take the plain paths', async () => {
  const binary = Buffer.alloc(LAZY_TEXT_MIN * 2, 0xff);
  const c = new BodyCollector(undefined);
  c.push(binary);
  const b = (await c.finish())!;
  assert.equal(b.base64, binary.toString('base64'));
  assert.equal(utf8PartsOf(b), undefined);
  assert.equal(escapedTextOf(b), undefined);

  // Binary that is escaped on arrival (every control byte, quote and backslash) comes back exact.
  const mixed = Buffer.from(Array.from({ length: LAZY_TEXT_MIN * 3 }, (_, i) => (i * 7919) % 256));
  const m = new BodyCollector(undefined);
  for (const part of cut(mixed, 5)) m.push(part);
  assert.equal((await m.finish())!.base64, mixed.toString('base64'));

  const small = new BodyCollector(undefined);
  small.push(Buffer.from('{"a":"é"}'));
  const s = (await small.finish())!;
  assert.equal(s.text, '{"a":"é"}');
  assert.equal(utf8PartsOf(s), undefined);

  // A text over the cap is cut inside "é": the record keeps the whole characters before it.
  const text = 'é'.repeat(LAZY_TEXT_MIN);
  const capped = new BodyCollector(undefined, LAZY_TEXT_MIN + 1);
  capped.push(Buffer.from(text));
  const cb = (await capped.finish())!;
  assert.equal(cb.truncated, true);
  assert.equal(cb.text, 'é'.repeat(LAZY_TEXT_MIN / 2));
  assert.equal(serializeLine(record(cb)).toString(), JSON.stringify(record({ ...cb })) + '\n');
});

test('a body escaped on arrival that passes the cap keeps its head, the whole size and the sha256 of all of it', async () => {
  const bytes = Buffer.from(trickyText(LAZY_TEXT_MIN * 6));
  const cap = LAZY_TEXT_MIN * 2;
  const c = new BodyCollector(undefined, cap);
  for (const part of cut(bytes, 21)) c.push(part);
  const b = (await c.finish())!;
  assert.equal(b.truncated, true);
  assert.equal(b.size, bytes.length);
  assert.equal(b.sha256, createHash('sha256').update(bytes).digest('hex'));
  assert.ok(bytes.toString('utf8').startsWith(b.text!));
  assert.ok(Buffer.byteLength(b.text!) > cap - 4 && Buffer.byteLength(b.text!) <= cap);
});

test('unescapeJson undoes the escapes byte for byte', () => {
  const all = Buffer.from(Array.from({ length: 256 * 4 }, (_, i) => i % 256));
  const escaped = Buffer.from(JSON.stringify(all.toString('latin1')).slice(1, -1), 'utf8');
  // JSON.stringify of a latin1 string writes bytes ≥ 0x80 as 2-byte UTF-8; compare on the string.
  assert.equal(unescapeJson(escaped).toString('utf8'), all.toString('latin1'));
});

test('Utf8Check judges the joined bytes, wherever the chunks were cut', () => {
  const good = Buffer.from(trickyText(200_000));
  for (const seed of [3, 5, 9, 11]) assert.equal(isUtf8Parts(cut(good, seed)), true);
  // One byte at a time: every multi-byte character is split.
  assert.equal(isUtf8Parts([...Buffer.from('aé中😀z')].map((x) => Buffer.from([x]))), true);
  const bad = Buffer.concat([good, Buffer.from([0xe4, 0xb8])]); // ends inside a character
  assert.equal(isUtf8Parts(cut(bad, 3)), false);
  const badMiddle = Buffer.from(good);
  badMiddle[100_000] = 0xff;
  assert.equal(isUtf8Parts(cut(badMiddle, 5)), false);
  assert.equal(isUtf8Parts([Buffer.from([0xc3]), Buffer.from([0x28])]), false); // a lead byte without its continuation
});

test('the metadata tier drops a lazy text, and the writer then writes none', async () => {
  const c = new BodyCollector(undefined);
  c.push(Buffer.alloc(LAZY_TEXT_MIN + 10, 'a'));
  const body = (await c.finish())!;
  assert.ok(escapedTextOf(body));
  const r = record(body);
  stripBodies(r);
  assert.equal(escapedTextOf(body), undefined);
  assert.equal('text' in body, false);
  assert.equal(serializeLine(r).toString(), JSON.stringify(r) + '\n');
  assert.ok(!serializeLine(r).toString().includes('aaaa'));
});

test('the capture writer writes lazy bodies between plain records, each line valid JSON', async () => {
  const dir = tempDir();
  const file = dir.file('big.jsonl');
  const w = new CaptureWriter({ file });
  const text = trickyText(LAZY_TEXT_MIN * 4);
  const c = new BodyCollector(undefined);
  for (const part of cut(Buffer.from(text), 13)) c.push(part);
  const big = (await c.finish())!;
  w.write(record({ text: 'small', size: 5 }));
  w.write(record(big));
  w.write(record({ text: 'after', size: 5 }));
  await w.close();
  const lines = readFileSync(file, 'utf8').split('\n');
  assert.equal(lines.length, 4);
  assert.equal(lines[3], '');
  const parsed = lines.slice(0, 3).map((l) => JSON.parse(l) as CaptureRecord);
  assert.deepEqual(parsed.map((r) => r.request!.body!.text!.length), [5, text.length, 5]);
  assert.equal(parsed[1]!.request!.body!.text, text);
  dir.cleanup();
});

test('a big gzip body decodes to a lazy text whose line equals JSON.stringify of the record', async () => {
  const text = trickyText(LAZY_TEXT_MIN * 3);
  const wire = gzipSync(Buffer.from(text));
  const c = new BodyCollector('gzip', undefined, wire.length);
  for (const part of cut(wire, 17)) c.push(part);
  const body = (await c.finish())!;
  assert.ok(utf8PartsOf(body), 'decoded text stays bytes until read');
  assert.equal(body.contentEncoding, 'gzip');
  assert.equal(body.wireSize, wire.length);
  const line = serializeLine(record(body)).toString('utf8');
  assert.equal(line, JSON.stringify(record({ text, size: Buffer.byteLength(text), contentEncoding: 'gzip', wireSize: wire.length })) + '\n');
});
