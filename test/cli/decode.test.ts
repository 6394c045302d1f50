import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCli } from '../support/cli-process.js';
import { tempDir } from '../support/temp-home.js';
import { concatBytes } from '../../src/protocols/binary-text.js';
import { encodeConnectEndStream, encodeConnectMessage } from '../../src/protocols/connect-envelope.js';
import { encodeGrpcWebTrailers } from '../../src/protocols/grpc-web.js';
import { encodeFrame } from '../../src/protocols/length-prefixed-frames.js';
import { agentType, cursorRecord, encode, fullProto, fullType, liteProto, payloadDir } from '../support/cursor-protos.js';

const HELLO = '0a0568656c6c6f1205776f726c64';
const home = tempDir('agenttap-decode-home-');
const env = { ...process.env, AGENTTAP_HOME: home.dir };

function sample(part: string, ext = '.bin'): string {
  return path.join(payloadDir, readdirSync(payloadDir).find((f) => f.includes(part) && f.endsWith(ext))!);
}

test.after(() => home.cleanup());

test('decode HEX prints the field tree; --hex, --b64 and stdin (hex or base64) agree', async () => {
  const r = await runCli(['decode', HELLO], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Analyzing 14 bytes \(hex\)/);
  assert.match(r.stdout, /^field 1 \(wire=2\): "hello"\nfield 2 \(wire=2\): "world"$/m);
  const tree = r.stdout.slice(r.stdout.indexOf('field 1'));
  for (const args of [['decode', '--hex', HELLO], ['decode', '--b64', Buffer.from(HELLO, 'hex').toString('base64')]]) {
    const x = await runCli(args, { env });
    assert.equal(x.code, 0, x.stderr);
    assert.equal(x.stdout.slice(x.stdout.indexOf('field 1')), tree);
  }
  const viaStdinHex = await runCli(['decode', '-'], { env, input: `${HELLO}\n` });
  assert.equal(viaStdinHex.stdout.slice(viaStdinHex.stdout.indexOf('field 1')), tree);
  const forcedB64 = await runCli(['decode', '--b64', '-'], { env, input: 'CgVoZWxsbxIFd29ybGQ=\n' });
  assert.equal(forcedB64.stdout.slice(forcedB64.stdout.indexOf('field 1')), tree);
  const viaStdinB64 = await runCli(['decode', '-'], { env, input: 'CgVoZWxsbxIFd29ybGQ=\n' });
  assert.match(viaStdinB64.stdout, /\(base64\)/);
  assert.equal(viaStdinB64.stdout.slice(viaStdinB64.stdout.indexOf('field 1')), tree);
});

test('decode --file reads a real Cursor body (binary, or its .hex twin), with --raw hex dump and --text', async () => {
  const bin = await runCli(['decode', '--file', sample('AiService_NameTab'), '--raw', '--text'], { env });
  assert.equal(bin.code, 0, bin.stderr);
  assert.match(bin.stdout, /Analyzing 548 bytes \(binary\)/);
  assert.match(bin.stdout, /^field 1 \(wire=2\): \{ +0a a1 04$/m);
  assert.match(bin.stdout, /^ {2}field 1 \(wire=2\): "Write a Python function that calculates the fibonacci sequence\." +0a 3f 57 72 69 74 65 20 61 20 50 79 … \(65 bytes\)$/m);
  assert.match(bin.stdout, /^ {2}field 79 \(wire=2\): \{ +fa 04 0e\n {4}field 1 \(wire=2\): "gemini-3-pro" +0a 0c 67 65 6d 69 6e 69 2d 33 2d 70 … \(14 bytes\)\n {2}\}$/m);
  assert.doesNotMatch(bin.stdout, /not decoded/);
  assert.match(bin.stdout, /prompt: "Write a Python function that calculates the fibonacci sequence\."/);
  const hex = await runCli(['decode', '--file', sample('AiService_NameTab', '.hex'), '--text'], { env });
  assert.match(hex.stdout, /Analyzing 548 bytes \(hex\)/);
  const treeOnly = (out: string) => out.slice(out.indexOf('field 1'), out.indexOf('\nReadable text')).split('\n').map((l) => l.replace(/ {2,}[0-9a-f]{2}( [0-9a-f]{2})*( … \(\d+ bytes\))?$/, '')).join('\n');
  assert.equal(treeOnly(hex.stdout), treeOnly(bin.stdout), 'the same tree, without the bytes beside it');
  const cut = await runCli(['decode', '--raw', '0a0568656c6c6f12ff'], { env });
  assert.match(cut.stdout, /Bytes from offset 7 on, not decoded:\n00000000 {2}12 ff/);
});

test('decode with --proto and --type, or the type taken from a Connect --path', async () => {
  const r = await runCli(['decode', '--file', sample('AiService_NameTab'), '--proto', fullProto, '--type', 'aiserver.v1.NameTabRequest'], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /As aiserver\.v1\.NameTabRequest:/);
  assert.match(r.stdout, /"type": "MESSAGE_TYPE_HUMAN"/);
  assert.match(r.stdout, /Not in the schema \(shown in the tree above\): .*messages\[0\]\.#79/);
  assert.match(r.stdout, /"text": "Write a Python function that calculates the fibonacci sequence\."/);
  const byPath = await runCli(['decode', '--file', sample('CheckQueuePosition_28dc'), '--proto', fullProto, '--path', '/aiserver.v1.AiService/CheckQueuePosition', '--json'], { env });
  assert.equal(byPath.code, 0, byPath.stderr);
  const line = JSON.parse(byPath.stdout.trim());
  assert.equal(line.schema.typeName, 'aiserver.v1.CheckQueuePositionRequest');
  assert.deepEqual(line.schema.value.model_details, { model_name: 'gemini-3-pro', azure_state: {} });
  const noProto = await runCli(['decode', HELLO, '--type', 'x.Y'], { env });
  assert.equal(noProto.code, 2);
  assert.match(noProto.stderr, /--type and --path need \.proto files/);
});

test('.proto files in $AGENTTAP_HOME/proto are loaded without --proto', async () => {
  const h = tempDir('agenttap-proto-home-');
  try {
    mkdirSync(path.join(h.dir, 'proto'));
    copyFileSync(liteProto, path.join(h.dir, 'proto', 'lite.proto'));
    const r = await runCli(['decode', '1801', '--type', 'aiserver.v1.AvailableModelsRequest', '--json'], { env: { ...process.env, AGENTTAP_HOME: h.dir } });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.trim()).schema.value, { exclude_max_named_models: true });
  } finally {
    h.cleanup();
  }
});

test('a Connect stream is recognised by its envelopes; --json prints one line per message and the end', async () => {
  const stream = concatBytes([
    encodeConnectMessage(Buffer.from(HELLO, 'hex')),
    encodeConnectMessage(Buffer.from('0a03616263', 'hex')),
    encodeConnectEndStream({ error: { code: 'unavailable', message: 'try again' } }),
  ]);
  const b64 = Buffer.from(stream).toString('base64');
  const text = await runCli(['decode', '--b64', b64], { env });
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /Connect stream, 2 messages/);
  assert.match(text.stdout, /── message 1 @0 \(flags 0x00, 14 bytes\) ──\nfield 1 \(wire=2\): "hello"/);
  assert.match(text.stdout, /── message 2 @19 \(flags 0x00, 5 bytes\) ──\nfield 1 \(wire=2\): "abc"/);
  assert.match(text.stdout, /── end of stream: error unavailable "try again"/);
  const json = await runCli(['decode', '--json', Buffer.from(stream).toString('hex')], { env });
  const lines = json.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.type), ['message', 'message', 'end']);
  assert.equal(lines[0].fields[0].value.text, 'hello');
  assert.equal(lines[1].offset, 19);
  assert.deepEqual(lines[2].error, { code: 'unavailable', message: 'try again' });
});

test('bad input: wrong base64, truncated protobuf and nothing to decode give clear errors with offsets', async () => {
  const b64 = await runCli(['decode', '--b64', 'CgVoZW!!xsbw=='], { env });
  assert.equal(b64.code, 1);
  assert.match(b64.stderr, /base64 input: invalid base64 character "!" at offset 6 \(decoding the 4 bytes before it\)/);
  assert.match(b64.stderr, /field 1 declares 5 bytes but only 2 remain at offset 0/);
  const hex = await runCli(['decode', '0a0568656c6c6f12'], { env });
  assert.equal(hex.code, 1);
  assert.match(hex.stdout, /field 1 \(wire=2\): "hello"/, 'the part before the problem is shown');
  assert.match(hex.stderr, /the length of field 2 is cut off by the end of the input at offset 8/);
  const odd = await runCli(['decode', '--hex', '0a0'], { env });
  assert.equal(odd.code, 1);
  assert.match(odd.stderr, /odd number of hex digits/);
  const empty = await runCli(['decode'], { env, input: '' });
  assert.equal(empty.code, 2);
  assert.match(empty.stderr, /nothing to decode/);
  const missing = await runCli(['decode', '--file', path.join(home.dir, 'nope.bin')], { env });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot read .*nope\.bin: ENOENT/);
});

test('--interactive takes hex, b64 and file commands from stdin until q', async () => {
  const input = [`hex ${HELLO}`, 'b64 CgVoZWxsbw==', `file ${sample('CheckQueuePosition_28dc')}`, 'hex zz', 'frobnicate', 'q', `hex ${HELLO}`].join('\n') + '\n';
  const r = await runCli(['decode', '--interactive'], { env, input });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Commands:\n {2}hex <hexstring>/);
  const blocks = r.stdout.split(/^> /m);
  assert.match(blocks[1]!, /Analyzing 14 bytes \(hex\)\.\.\.\n\nfield 1 \(wire=2\): "hello"\nfield 2 \(wire=2\): "world"/);
  assert.match(blocks[2]!, /Analyzing 7 bytes \(base64\)\.\.\.\n\nfield 1 \(wire=2\): "hello"/);
  assert.match(blocks[3]!, /field 1 \(wire=2\): "gemini-3-pro"/);
  assert.match(r.stderr, /invalid hex character "z" at offset 0/);
  assert.match(blocks[5]!, /unknown command "frobnicate"/);
  assert.equal(r.stdout.match(/Analyzing/g)!.length, 4, 'nothing is read after q');
});

test('a gRPC-web-text body pasted as its base64 text shows messages and trailers', async () => {
  const h = tempDir('agenttap-grpcweb-');
  try {
    const body = concatBytes([encodeFrame(Buffer.from(HELLO, 'hex')), encodeGrpcWebTrailers([['grpc-status', '7'], ['grpc-message', 'no%20access']])]);
    const file = h.file('body.txt');
    writeFileSync(file, Buffer.from(body).toString('base64'));
    const r = await runCli(['decode', '--file', file, '--content-type', 'application/grpc-web-text'], { env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /gRPC-web stream, 1 message/);
    assert.match(r.stdout, /field 2 \(wire=2\): "world"/);
    assert.match(r.stdout, /── trailers: grpc-status: 7, grpc-message: no%20access \(PERMISSION_DENIED\)/);
  } finally {
    h.cleanup();
  }
});

test('decode --capture FILE --id ID: a record body, its type taken from the URL when the schema has the service', async () => {
  const h = tempDir('agenttap-decode-capture-');
  try {
    const nameTab = readFileSync(sample('AiService_NameTab'));
    const rec = cursorRecord({ path: '/aiserver.v1.AiService/NameTab', requestBody: nameTab, requestContentType: 'application/proto', responseContentType: 'application/connect+proto', responseBody: concatBytes([encodeConnectMessage(encode(fullType('NameTabResponse'), { name: 'Fibonacci helper', reason: 'named from the first prompt' })), encodeConnectEndStream({})]) });
    const other = cursorRecord({ path: '/aiserver.v1.AiService/CheckQueuePosition', requestBody: readFileSync(sample('CheckQueuePosition_28dc')), requestContentType: 'application/proto' });
    const file = h.file('cap.jsonl');
    writeFileSync(file, [JSON.stringify(other), JSON.stringify(rec), ''].join('\n'));
    const req = await runCli(['decode', '--capture', file, '--id', rec.id, '--proto', fullProto], { env });
    assert.equal(req.code, 0, req.stderr);
    assert.match(req.stdout, /Analyzing 548 bytes \(request body of /);
    assert.match(req.stdout, /As aiserver\.v1\.NameTabRequest:/);
    assert.match(req.stdout, /"text": "Write a Python function that calculates the fibonacci sequence\."/);
    const res = await runCli(['decode', '--capture', file, '--id', rec.id, '--response', '--proto', fullProto, '--json'], { env });
    assert.equal(res.code, 0, res.stderr);
    const lines = res.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines[0].schema.typeName, 'aiserver.v1.NameTabResponse');
    assert.deepEqual(lines[0].schema.value, { name: 'Fibonacci helper', reason: 'named from the first prompt' });
    assert.deepEqual(lines[1], { type: 'end' });
    const missing = await runCli(['decode', '--capture', file, '--id', 'ffffffff'], { env });
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no record with id ffffffff/);
  } finally {
    h.cleanup();
  }
});

test('--cursor names agent.v1 messages like the Cursor sniffer; --capture does it by itself for agent paths', async () => {
  const S = agentType('AgentServerMessage');
  const stream = concatBytes([
    encodeConnectMessage(encode(S, { interaction_update: { text_delta: { text: 'Sure.' } } })),
    encodeConnectMessage(encode(S, { exec_server_message: { id: 1, shell: { command: "echo 'hello world'", cwd: '/home/user' } } })),
    encodeConnectMessage(encode(S, { interaction_update: { turn_ended: {} } })),
    encodeConnectEndStream({}),
  ]);
  const r = await runCli(['decode', '--cursor', 'server', Buffer.from(stream).toString('hex')], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /── message 1 @0 \(flags 0x00, \d+ bytes\) interaction_update\.text_delta ──/);
  assert.match(r.stdout, /── message 2 @\d+ \(flags 0x00, \d+ bytes\) exec_server_message\.shell ──\nfield 2 \(wire=2\): \{\n {2}field 1 \(wire=0\): 1\n {2}field 2 \(wire=2\): \{\n {4}field 1 \(wire=2\): "echo 'hello world'"/);
  assert.match(r.stdout, /interaction_update\.turn_ended ──/);
  const bad = await runCli(['decode', '--cursor', 'sideways', HELLO], { env });
  assert.equal(bad.code, 2);

  const h = tempDir('agenttap-decode-cursor-');
  try {
    const file = h.file('cap.jsonl');
    const rec = cursorRecord({ path: '/agent.v1.AgentService/Run', requestBody: encodeConnectMessage(encode(agentType('AgentClientMessage'), { run_request: { user_message: { text: 'hi' } } })), responseBody: stream });
    writeFileSync(file, JSON.stringify(rec) + '\n');
    const down = await runCli(['decode', '--capture', file, '--id', rec.id.slice(0, 13), '--response', '--json'], { env });
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(down.stdout.trim().split('\n').map((l) => JSON.parse(l).cursor ?? JSON.parse(l).type), ['interaction_update.text_delta', 'exec_server_message.shell', 'interaction_update.turn_ended', 'end']);
    const up = await runCli(['decode', '--capture', file, '--id', rec.id], { env });
    assert.match(up.stdout, /run_request ──/);
  } finally {
    h.cleanup();
  }
});
