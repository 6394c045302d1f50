import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import {
  ConnectStreamDecoder,
  CONNECT_FLAG_COMPRESSED,
  decodeConnectStream,
  encodeConnectEndStream,
  encodeConnectMessage,
  parseConnectUnaryError,
  type ConnectEvent,
} from '../../src/protocols/connect-envelope.js';
import { concatBytes } from '../../src/protocols/binary-text.js';
import { decodeProtobuf } from '../../src/protocols/protobuf-schemaless.js';

const hello = Buffer.from('0a0568656c6c6f1205776f726c64', 'hex');
const big = new Uint8Array(Buffer.from('0a' + '8002' + 'ab'.repeat(256), 'hex'));

function stream(): Uint8Array {
  return concatBytes([
    encodeConnectMessage(hello),
    encodeConnectMessage(new Uint8Array(gzipSync(big)), CONNECT_FLAG_COMPRESSED),
    encodeConnectMessage(new Uint8Array(0)),
    encodeConnectEndStream({ error: { code: 'resource_exhausted', message: 'rate limited, retry later' }, metadata: { 'x-request-id': ['r-1'] } }),
  ]);
}

function feed(chunks: Uint8Array[]): ConnectEvent[] {
  const d = new ConnectStreamDecoder();
  return [...chunks.flatMap((c) => d.push(c)), ...d.finish()];
}

function summary(events: ConnectEvent[]): unknown[] {
  return events.map((e) =>
    e.type === 'message'
      ? { m: Buffer.from(e.frame.payload).toString('hex'), offset: e.frame.offset, compressed: e.frame.compressed }
      : e.type === 'end'
        ? { end: e.end }
        : { error: e.error.code },
  );
}

test('a Connect stream decodes the same whatever byte it is split at', () => {
  const bytes = stream();
  const whole = summary(feed([bytes]));
  assert.equal(whole.length, 4);
  assert.deepEqual(whole[0], { m: hello.toString('hex'), offset: 0, compressed: false });
  assert.equal((whole[1] as { m: string }).m, Buffer.from(big).toString('hex'), 'gzip frame inflated');
  assert.deepEqual(whole[3], { end: { error: { code: 'resource_exhausted', message: 'rate limited, retry later' }, metadata: { 'x-request-id': ['r-1'] } } });
  for (let i = 1; i < bytes.length; i++) {
    assert.deepEqual(summary(feed([bytes.subarray(0, i), bytes.subarray(i)])), whole, `split at ${i}`);
  }
  // Byte by byte, and three-way splits.
  assert.deepEqual(summary(feed(Array.from(bytes, (b) => Uint8Array.of(b)))), whole);
  for (let i = 1; i < bytes.length; i += 7) {
    for (let j = i + 1; j < bytes.length; j += 11) {
      assert.deepEqual(summary(feed([bytes.subarray(0, i), bytes.subarray(i, j), bytes.subarray(j)])), whole, `split at ${i},${j}`);
    }
  }
});

test('the payload of a Connect message is the protobuf inside it', () => {
  const s = decodeConnectStream(stream());
  assert.equal(s.messages.length, 3);
  const tree = decodeProtobuf(s.messages[0]!.payload);
  assert.deepEqual(tree.fields.map((f) => f.value), [{ kind: 'string', text: 'hello' }, { kind: 'string', text: 'world' }]);
  assert.equal(s.end?.error?.code, 'resource_exhausted');
  assert.deepEqual(s.errors, []);
});

test('a stream cut inside a frame keeps the frames before it and names the offset', () => {
  const bytes = stream();
  const cut = bytes.subarray(0, 30);
  const s = decodeConnectStream(cut);
  assert.equal(s.messages.length, 1);
  assert.equal(s.errors.length, 1);
  assert.equal(s.errors[0]!.code, 'truncated');
  assert.equal(s.errors[0]!.offset, 19);
  assert.match(s.errors[0]!.message, /at offset 19/);
  const header = decodeConnectStream(bytes.subarray(0, 21));
  assert.equal(header.errors[0]!.code, 'truncated');
  assert.match(header.errors[0]!.message, /frame header \(2 of 5 bytes\)/);
});

test('a length beyond the limit stops the stream instead of buffering it', () => {
  const bad = concatBytes([encodeConnectMessage(hello), Uint8Array.of(0, 0x7f, 0xff, 0xff, 0xff, 1, 2, 3)]);
  const d = new ConnectStreamDecoder({ maxFrameBytes: 1024 });
  const events = [...d.push(bad), ...d.push(new Uint8Array(4096)), ...d.finish()];
  assert.equal(events.filter((e) => e.type === 'message').length, 1);
  const errors = events.filter((e) => e.type === 'error');
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.type === 'error' && errors[0]!.error.code, 'frame-too-large');
  assert.equal(errors[0]!.type === 'error' && errors[0]!.error.offset, 19);
});

test('a gzip bomb is reported, not inflated', () => {
  const bomb = new Uint8Array(gzipSync(Buffer.alloc(8 * 1024 * 1024)));
  assert.ok(bomb.length < 20_000);
  const s = decodeConnectStream(concatBytes([encodeConnectMessage(bomb, CONNECT_FLAG_COMPRESSED), encodeConnectMessage(hello)]), { maxInflatedBytes: 1024 * 1024 });
  assert.equal(s.messages.length, 2);
  assert.equal(s.errors[0]!.code, 'inflate-limit');
  assert.equal(s.errors[0]!.offset, 5);
  assert.equal(s.messages[0]!.payload.length, bomb.length, 'the raw bytes are kept');
  assert.equal(Buffer.from(s.messages[1]!.payload).toString('hex'), hello.toString('hex'));
});

test('a compressed frame that is not gzip, and an unsupported encoding, are errors with offsets', () => {
  const s = decodeConnectStream(encodeConnectMessage(hello, CONNECT_FLAG_COMPRESSED));
  assert.equal(s.errors[0]!.code, 'inflate-failed');
  const z = decodeConnectStream(encodeConnectMessage(hello, CONNECT_FLAG_COMPRESSED), { encoding: 'snappy' });
  assert.equal(z.errors[0]!.code, 'unsupported-encoding');
  assert.match(z.errors[0]!.message, /snappy/);
});

test('end-of-stream JSON: metadata only, broken JSON, and unary error bodies', () => {
  const ok = decodeConnectStream(encodeConnectEndStream({ metadata: { 'grpc-ish': ['a', 'b'] } }));
  assert.deepEqual(ok.end, { metadata: { 'grpc-ish': ['a', 'b'] } });
  const broken = concatBytes([encodeConnectMessage(hello), Uint8Array.of(2, 0, 0, 0, 3), Buffer.from('{x:')]);
  const b = decodeConnectStream(broken);
  assert.equal(b.messages.length, 1);
  assert.equal(b.errors[0]!.code, 'invalid-json');
  assert.equal(b.errors[0]!.offset, 19);
  assert.deepEqual(parseConnectUnaryError('{"code":"unauthenticated","message":"Not logged in"}'), { code: 'unauthenticated', message: 'Not logged in' });
  assert.equal(parseConnectUnaryError('<html>'), undefined);
});
