import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';
import { decodeFlat, decodeProtobuf, type PbField } from '../../src/protocols/protobuf-schemaless.js';
import { formatProtobufTree } from '../../src/protocols/protobuf-format.js';
import { payloadDir } from '../support/cursor-protos.js';

const { Writer } = protobuf;

function sample(part: string): Buffer {
  const name = readdirSync(payloadDir).find((f) => f.includes(part) && f.endsWith('.bin'));
  assert.ok(name, `sample ${part}`);
  return readFileSync(path.join(payloadDir, name));
}

function strings(fields: PbField[], out: string[] = []): string[] {
  for (const f of fields) {
    if (f.value.kind === 'string') out.push(f.value.text);
    if (f.value.kind === 'message' || f.value.kind === 'group') strings(f.value.fields, out);
  }
  return out;
}

test('the sniffer example: field 1 "hello", field 2 "world"', () => {
  const r = decodeProtobuf(Buffer.from('0a0568656c6c6f1205776f726c64', 'hex'));
  assert.equal(r.error, undefined);
  assert.deepEqual(formatProtobufTree(r.fields), ['field 1 (wire=2): "hello"', 'field 2 (wire=2): "world"']);
});

test('every wire type, with zig-zag, int64, float and double readings', () => {
  const w = Writer.create();
  w.uint32((1 << 3) | 0).uint32(150);
  w.uint32((2 << 3) | 0).sint32(-3);
  w.uint32((3 << 3) | 0).int64(-2);
  w.uint32((4 << 3) | 1).double(3.25);
  w.uint32((5 << 3) | 5).float(-1.5);
  w.uint32((6 << 3) | 2).fork().uint32((1 << 3) | 2).string('nested').ldelim();
  w.uint32((7 << 3) | 2).fork().uint32(1).uint32(300).uint32(5).ldelim(); // packed repeated varints
  w.uint32((8 << 3) | 3).uint32((1 << 3) | 0).uint32(7).uint32((8 << 3) | 4); // group 8 { 1: 7 }
  w.uint32((9 << 3) | 2).bytes(Uint8Array.of(0xff, 0xfe, 0x00, 0x80));
  w.uint32((10 << 3) | 0).uint64('18446744073709551615');
  const r = decodeProtobuf(w.finish());
  assert.equal(r.error, undefined);
  const byField = new Map(r.fields.map((f) => [f.field, f]));
  assert.deepEqual(byField.get(1)!.value, { kind: 'varint', value: 150, zigzag: 75 });
  assert.deepEqual(byField.get(2)!.value, { kind: 'varint', value: 5, zigzag: -3 });
  assert.deepEqual(byField.get(3)!.value, { kind: 'varint', value: '18446744073709551614', zigzag: '9223372036854775807', signed: -2 });
  const f4 = byField.get(4)!.value;
  assert.ok(f4.kind === 'fixed64');
  assert.equal(f4.double, 3.25);
  const f5 = byField.get(5)!.value;
  assert.ok(f5.kind === 'fixed32');
  assert.equal(f5.float, -1.5);
  assert.deepEqual(byField.get(6)!.value, { kind: 'message', fields: [{ field: 1, wire: 2, offset: byField.get(6)!.offset + 2, size: 6, value: { kind: 'string', text: 'nested' } }] });
  const packed = byField.get(7)!.value;
  assert.equal(packed.kind, 'bytes');
  assert.deepEqual(packed.kind === 'bytes' && packed.packed?.varints, [1, 300, 5]);
  const group = byField.get(8)!;
  assert.equal(group.wire, 3);
  assert.deepEqual(group.value.kind === 'group' && group.value.fields.map((f) => f.value), [{ kind: 'varint', value: 7, zigzag: -4 }]);
  assert.deepEqual(byField.get(9)!.value, { kind: 'bytes', hex: 'fffe0080' });
  const f10 = byField.get(10)!.value;
  assert.ok(f10.kind === 'varint');
  assert.equal(f10.signed, -1);
  const text = formatProtobufTree(r.fields).join('\n');
  assert.match(text, /field 1 \(wire=0\): 150 \(sint 75\)/);
  assert.match(text, /field 4 \(wire=1\): \d+ \(double 3\.25\)/);
  assert.match(text, /field 5 \(wire=5\): \d+ \(float -1\.5, int32 -\d+\)/);
  assert.match(text, /field 6 \(wire=2\): \{\n  field 1 \(wire=2\): "nested"\n\}/);
  assert.match(text, /field 8 \(wire=3\): group \{/);
  assert.match(text, /packed varints: 1, 300, 5/);
  assert.match(text, /int64 -2/);
});

test('text stays text; text-looking bytes with message structure become a message', () => {
  const w = Writer.create();
  w.uint32((1 << 3) | 2).string('hi');
  w.uint32((2 << 3) | 2).string('gemini-3-pro');
  w.uint32((3 << 3) | 2).fork().uint32((1 << 3) | 2).string('0123456789').ldelim(); // "\n\n0123456789"
  w.uint32((4 << 3) | 2).string('\n\nHere is the answer');
  const r = decodeProtobuf(w.finish());
  assert.deepEqual(r.fields[0]!.value, { kind: 'string', text: 'hi' });
  assert.deepEqual(r.fields[1]!.value, { kind: 'string', text: 'gemini-3-pro' });
  assert.equal(r.fields[2]!.value.kind, 'message');
  assert.deepEqual(r.fields[3]!.value, { kind: 'string', text: '\n\nHere is the answer' });
});

test('real Cursor request bodies decode completely without a schema', () => {
  const nameTab = decodeProtobuf(sample('AiService_NameTab'));
  assert.equal(nameTab.error, undefined);
  assert.equal(nameTab.bytesRead, 548);
  const msg = nameTab.fields[0]!;
  assert.equal(msg.field, 1);
  assert.equal(msg.value.kind, 'message');
  const inner = msg.value.kind === 'message' ? msg.value.fields : [];
  assert.deepEqual(inner.find((f) => f.field === 1)!.value, { kind: 'string', text: 'Write a Python function that calculates the fibonacci sequence.' });
  assert.deepEqual(inner.find((f) => f.field === 2)!.value, { kind: 'varint', value: 1, zigzag: -1 });
  const modelHolder = inner.find((f) => f.field === 79)!;
  assert.deepEqual(modelHolder.value.kind === 'message' && modelHolder.value.fields[0]!.value, { kind: 'string', text: 'gemini-3-pro' });

  const tool = decodeProtobuf(sample('SubmitToolCallEvents_1d09'));
  assert.equal(tool.error, undefined);
  const s = strings(tool.fields);
  assert.ok(s.includes('run_terminal_cmd'));
  assert.ok(s.includes('claude-4.5-opus-high-thinking'));
  assert.ok(s.includes('toolu_01MYWVwP69JeGtaEbuooVuev'));
  assert.ok(s.includes('2.0.77'));

  const queue = decodeProtobuf(sample('CheckQueuePosition_28dc'));
  assert.deepEqual(strings(queue.fields), ['a3980c8b-8f36-4718-a89d-d1b7d6539bb1', 'gemini-3-pro', '']);

  const configs = decodeProtobuf(sample('CheckNumberConfigs'));
  assert.equal(configs.error, undefined);
  assert.ok(strings(configs.fields).includes('readFileToolMaxChars'));
  assert.ok(configs.fields.every((f) => f.field === 1 && f.value.kind === 'string'));

  const docs = decodeProtobuf(sample('AvailableDocs'));
  assert.equal(docs.error, undefined);
  assert.ok(docs.fields.length > 50);
  assert.ok(strings(docs.fields).some((t) => /^docidx-[0-9a-f-]{36}$/.test(t)));

  const models = decodeProtobuf(sample('AvailableModels'));
  assert.deepEqual(models.fields.map((f) => [f.field, f.wire, f.value]), [[3, 0, { kind: 'varint', value: 1, zigzag: -1 }]]);

  const metrics = decodeProtobuf(sample('ReportAiCodeChangeMetrics'));
  assert.ok(strings(metrics.fields).includes('tools/proxy-test/collect_payloads.sh'));
  assert.ok(strings(metrics.fields).includes('COMPOSER'));
});

test('every real payload sample decodes to the end and matches its .hex twin', () => {
  for (const name of readdirSync(payloadDir).filter((f) => f.endsWith('.bin'))) {
    const bytes = readFileSync(path.join(payloadDir, name));
    const hex = readFileSync(path.join(payloadDir, name.replace(/\.bin$/, '.hex')), 'utf8').trim();
    assert.equal(bytes.toString('hex'), hex, name);
    const r = decodeProtobuf(bytes);
    assert.equal(r.error, undefined, name);
    assert.equal(r.bytesRead, bytes.length, name);
  }
});

test('bad input: truncated values, lengths past the end, invalid varints and wire types name their offset', () => {
  const truncated = decodeProtobuf(Buffer.from('0a0568656c6c6f120577', 'hex'));
  assert.equal(truncated.fields.length, 1, 'the field before the problem is kept');
  assert.equal(truncated.error?.code, 'length-out-of-range');
  assert.equal(truncated.error?.offset, 7);
  assert.match(truncated.error!.message, /field 2 declares 5 bytes but only 1 remain at offset 7/);

  const varint = decodeProtobuf(Buffer.from('0801' + '10' + 'ff'.repeat(11) + '01', 'hex'));
  assert.equal(varint.fields.length, 1);
  assert.equal(varint.error?.code, 'invalid-varint');
  assert.equal(varint.error?.offset, 3);

  const cut = decodeProtobuf(Buffer.from('0801' + '10ff', 'hex'));
  assert.equal(cut.error?.code, 'truncated');
  assert.equal(cut.error?.offset, 2);

  const wire = decodeProtobuf(Buffer.from('08010f', 'hex'));
  assert.equal(wire.error?.code, 'invalid-wire-type');
  assert.equal(wire.error?.offset, 2);

  const zero = decodeProtobuf(Buffer.from('0001', 'hex'));
  assert.equal(zero.error?.code, 'invalid-tag');

  const endGroup = decodeProtobuf(Buffer.from('08010c', 'hex'));
  assert.equal(endGroup.error?.code, 'unmatched-group');
  const openGroup = decodeProtobuf(Buffer.from('0b0801', 'hex'));
  assert.equal(openGroup.error?.code, 'unmatched-group');

  const fixed = decodeProtobuf(Buffer.from('090102', 'hex'));
  assert.equal(fixed.error?.code, 'truncated');
  assert.match(fixed.error!.message, /needs 8 bytes, 2 left/);

  const flat = decodeFlat(Buffer.from('0a0568656c6c6f12ff', 'hex'));
  assert.equal(flat.fields.length, 1);
  assert.equal(flat.error?.code, 'truncated');
});

test('a recursion bomb stops at the depth limit and keeps the outer levels', () => {
  let inner: Uint8Array = Buffer.from('0a0568656c6c6f', 'hex');
  for (let i = 0; i < 5000; i++) {
    const w = Writer.create();
    w.uint32((1 << 3) | 2).bytes(inner);
    inner = w.finish();
  }
  const r = decodeProtobuf(inner, { maxDepth: 40 });
  let depth = 0;
  let cur: PbField[] = r.fields;
  while (cur[0]?.value.kind === 'message') {
    cur = cur[0].value.fields;
    depth++;
  }
  assert.equal(depth, 40);
  assert.equal(cur[0]!.value.kind, 'bytes');
  assert.equal(r.depthLimited?.code, 'depth-limit');
  assert.match(r.depthLimited!.message, /deeper than 40 levels at offset \d+/);
  assert.equal(r.error, undefined);

  // Groups nest without lengths: the limit applies to them too.
  const groups = Buffer.concat([Buffer.alloc(10_000, 0x0b), Buffer.alloc(10_000, 0x0c)]);
  const g = decodeProtobuf(groups, { maxDepth: 30 });
  assert.equal(g.error?.code, 'depth-limit');
});

test('the field cap bounds the work on huge inputs and keeps what was decoded', () => {
  const bytes = Buffer.alloc(200_000);
  for (let i = 0; i < bytes.length; i += 2) {
    bytes[i] = 0x08;
    bytes[i + 1] = 0x01;
  }
  const r = decodeProtobuf(bytes, { maxFields: 1000 });
  assert.equal(r.fields.length, 1000);
  assert.equal(r.error?.code, 'too-many-fields');
  assert.equal(r.error?.offset, 2000);
});
