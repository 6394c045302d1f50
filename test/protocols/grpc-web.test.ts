import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { concatBytes, parseBase64 } from '../../src/protocols/binary-text.js';
import { decodeGrpcStream, grpcStatus, GrpcStreamDecoder } from '../../src/protocols/grpc.js';
import { decodeGrpcWeb, encodeGrpcWebTrailers, GrpcWebDecoder, type GrpcWebEvent } from '../../src/protocols/grpc-web.js';
import { encodeFrame } from '../../src/protocols/length-prefixed-frames.js';
import { decodeBinaryBody } from '../../src/protocols/binary-body.js';

const hello = Buffer.from('0a0568656c6c6f1205776f726c64', 'hex');
const second = Buffer.from('08960110011a03616263', 'hex');

function webStream(): Uint8Array {
  return concatBytes([encodeFrame(hello), encodeFrame(second), encodeGrpcWebTrailers([['grpc-status', '0'], ['grpc-message', ''], ['x-trace', 'abc']])]);
}

function view(events: GrpcWebEvent[]): unknown[] {
  return events.map((e) => (e.type === 'message' ? Buffer.from(e.frame.payload).toString('hex') : e.type === 'trailers' ? { trailers: e.trailers, status: e.status?.name } : e.error.code));
}

test('gRPC-web binary: messages and the trailer frame, at every split', () => {
  const bytes = webStream();
  const whole = decodeGrpcWeb(bytes);
  assert.deepEqual(whole.messages.map((m) => Buffer.from(m.payload).toString('hex')), [hello.toString('hex'), second.toString('hex')]);
  assert.deepEqual(whole.trailers, [['grpc-status', '0'], ['grpc-message', ''], ['x-trace', 'abc']]);
  assert.equal(whole.status?.name, 'OK');
  const expected = view([...new GrpcWebDecoder().push(bytes)]);
  for (let i = 1; i < bytes.length; i++) {
    const d = new GrpcWebDecoder();
    assert.deepEqual(view([...d.push(bytes.subarray(0, i)), ...d.push(bytes.subarray(i)), ...d.finish()]), expected, `split at ${i}`);
  }
});

test('gRPC-web-text: base64 per chunk (each padded), split anywhere in the text', () => {
  const parts = [encodeFrame(hello), encodeFrame(second), encodeGrpcWebTrailers([['grpc-status', '5'], ['grpc-message', 'no%20such%20model']])];
  // A server may base64 each write separately: padded groups follow one another.
  const text = parts.map((p) => Buffer.from(p).toString('base64')).join('');
  assert.ok(text.slice(0, -2).includes('='), 'the text has padding in the middle');
  const whole = decodeGrpcWeb(text, { text: true });
  assert.equal(whole.messages.length, 2);
  assert.deepEqual(whole.status, { code: 5, name: 'NOT_FOUND', message: 'no such model' });
  assert.deepEqual(whole.errors, []);
  for (let i = 1; i < text.length; i++) {
    const d = new GrpcWebDecoder({ text: true });
    const evs = [...d.push(text.slice(0, i)), ...d.push(Buffer.from(text.slice(i))), ...d.finish()];
    assert.deepEqual(view(evs), view([...new GrpcWebDecoder({ text: true }).push(text)]), `split at ${i}`);
  }
  const viaBody = decodeBinaryBody(Buffer.from(text), { contentType: 'application/grpc-web-text+proto' });
  assert.equal(viaBody.format, 'grpc-web-text');
  assert.equal(viaBody.status?.message, 'no such model');
});

test('gRPC-web-text with a wrong base64 character keeps the frames before it', () => {
  const good = Buffer.from(encodeFrame(hello)).toString('base64');
  const s = decodeGrpcWeb(good + 'AAA*AAAA', { text: true });
  assert.equal(s.messages.length, 1);
  assert.equal(s.errors[0]!.code, 'invalid-base64');
  assert.equal(s.errors[0]!.offset, good.length + 3);
  assert.match(s.errors[0]!.message, /"\*"/);
});

test('gRPC: compressed frames inflate with grpc-encoding; status comes from trailers or a trailers-only head', () => {
  const body = concatBytes([encodeFrame(new Uint8Array(gzipSync(hello)), 1), encodeFrame(second)]);
  const s = decodeGrpcStream(body, { encoding: 'gzip' });
  assert.deepEqual(s.messages.map((m) => Buffer.from(m.payload).toString('hex')), [hello.toString('hex'), second.toString('hex')]);
  assert.equal(s.messages[0]!.compressed, true);
  const d = new GrpcStreamDecoder();
  const out = [];
  for (const b of body) out.push(...d.push(Uint8Array.of(b)).messages);
  assert.equal(out.length, 2);
  assert.deepEqual(d.finish(), []);

  assert.deepEqual(grpcStatus([['grpc-status', '14'], ['grpc-message', 'upstream%20connect%20error%3A%20%E2%9C%93']]), { code: 14, name: 'UNAVAILABLE', message: 'upstream connect error: ✓' });
  assert.deepEqual(grpcStatus([], [['content-type', 'application/grpc'], ['grpc-status', '16']]), { code: 16, name: 'UNAUTHENTICATED' });
  assert.equal(grpcStatus([['x', 'y']]), undefined);
  assert.equal(grpcStatus([['grpc-status', '99'], ['grpc-message', 'bad %zz escape']])?.message, 'bad %zz escape');
});

test('a truncated gRPC body reports where the cut frame starts', () => {
  const body = concatBytes([encodeFrame(hello), encodeFrame(second)]);
  const s = decodeGrpcStream(body.subarray(0, body.length - 3));
  assert.equal(s.messages.length, 1);
  assert.equal(s.errors[0]!.code, 'truncated');
  assert.equal(s.errors[0]!.offset, 19);
});

test('base64 parsing: URL-safe, unpadded, and errors at the offending character', () => {
  assert.equal(Buffer.from(parseBase64('CgVoZWxsbw').bytes).toString('hex'), '0a0568656c6c6f');
  assert.equal(Buffer.from(parseBase64('-_-_').bytes).toString('hex'), 'fbffbf');
  const bad = parseBase64('CgVo=ZWxs');
  assert.equal(bad.error?.code, 'invalid-base64');
  assert.equal(bad.error?.offset, 4);
  const lone = parseBase64('CgVoZ');
  assert.equal(lone.error?.code, 'invalid-base64');
  assert.equal(Buffer.from(lone.bytes).toString('hex'), '0a0568');
});
