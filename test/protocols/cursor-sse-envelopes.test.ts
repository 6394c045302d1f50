import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeConnectEndStream, encodeConnectMessage } from '../../src/protocols/connect-envelope.js';
import { decodeSseEnvelopes, encodeSseEnvelopes, SseEnvelopeDecoder, type SseEnvelopeEvent } from '../../src/protocols/sse-envelopes.js';
import { decodeBinaryBody } from '../../src/protocols/binary-body.js';

const hello = Buffer.from('0a0568656c6c6f1205776f726c64', 'hex');
const other = Buffer.from('0a03616263', 'hex');

function view(evs: SseEnvelopeEvent[]): unknown[] {
  return evs.map((e) => (e.type === 'message' ? Buffer.from(e.frame.payload).toString('hex') : e.type === 'error' ? e.error.code : e.type === 'end' ? { end: e.end } : e.type));
}

test('Cursor SSE form: each data line a base64 envelope, then [DONE]; split at every byte', () => {
  const body = encodeSseEnvelopes([encodeConnectMessage(hello), encodeConnectMessage(other), encodeConnectEndStream({})]);
  assert.match(body, /^data: AAAAAA4KBWhlbGxvEgV3b3JsZA==\n\n/);
  const whole = decodeSseEnvelopes(body);
  assert.deepEqual(whole.messages.map((m) => Buffer.from(m.payload).toString('hex')), [hello.toString('hex'), other.toString('hex')]);
  assert.equal(whole.done, true);
  assert.deepEqual(whole.end, {});
  assert.deepEqual(whole.errors, []);
  const bytes = Buffer.from(body);
  const expected = view([...new SseEnvelopeDecoder().push(bytes)]);
  for (let i = 1; i < bytes.length; i++) {
    const d = new SseEnvelopeDecoder();
    assert.deepEqual(view([...d.push(bytes.subarray(0, i)), ...d.push(bytes.subarray(i)), ...d.finish()]), expected, `split at ${i}`);
  }
  assert.equal(decodeBinaryBody(bytes, { contentType: 'text/event-stream' }).format, 'sse-envelopes');
});

test('a data line that is not base64 is reported and the stream goes on; a cut last event is still read', () => {
  const good = Buffer.from(encodeConnectMessage(hello)).toString('base64');
  const s = decodeSseEnvelopes(`data: ${good}\n\ndata: {"not":"base64"}\n\ndata: ${Buffer.from(encodeConnectMessage(other)).toString('base64')}`);
  assert.equal(s.messages.length, 2);
  assert.equal(s.errors.length >= 1, true);
  assert.equal(s.errors[0]!.code, 'invalid-base64');
  assert.match(s.errors[0]!.message, /SSE event 1/);
  assert.equal(s.done, false);
});

test('a bare protobuf that starts with ":" (field 7) is not mistaken for an SSE comment', () => {
  const pb = Buffer.from('3a0568656c6c6f', 'hex');
  const body = decodeBinaryBody(pb);
  assert.equal(body.format, 'protobuf');
  assert.equal(Buffer.from(body.messages[0]!.payload).toString('hex'), pb.toString('hex'));
  assert.equal(decodeBinaryBody(Buffer.from(': keep-alive\n\n' + encodeSseEnvelopes([encodeConnectMessage(hello)]))).format, 'sse-envelopes');
});
