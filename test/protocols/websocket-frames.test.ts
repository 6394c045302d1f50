import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDeflateRaw, constants as zc, type DeflateRaw } from 'node:zlib';
import {
  WsFrameParser,
  WsStreamDecoder,
  WsProtocolError,
  encodeFrame,
  negotiatedDeflate,
  type WsMessageOut,
  type WsSide,
  type DeflateParams,
} from '../../src/protocols/websocket-frames.js';

const MASK = Buffer.from([0x11, 0x22, 0x33, 0x44]);

function decodeAll(from: WsSide, chunks: Buffer[], deflate?: DeflateParams): Promise<{ msgs: WsMessageOut[]; err?: WsProtocolError }> {
  const msgs: WsMessageOut[] = [];
  let err: WsProtocolError | undefined;
  const d = new WsStreamDecoder({ from, deflate, onMessage: (m) => msgs.push(m), onError: (e) => (err = e) });
  chunks.forEach((c, i) => d.push(c, i));
  return d.drain().then(() => {
    d.dispose();
    return { msgs, err };
  });
}

/** A sender-side permessage-deflate compressor (what a peer would put on the wire). */
function compressor(): { compress(data: Buffer): Promise<Buffer> } {
  const def: DeflateRaw = createDeflateRaw({ windowBits: 15 });
  return {
    compress(data) {
      return new Promise((resolve) => {
        const out: Buffer[] = [];
        const onData = (b: Buffer) => out.push(b);
        def.on('data', onData);
        def.write(data);
        def.flush(zc.Z_SYNC_FLUSH, () => {
          def.off('data', onData);
          const all = Buffer.concat(out);
          resolve(all.subarray(0, all.length - 4)); // strip 00 00 ff ff (RFC 7692 7.2.1)
        });
      });
    },
  };
}

test('masked client text and unmasked server binary frames are parsed, even one byte at a time', async () => {
  const text = encodeFrame({ opcode: 1, payload: Buffer.from('héllo wörld'), mask: MASK });
  const big = Buffer.alloc(70000, 7);
  const bin = encodeFrame({ opcode: 2, payload: big });
  const bytes = Buffer.concat([text, bin]);
  const split = [...bytes].map((b) => Buffer.from([b]));
  const { msgs: a } = await decodeAll('client', split);
  assert.deepEqual(a.map((m) => [m.type, m.data.toString()]).slice(0, 1), [['text', 'héllo wörld']]);
  // The same bytes are not valid from a server: client frames must be masked, server frames not.
  const { err } = await decodeAll('server', [text]);
  assert.match(err!.message, /masked frame from the server/);
  const { msgs: b } = await decodeAll('server', [bin]);
  assert.equal(b[0]!.type, 'binary');
  assert.equal(b[0]!.size, 70000);
  assert.ok(b[0]!.data.equals(big));
  const parser = new WsFrameParser({ from: 'server', deflate: false });
  const frames = parser.push(bin.subarray(0, 5)).concat(parser.push(bin.subarray(5)));
  assert.equal(frames.length, 1);
  assert.equal(frames[0]!.wireLength, bin.length);
});

test('fragmented messages are reassembled, with pings interleaved between fragments', async () => {
  const chunks = [
    encodeFrame({ opcode: 1, payload: Buffer.from('part one, '), fin: false, mask: MASK }),
    encodeFrame({ opcode: 9, payload: Buffer.from('ping!'), mask: MASK }),
    encodeFrame({ opcode: 0, payload: Buffer.from('part two, '), fin: false, mask: MASK }),
    encodeFrame({ opcode: 0, payload: Buffer.from('end'), mask: MASK }),
    encodeFrame({ opcode: 8, payload: Buffer.concat([Buffer.from([0x0f, 0xa0]), Buffer.from('bye now')]), mask: MASK }),
  ];
  const { msgs, err } = await decodeAll('client', chunks);
  assert.equal(err, undefined);
  assert.deepEqual(
    msgs.map((m) => [m.type, m.type === 'close' ? '' : m.data.toString(), m.t]),
    [
      ['ping', 'ping!', 1],
      ['text', 'part one, part two, end', 3],
      ['close', '', 4],
    ],
  );
  assert.deepEqual(msgs[2]!.close, { code: 4000, reason: 'bye now' });
});

test('permessage-deflate messages are inflated with context takeover, and reset without it', async () => {
  const c = compressor();
  const first = await c.compress(Buffer.from('{"type":"response.create","input":"hello hello hello"}'));
  // The second message refers back into the first one's window: only a shared context can inflate it.
  const second = await c.compress(Buffer.from('{"type":"response.create","input":"hello hello hello"}'));
  assert.ok(second.length < first.length);
  const frames = [encodeFrame({ opcode: 1, payload: first, rsv1: true }), encodeFrame({ opcode: 1, payload: second, rsv1: true })];
  const { msgs, err } = await decodeAll('server', frames, { noContextTakeover: false });
  assert.equal(err, undefined);
  assert.deepEqual(msgs.map((m) => m.data.toString()), [
    '{"type":"response.create","input":"hello hello hello"}',
    '{"type":"response.create","input":"hello hello hello"}',
  ]);
  assert.equal(msgs[0]!.wireSize, first.length);
  assert.equal(msgs[0]!.size, 54);

  // With no_context_takeover each message is compressed alone.
  const a = await compressor().compress(Buffer.from('alpha alpha alpha'));
  const b = await compressor().compress(Buffer.from('beta beta'));
  const frag1 = encodeFrame({ opcode: 1, payload: b.subarray(0, 3), rsv1: true, fin: false, mask: MASK });
  const frag2 = encodeFrame({ opcode: 0, payload: b.subarray(3), mask: MASK });
  const r = await decodeAll('client', [encodeFrame({ opcode: 1, payload: a, rsv1: true, mask: MASK }), frag1, frag2], { noContextTakeover: true });
  assert.equal(r.err, undefined);
  assert.deepEqual(r.msgs.map((m) => m.data.toString()), ['alpha alpha alpha', 'beta beta']);
});

test('protocol violations are reported once, with the close code a peer would use', async () => {
  const cases: [string, Buffer[], RegExp, number, DeflateParams?][] = [
    ['reserved opcode', [encodeFrame({ opcode: 3, payload: Buffer.alloc(0), mask: MASK })], /reserved opcode 0x3/, 1002],
    ['rsv1 without deflate', [encodeFrame({ opcode: 1, payload: Buffer.from('x'), rsv1: true, mask: MASK })], /RSV1/, 1002],
    ['fragmented ping', [encodeFrame({ opcode: 9, payload: Buffer.alloc(0), fin: false, mask: MASK })], /fragmented control frame/, 1002],
    ['long ping', [encodeFrame({ opcode: 9, payload: Buffer.alloc(126), mask: MASK })], /longer than 125/, 1002],
    ['stray continuation', [encodeFrame({ opcode: 0, payload: Buffer.from('x'), mask: MASK })], /continuation frame without/, 1002],
    ['unmasked client frame', [encodeFrame({ opcode: 1, payload: Buffer.from('x') })], /unmasked frame from the client/, 1002],
    ['bad utf-8', [encodeFrame({ opcode: 1, payload: Buffer.from([0xff, 0xfe]), mask: MASK })], /not valid UTF-8/, 1007],
    ['bad close code', [encodeFrame({ opcode: 8, payload: Buffer.from([0x03, 0xed]), mask: MASK })], /invalid close code 1005/, 1002],
    [
      'interleaved data frames',
      [encodeFrame({ opcode: 1, payload: Buffer.from('a'), fin: false, mask: MASK }), encodeFrame({ opcode: 2, payload: Buffer.from('b'), mask: MASK })],
      /new data frame while a fragmented/,
      1002,
    ],
    ['broken deflate', [encodeFrame({ opcode: 2, payload: Buffer.from([0xff, 0xff, 0xff]), rsv1: true, mask: MASK })], /permessage-deflate/, 1007, { noContextTakeover: false }],
  ];
  for (const [name, chunks, re, code, deflate] of cases) {
    const good = encodeFrame({ opcode: 1, payload: Buffer.from('fine'), mask: MASK });
    const after = encodeFrame({ opcode: 1, payload: Buffer.from('ignored'), mask: MASK });
    const { msgs, err } = await decodeAll('client', [good, ...chunks, after], deflate);
    assert.ok(err instanceof WsProtocolError, name);
    assert.match(err.message, re, name);
    assert.equal(err.closeCode, code, name);
    assert.deepEqual(msgs.map((m) => m.data.toString()), ['fine'], name);
  }
});

test('the negotiated permessage-deflate parameters are read per direction', () => {
  assert.equal(negotiatedDeflate(undefined), undefined);
  assert.equal(negotiatedDeflate('x-webkit-foo'), undefined);
  assert.deepEqual(negotiatedDeflate('permessage-deflate; client_no_context_takeover; server_max_window_bits=10'), {
    client: { noContextTakeover: true },
    server: { noContextTakeover: false },
  });
  assert.deepEqual(negotiatedDeflate('permessage-deflate;server_no_context_takeover'), {
    client: { noContextTakeover: false },
    server: { noContextTakeover: true },
  });
});

test('messages beyond the kept size are truncated for the record but counted in full', async () => {
  const payload = Buffer.alloc(5000, 0x61);
  const msgs: WsMessageOut[] = [];
  const d = new WsStreamDecoder({ from: 'server', keepBytes: 1000, onMessage: (m) => msgs.push(m), onError: (e) => assert.fail(e) });
  d.push(encodeFrame({ opcode: 1, payload, fin: false }), 0);
  d.push(encodeFrame({ opcode: 0, payload }), 1);
  await d.drain();
  assert.equal(msgs[0]!.size, 10000);
  assert.equal(msgs[0]!.data.length, 1000);
  assert.equal(msgs[0]!.truncated, true);
});
