// Encoders for Cursor test streams: the agent.v1 test schema (test/fixtures/cursor-agent.proto,
// numbers from the Cursor sniffer) and the reverse-engineered aiserver.v1 lite schema from the
// shared fixtures, loaded with protobufjs.
import path from 'node:path';
import protobuf from 'protobufjs';
import type { CaptureRecord, HeaderList } from '../../src/capture/record.js';
import { repoRoot } from './cli-process.js';

export const sharedCursorDir = path.resolve(repoRoot, '../shared/fixtures/cursor');
export const payloadDir = path.join(sharedCursorDir, 'payload-samples');
export const liteProto = path.join(sharedCursorDir, 'zhengwenj-cursor-api@280c2d7--src_core_aiserver_v1_lite.proto');
export const fullProto = path.join(sharedCursorDir, 'zhengwenj-cursor-api@5505ccc--src_aiserver_v1_aiserver.proto');
export const nixosProto = path.join(sharedCursorDir, 'nixos-cursor@86f7989--tools_proxy-test_proto_aiserver.proto');
export const agentProto = path.join(repoRoot, 'test/fixtures/cursor-agent.proto');

let agentRoot: protobuf.Root | undefined;
let liteRoot: protobuf.Root | undefined;
let fullRoot: protobuf.Root | undefined;

export function fullType(name: string): protobuf.Type {
  if (!fullRoot) {
    fullRoot = new protobuf.Root();
    fullRoot.loadSync(fullProto, { keepCase: true });
  }
  return fullRoot.lookupType(`aiserver.v1.${name}`);
}

export function agentType(name: string): protobuf.Type {
  if (!agentRoot) {
    agentRoot = new protobuf.Root();
    agentRoot.loadSync(agentProto, { keepCase: true });
  }
  return agentRoot.lookupType(`agent.v1.${name}`);
}

export function liteType(name: string): protobuf.Type {
  if (!liteRoot) {
    liteRoot = new protobuf.Root();
    liteRoot.loadSync(liteProto, { keepCase: true });
  }
  return liteRoot.lookupType(`aiserver.v1.${name}`);
}

/** Encodes `value` (checked against the type first) to bytes. Top-level keys must be fields. */
export function encode(type: protobuf.Type, value: Record<string, unknown>): Uint8Array {
  // fromObject converts enum names and nested objects; verify then checks the result (unknown keys
  // would be dropped silently, so they are refused here).
  for (const key of Object.keys(value)) if (!type.fields[key] && !type.oneofs?.[key]) throw new Error(`${type.name} has no field ${key}`);
  const msg = type.fromObject(value);
  const err = type.verify(msg);
  if (err) throw new Error(`${type.name}: ${err}`);
  return type.encode(msg).finish();
}

let seq = 0;

/** A capture record of a Cursor Connect call with binary bodies stored as base64 (as the recorder does). */
export function cursorRecord(opts: {
  path: string;
  requestBody?: Uint8Array;
  requestContentType?: string;
  responseBody?: Uint8Array | string;
  responseContentType?: string;
  status?: number;
  responseTrailers?: HeaderList;
}): CaptureRecord {
  const reqCt = opts.requestContentType ?? 'application/connect+proto';
  const resCt = opts.responseContentType ?? 'application/connect+proto';
  const req = opts.requestBody ?? new Uint8Array(0);
  const res = opts.responseBody ?? new Uint8Array(0);
  const resBody = typeof res === 'string' ? { text: res, size: Buffer.byteLength(res) } : { base64: Buffer.from(res).toString('base64'), size: res.length };
  const rec: CaptureRecord = {
    v: 1,
    id: `0193f1c2-0000-7000-8000-${String(++seq).padStart(12, '0')}`,
    kind: 'http',
    mode: 'forward',
    startedAt: '2026-11-23T10:00:00.000Z',
    server: { host: 'api2.cursor.sh', port: 443, tls: true, alpn: 'h2' },
    request: {
      method: 'POST',
      url: `https://api2.cursor.sh${opts.path}`,
      httpVersion: '2',
      headers: [
        ['content-type', reqCt],
        ['connect-protocol-version', '1'],
        ['user-agent', 'connect-es/1.6.1'],
        ['x-cursor-client-version', '2.0.77'],
      ],
      body: { base64: Buffer.from(req).toString('base64'), size: req.length },
    },
    response: {
      status: opts.status ?? 200,
      httpVersion: '2',
      headers: [['content-type', resCt]],
      body: resBody,
    },
    error: null,
  };
  if (opts.responseTrailers) rec.response!.trailers = opts.responseTrailers;
  return rec;
}
