// Random and mutated inputs through every public decoder: nothing may throw, every result must be
// plain JSON-able data, and reported offsets must lie inside the input. Bounded by count and time;
// the PRNG is seeded so a failure names the input that caused it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { decodeBinaryBody } from '../../src/protocols/binary-body.js';
import { concatBytes, parseBase64, parseBinaryText, parseHex } from '../../src/protocols/binary-text.js';
import { ConnectStreamDecoder, encodeConnectEndStream, encodeConnectMessage } from '../../src/protocols/connect-envelope.js';
import type { DecodeIssue } from '../../src/protocols/decode-issue.js';
import { GrpcWebDecoder, encodeGrpcWebTrailers } from '../../src/protocols/grpc-web.js';
import { decodeGrpcStream } from '../../src/protocols/grpc.js';
import { formatProtobufTree, hexDump } from '../../src/protocols/protobuf-format.js';
import { decodeWithSchema, loadProtoSchema } from '../../src/protocols/protobuf-schema.js';
import { decodeFlat, decodeProtobuf } from '../../src/protocols/protobuf-schemaless.js';
import { extractReadableText } from '../../src/protocols/readable-text.js';
import { SseEnvelopeDecoder, encodeSseEnvelopes } from '../../src/protocols/sse-envelopes.js';
import { cursorConnect, CursorResponseStream } from '../../src/llm/cursor-connect.js';
import { agentType, cursorRecord, encode, liteProto, payloadDir } from '../support/cursor-protos.js';
import { prng } from '../support/seeded-random.js';

function corpus(): Uint8Array[] {
  const out: Uint8Array[] = readdirSync(payloadDir).filter((f) => f.endsWith('.bin')).map((f) => new Uint8Array(readFileSync(path.join(payloadDir, f))));
  const S = agentType('AgentServerMessage');
  const msgs = [
    encode(S, { interaction_update: { text_delta: { text: 'hello there' } } }),
    encode(S, { interaction_update: { tool_call_started: { call_id: 'c1', tool_call: { shell_tool_call: { args: { command: 'ls -la', cwd: '/' } } } } } }),
    encode(S, { exec_server_message: { id: 7, mcp: { name: 'search', args: { fields: { q: { stringValue: 'x' }, n: { numberValue: 2 }, deep: { structValue: { fields: { a: { listValue: { values: [{ boolValue: true }] } } } } } } }, tool_call_id: 'c2' } } }),
    encode(S, { interaction_update: { token_delta: { tokens: 12 } } }),
  ];
  const stream = concatBytes([...msgs.map((m) => encodeConnectMessage(m)), encodeConnectMessage(new Uint8Array(gzipSync(msgs[0]!)), 1), encodeConnectEndStream({ error: { code: 'internal', message: 'x' } })]);
  out.push(stream, new Uint8Array(Buffer.from(encodeSseEnvelopes(msgs.map((m) => encodeConnectMessage(m))))));
  out.push(concatBytes([encodeConnectMessage(msgs[1]!), encodeGrpcWebTrailers([['grpc-status', '3']])]));
  return out;
}

function mutate(input: Uint8Array, rnd: () => number): Uint8Array {
  const b = Array.from(input);
  const n = 1 + Math.floor(rnd() * 4);
  for (let k = 0; k < n; k++) {
    const op = Math.floor(rnd() * 6);
    const at = Math.floor(rnd() * (b.length + 1));
    if (op === 0 && b.length) b[at % b.length]! ^= 1 << Math.floor(rnd() * 8);
    else if (op === 1) b.splice(at, 0, Math.floor(rnd() * 256));
    else if (op === 2 && b.length) b.splice(at % b.length, 1 + Math.floor(rnd() * 8));
    else if (op === 3) b.length = Math.min(b.length, at);
    else if (op === 4 && b.length) b[at % b.length] = [0x00, 0x0a, 0x80, 0xff, 0x7f, 0x02][Math.floor(rnd() * 6)]!;
    else if (op === 5 && b.length > 4) b.splice(at, 0, ...b.slice(0, Math.floor(rnd() * 16)));
  }
  return Uint8Array.from(b);
}

function checkIssue(e: DecodeIssue | undefined, limit: number, where: string): void {
  if (!e) return;
  assert.equal(typeof e.code, 'string', where);
  assert.ok(e.offset >= 0 && e.offset <= limit, `${where}: offset ${e.offset} outside 0..${limit}`);
  assert.match(e.message, /at offset \d+/, where);
}

test('decoders never throw on random and mutated input, and stay plain data', () => {
  const rnd = prng(0x5eed1234);
  const seeds = corpus();
  const schema = loadProtoSchema([liteProto]);
  const deadline = Date.now() + 8000;
  const contentTypes = [undefined, 'application/proto', 'application/connect+proto', 'application/grpc', 'application/grpc-web+proto', 'application/grpc-web-text', 'text/event-stream', 'application/json'];
  let runs = 0;
  for (let i = 0; i < 4000 && Date.now() < deadline; i++) {
    const input = rnd() < 0.3 ? Uint8Array.from({ length: Math.floor(rnd() * 300) }, () => Math.floor(rnd() * 256)) : mutate(seeds[Math.floor(rnd() * seeds.length)]!, rnd);
    const where = `case ${i}: ${Buffer.from(input).toString('hex').slice(0, 400)}`;
    try {
      const pb = decodeProtobuf(input, { maxDepth: 20 });
      checkIssue(pb.error, input.length, where);
      JSON.stringify(pb);
      formatProtobufTree(pb.fields, { maxString: 50 });
      hexDump(input);
      const flat = decodeFlat(input);
      checkIssue(flat.error, input.length, where);

      const ct = contentTypes[i % contentTypes.length];
      const body = decodeBinaryBody(input, { contentType: ct, maxInflatedBytes: 1 << 20 });
      for (const e of body.errors) assert.equal(typeof e.message, 'string', where);
      JSON.stringify({ ...body, messages: body.messages.length });

      const connect = new ConnectStreamDecoder({ maxInflatedBytes: 1 << 20 });
      let pos = 0;
      while (pos < input.length) {
        const n = 1 + Math.floor(rnd() * 40);
        connect.push(input.subarray(pos, pos + n));
        pos += n;
      }
      connect.finish();
      const web = new GrpcWebDecoder({ text: i % 2 === 0 });
      web.push(Buffer.from(input).toString('latin1'));
      web.finish();
      const sse = new SseEnvelopeDecoder();
      sse.push(input);
      sse.finish();
      decodeGrpcStream(input, { encoding: 'gzip' });

      const text = Buffer.from(input).toString('latin1');
      parseHex(text);
      parseBase64(text);
      parseBinaryText(text);
      JSON.stringify(extractReadableText(input));
      JSON.stringify(decodeWithSchema(schema, 'aiserver.v1.StreamUnifiedChatResponseWithTools', input));

      const rec = cursorRecord({ path: ['/agent.v1.AgentService/Run', '/aiserver.v1.ChatService/StreamUnifiedChatWithTools', '/aiserver.v1.BidiService/BidiAppend', '/aiserver.v1.AiService/StreamComposer'][i % 4]!, requestBody: input, responseBody: input, responseContentType: ct });
      JSON.stringify(cursorConnect.parseRequest(rec));
      JSON.stringify(cursorConnect.parseResponse(rec));
      const live = new CursorResponseStream({ url: rec.request!.url, contentType: ct });
      live.push(input.subarray(0, input.length >> 1));
      live.push(input.subarray(input.length >> 1));
      JSON.stringify(live.finish());
    } catch (e) {
      assert.fail(`${where}\n${(e as Error).stack}`);
    }
    runs++;
  }
  assert.ok(runs >= 200, `ran ${runs} cases`);
});
