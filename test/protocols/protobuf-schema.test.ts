import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeWithSchema, findMessageType, loadProtoSchema, messageTypeNames, methodForPath } from '../../src/protocols/protobuf-schema.js';
import { decodeProtobuf } from '../../src/protocols/protobuf-schemaless.js';
import { encode, fullProto, liteProto, nixosProto, payloadDir, liteType } from '../support/cursor-protos.js';

function sample(part: string): Buffer {
  const name = readdirSync(payloadDir).find((f) => f.includes(part) && f.endsWith('.bin'))!;
  return readFileSync(path.join(payloadDir, name));
}

test('the reverse-engineered aiserver.proto decodes real Cursor requests by type name', () => {
  const schema = loadProtoSchema([fullProto]);
  assert.deepEqual(schema.errors, []);
  const nameTab = decodeWithSchema(schema, 'aiserver.v1.NameTabRequest', sample('AiService_NameTab'));
  assert.equal(nameTab.error, undefined);
  const messages = nameTab.value!.messages as Record<string, unknown>[];
  assert.equal(messages[0]!.text, 'Write a Python function that calculates the fibonacci sequence.');
  assert.equal(messages[0]!.type, 'MESSAGE_TYPE_HUMAN');
  assert.equal(messages[0]!.bubble_id, '070d520e-93f3-4d55-8aad-848e41ed8ae2');
  // Cursor 2.0.77 sends fields this older schema does not know (79 holds the model name).
  assert.ok(nameTab.unknownFields?.includes('messages[0].#79'), String(nameTab.unknownFields));
  assert.ok(!nameTab.unknownFields?.some((f) => f.endsWith('#1') || f.endsWith('#13')), 'declared fields are not listed');

  const queue = decodeWithSchema(schema, '.aiserver.v1.CheckQueuePositionRequest', sample('CheckQueuePosition_28dc'));
  assert.equal(queue.typeName, 'aiserver.v1.CheckQueuePositionRequest');
  assert.deepEqual(queue.value, { orig_request_id: 'a3980c8b-8f36-4718-a89d-d1b7d6539bb1', model_details: { model_name: 'gemini-3-pro', azure_state: {} } });
});

test('a Connect path names the request and response types when the schema has the service', () => {
  const schema = loadProtoSchema([fullProto, nixosProto]);
  assert.deepEqual(methodForPath(schema, '/aiserver.v1.AiService/NameTab'), {
    service: 'aiserver.v1.AiService',
    method: 'NameTab',
    requestType: 'aiserver.v1.NameTabRequest',
    responseType: 'aiserver.v1.NameTabResponse',
    requestStream: false,
    responseStream: false,
    file: fullProto,
  });
  const models = methodForPath(schema, 'https://api2.cursor.sh/aiserver.v1.AiService/AvailableModels');
  assert.equal(models?.responseType, 'aiserver.v1.AvailableModelsResponse');
  const chat = methodForPath(schema, '/aiserver.v1.ChatService/StreamUnifiedChatWithTools');
  assert.equal(chat?.requestType, 'aiserver.v1.StreamUnifiedChatRequestWithTools');
  assert.equal(chat?.requestStream, true);
  assert.equal(chat?.file, nixosProto, 'the second file supplies a service the first lacks');
  assert.equal(methodForPath(schema, '/aiserver.v1.AiService/NoSuchMethod'), undefined);
});

test('AvailableModels: the real request with the lite schema, and model names in a response', () => {
  const schema = loadProtoSchema([liteProto]);
  const req = decodeWithSchema(schema, 'aiserver.v1.AvailableModelsRequest', sample('AvailableModels'));
  assert.deepEqual(req.value, { exclude_max_named_models: true });
  assert.equal(req.unknownFields, undefined);
  const T = liteType('AvailableModelsResponse');
  const names = ['claude-4.5-opus-high-thinking', 'gemini-3-pro', 'gpt-5'];
  const bytes = encode(T, { models: names.map((name, i) => ({ name, default_on: i === 0 })) });
  const res = decodeWithSchema(schema, 'AvailableModelsResponse', bytes);
  const models = res.value?.models as { name: string; default_on?: boolean }[];
  assert.deepEqual(models.map((m) => m.name), names);
  assert.equal(models[0]!.default_on, true);
  // The same bytes without the schema still show the names.
  const tree = decodeProtobuf(bytes);
  assert.deepEqual(tree.fields.map((f) => (f.value.kind === 'message' ? f.value.fields.find((x) => x.field === 1)?.value : undefined)), names.map((text) => ({ kind: 'string', text })));
});

test('short names, unknown types, broken bytes and broken files are reported, not thrown', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'agenttap-proto-'));
  writeFileSync(path.join(dir, 'ok.proto'), 'syntax = "proto3"; package t; message Ping { string note = 1; int64 n = 2; }');
  writeFileSync(path.join(dir, 'broken.proto'), 'syntax = "proto3"; message {');
  const schema = loadProtoSchema([dir, path.join(dir, 'missing.proto')]);
  assert.equal(schema.files.length, 1);
  assert.equal(schema.errors.length, 2);
  assert.ok(schema.errors.some((e) => e.file.endsWith('broken.proto')));
  assert.match(schema.errors.find((e) => e.file.endsWith('missing.proto'))!.message, /ENOENT/);
  assert.deepEqual(messageTypeNames(schema), ['t.Ping']);
  assert.equal(findMessageType(schema, 'Ping')?.type.fullName, '.t.Ping');
  assert.deepEqual(decodeWithSchema(schema, 'Ping', Buffer.from('0a026869108080808080808080', 'hex')).error?.code, 'schema-decode-failed');
  assert.deepEqual(decodeWithSchema(schema, 't.Ping', Buffer.from('0a02686910ffffffffffffffffff01', 'hex')).value, { note: 'hi', n: '-1' });
  assert.equal(decodeWithSchema(schema, 'Nope', Buffer.alloc(0)).error?.code, 'unknown-type');
  const cut = decodeWithSchema(schema, 't.Ping', Buffer.from('0a0568', 'hex'));
  assert.equal(cut.error?.code, 'schema-decode-failed');
});
