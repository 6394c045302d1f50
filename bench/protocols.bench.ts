// Binary protocol decoding: Connect envelope throughput on a long stream of small frames (Cursor's
// RunSSE carries thousands), schema-less protobuf decoding against protobufjs decoding the same
// bytes with the schema, and merging a long Cursor agent stream into a normalized response.
import { readFileSync, readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import path from 'node:path';
import { concatBytes } from '../src/protocols/binary-text.js';
import { ConnectStreamDecoder, encodeConnectMessage } from '../src/protocols/connect-envelope.js';
import { decodeProtobuf } from '../src/protocols/protobuf-schemaless.js';
import { decodeWithSchema, loadProtoSchema } from '../src/protocols/protobuf-schema.js';
import { CursorResponseStream } from '../src/llm/cursor-connect.js';
import { agentType, encode, fullProto, payloadDir } from '../test/support/cursor-protos.js';
import type { BenchModule, BenchResult } from './types.js';

function time(fn: () => void, minMs = 300): number {
  fn();
  let runs = 0;
  const start = performance.now();
  while (performance.now() - start < minMs) {
    fn();
    runs++;
  }
  return (performance.now() - start) / runs;
}

const bench: BenchModule = {
  title: 'protocols (Connect envelopes, schema-less protobuf, Cursor stream merge)',
  async run(ctx): Promise<BenchResult[]> {
    const results: BenchResult[] = [];
    const S = agentType('AgentServerMessage');
    const updates = ctx.quick ? 5_000 : 40_000;
    const frames: Uint8Array[] = [];
    for (let i = 0; i < updates; i++) {
      const u = i % 5 === 0 ? { token_delta: { tokens: 1 } } : i % 5 === 1 ? { thinking_delta: { text: 'thinking about it ' } } : { text_delta: { text: `token ${i} ` } };
      frames.push(encodeConnectMessage(encode(S, { interaction_update: u })));
    }
    const stream = concatBytes(frames);

    const chunk = 16 * 1024;
    const envelopeMs = time(() => {
      const d = new ConnectStreamDecoder();
      for (let p = 0; p < stream.length; p += chunk) d.push(stream.subarray(p, p + chunk));
      d.finish();
    });
    const framesPerSec = updates / (envelopeMs / 1000) / 1e6;
    results.push({ metric: `Connect envelopes: ${updates} small frames (${(stream.length / updates).toFixed(0)} B avg) in 16 KiB chunks`, value: +framesPerSec.toFixed(2), unit: 'M frames/s', target: '≥ 1 M frames/s', pass: framesPerSec >= 1 });

    const bigPayload = new Uint8Array(64 * 1024).fill(0x61);
    const bigStream = concatBytes(Array.from({ length: ctx.quick ? 64 : 256 }, () => encodeConnectMessage(bigPayload)));
    const bigMs = time(() => {
      const d = new ConnectStreamDecoder();
      for (let p = 0; p < bigStream.length; p += chunk) d.push(bigStream.subarray(p, p + chunk));
      d.finish();
    });
    const bigMbs = bigStream.length / (1 << 20) / (bigMs / 1000);
    results.push({ metric: 'Connect envelopes: 64 KiB frames split across 16 KiB chunks', value: +bigMbs.toFixed(0), unit: 'MB/s', target: '≥ 200 MB/s', pass: bigMbs >= 200 });

    const mergeMs = time(() => {
      const s = new CursorResponseStream({ url: 'https://api2.cursor.sh/agent.v1.AgentService/Run' });
      for (let p = 0; p < stream.length; p += chunk) s.push(stream.subarray(p, p + chunk));
      s.finish();
    });
    results.push({ metric: `Cursor agent stream merge, ${updates} updates`, value: +mergeMs.toFixed(1), unit: 'ms', target: '≤ 1 µs per byte', pass: mergeMs * 1000 <= stream.length });

    const nameTab = readFileSync(path.join(payloadDir, readdirSync(payloadDir).find((f) => f.includes('AiService_NameTab') && f.endsWith('.bin'))!));
    const schema = loadProtoSchema([fullProto]);
    const reps = ctx.quick ? 200 : 2000;
    const schemaless = time(() => {
      for (let i = 0; i < reps; i++) decodeProtobuf(nameTab);
    });
    const withSchema = time(() => {
      for (let i = 0; i < reps; i++) decodeWithSchema(schema, 'aiserver.v1.NameTabRequest', nameTab);
    });
    results.push({ metric: `schema-less decode of a real NameTab body (${nameTab.length} B)`, value: +((schemaless / reps) * 1000).toFixed(1), unit: 'µs', baseline: +((withSchema / reps) * 1000).toFixed(1), ratio: +(schemaless / withSchema).toFixed(2), target: '≤ 30× protobufjs with schema', pass: schemaless / withSchema <= 30 });
    return results;
  },
};

export default bench;
