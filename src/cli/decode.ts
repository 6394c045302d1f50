// agenttap decode: protobuf (and the Connect / gRPC / gRPC-web / SSE envelopes around it) from hex,
// base64, a file or stdin, shown as a `field 1 (wire=2): "hello"` tree, as JSON Lines, or decoded
// with a schema from .proto files. `--interactive` is the Cursor sniffer's prompt (hex …, b64 …,
// file …, q).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { bodyBytes, headerValue, type CaptureRecord } from '../capture/record.js';
import { readRecords } from '../capture/reader.js';
import { agenttapHome } from '../engine/home.js';
import { decodeBinaryBody, type BinaryBody } from '../protocols/binary-body.js';
import { parseBase64, parseBinaryText, parseHex, type TextBytes } from '../protocols/binary-text.js';
import type { DecodeIssue } from '../protocols/decode-issue.js';
import { formatProtobufTree, hexDump } from '../protocols/protobuf-format.js';
import { decodeWithSchema, loadProtoSchema, methodForPath, protoFilesIn, type ProtoSchema } from '../protocols/protobuf-schema.js';
import { decodeProtobuf } from '../protocols/protobuf-schemaless.js';
import { extractReadableText } from '../protocols/readable-text.js';
import { cursorAgentSide, describeCursorMessage } from '../llm/cursor-connect.js';
import { CliError, usageError } from './errors.js';

interface DecodeFlags {
  hex?: string | true;
  b64?: string | true;
  file?: string;
  proto?: string[];
  type?: string;
  path?: string;
  response?: boolean;
  contentType?: string;
  encoding?: string;
  capture?: string;
  id?: string;
  cursor?: string;
  raw?: boolean;
  json?: boolean;
  text?: boolean;
  interactive?: boolean;
}

const MAX_INPUT_BYTES = 256 * 1024 * 1024;

export function register(program: Command): void {
  program
    .command('decode')
    .description('Decode protobuf (bare, or in Connect / gRPC / gRPC-web / SSE envelopes) from hex, base64, a file or stdin')
    .argument('[data]', 'hex or base64 (auto-detected), or - for stdin')
    .option('--hex [data]', 'the input is hex (DATA here, or the positional argument / stdin)')
    .option('--b64 [data]', 'the input is base64 (DATA here, or the positional argument / stdin)')
    .option('--file <path>', 'read the bytes from a file (a file holding hex or base64 text is decoded first)')
    .option('--proto <path>', 'a .proto file or directory (repeatable; $AGENTTAP_HOME/proto is always read)', collect, [])
    .option('--type <name>', 'decode each message as this full type name (e.g. aiserver.v1.NameTabRequest)')
    .option('--path <rpc>', 'the RPC path (/aiserver.v1.AiService/NameTab) to take the type from the schema')
    .option('--response', 'with --path or --capture: the response, not the request')
    .option('--content-type <type>', 'the body content type (application/connect+proto, application/grpc-web-text, …)')
    .option('--encoding <name>', 'compression of enveloped messages with the compressed flag (gzip, br, deflate; default gzip)')
    .option('--capture <file>', 'decode a body from a capture file (with --id; the request body, or the response with --response)')
    .option('--id <id>', 'with --capture: the record id (or its start; the first match is taken)')
    .option('--cursor <side>', 'name Cursor agent.v1 messages (client or server), as the Cursor sniffer does; automatic with --capture')
    .option('--raw', 'show the bytes of each field beside the tree (and a hex dump of what did not decode)')
    .option('--text', 'also list readable text: prompts, tool names, URLs')
    .option('--json', 'JSON Lines: one object per message, end-of-stream, trailers and error')
    .option('--interactive', 'a prompt: hex …, b64 …, file …, q')
    .addHelpText('after', '\nExamples:\n  agenttap decode 0a0568656c6c6f1205776f726c64\n  agenttap decode --b64 CgVoZWxsbw==\n  echo 0a0568656c6c6f | agenttap decode -\n  agenttap decode --file body.bin --proto aiserver.proto --type aiserver.v1.NameTabRequest\n  agenttap decode --capture capture.jsonl --id 0193f1c2 --response --proto aiserver.proto\n')
    .action(async (data: string | undefined, flags: DecodeFlags) => {
      const schema = loadSchema(flags);
      if (flags.interactive) {
        await interactive(flags, schema);
        return;
      }
      let input: Input;
      if (flags.capture !== undefined || flags.id !== undefined) {
        if (data !== undefined || flags.file !== undefined || typeof flags.hex === 'string' || typeof flags.b64 === 'string') throw usageError('--capture takes the bytes from the record: give no other input');
        const found = await fromCapture(flags, schema);
        input = found.input;
        flags = found.flags;
      } else {
        input = await readInput(data, flags);
      }
      const ok = show(input, flags, schema, (line) => process.stdout.write(line + '\n'));
      if (!ok) process.exitCode = 1;
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

interface Input {
  bytes: Uint8Array;
  /** How the text was read ("hex", "base64", "binary"). */
  encoding: string;
  error?: DecodeIssue;
}

function loadSchema(flags: DecodeFlags): ProtoSchema | undefined {
  const homeProto = path.join(agenttapHome(), 'proto');
  const paths = [...(flags.proto ?? []), ...(protoFilesIn(homeProto).length ? [homeProto] : [])];
  if ((flags.type || flags.path) && paths.length === 0) {
    throw usageError(`--type and --path need .proto files: pass --proto PATH or put them in ${homeProto}`);
  }
  if (paths.length === 0) return undefined;
  const schema = loadProtoSchema(paths);
  for (const e of schema.errors) process.stderr.write(`agenttap: skipped ${e.file}: ${e.message}\n`);
  if (schema.files.length === 0) throw new CliError('none of the .proto files could be loaded', 1, 'proto-load');
  return schema;
}

async function readInput(data: string | undefined, flags: DecodeFlags): Promise<Input> {
  // `--b64 -` / `--hex -`: commander hands "-" to the option; it means stdin, as for DATA.
  if (flags.hex === '-' || flags.b64 === '-') {
    if (data !== undefined) throw usageError('give the input once: DATA, --hex DATA, --b64 DATA or --file PATH');
    data = '-';
    flags = { ...flags, hex: flags.hex === '-' ? true : flags.hex, b64: flags.b64 === '-' ? true : flags.b64 };
  }
  const hexValue = typeof flags.hex === 'string' ? flags.hex : undefined;
  const b64Value = typeof flags.b64 === 'string' ? flags.b64 : undefined;
  const sources = [data !== undefined, hexValue !== undefined, b64Value !== undefined, flags.file !== undefined].filter(Boolean).length;
  if (sources > 1) throw usageError('give the input once: DATA, --hex DATA, --b64 DATA or --file PATH');
  if (flags.file !== undefined) return fromFile(flags.file, flags);
  if (hexValue !== undefined) return fromText(hexValue, 'hex');
  if (b64Value !== undefined) return fromText(b64Value, 'base64');
  const forced = flags.hex ? 'hex' : flags.b64 ? 'base64' : undefined;
  if (data === undefined || data === '-') {
    if (data === undefined && process.stdin.isTTY) throw usageError('nothing to decode: pass DATA, --file PATH or - for stdin (see agenttap decode --help)');
    const bytes = await readStdin();
    if (bytes.length === 0 && data === undefined) throw usageError('nothing to decode: pass DATA, --file PATH or - for stdin (see agenttap decode --help)');
    return fromBytesMaybeText(bytes, forced);
  }
  return fromText(data, forced);
}

/** The request (or response) body of one record in a capture file, with its content type and RPC type. */
async function fromCapture(flags: DecodeFlags, schema: ProtoSchema | undefined): Promise<{ input: Input; flags: DecodeFlags }> {
  if (!flags.capture || !flags.id) throw usageError('--capture FILE and --id ID go together');
  let record: CaptureRecord | undefined;
  try {
    for await (const item of readRecords(flags.capture)) {
      if (item.record.id === flags.id || item.record.id.startsWith(flags.id)) {
        record = item.record;
        break;
      }
    }
  } catch (e) {
    throw new CliError(`cannot read ${flags.capture}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 1, 'read-failed');
  }
  if (!record) throw new CliError(`no record with id ${flags.id} in ${flags.capture}`, 1, 'not-found');
  const side = flags.response ? record.response : record.request;
  const name = flags.response ? 'response' : 'request';
  if (!side?.body) throw new CliError(`record ${record.id} has no ${name} body`, 1, 'no-body');
  if (side.body.truncated) process.stderr.write(`agenttap: the ${name} body was truncated at capture time (${side.body.size} bytes in all); decoding the part kept\n`);
  const next: DecodeFlags = { ...flags };
  next.contentType ??= headerValue(side.headers, 'content-type');
  next.encoding ??= headerValue(side.headers, 'connect-content-encoding') ?? headerValue(side.headers, 'grpc-encoding');
  if (!next.type && !next.path && schema && record.request && methodForPath(schema, record.request.url)) next.path = record.request.url;
  next.cursor ??= record.request ? cursorAgentSide(record.request.url, Boolean(flags.response)) : undefined;
  return { input: { bytes: bodyBytes(side.body), encoding: `${name} body of ${record.id}` }, flags: next };
}

function fromText(text: string, forced: 'hex' | 'base64' | undefined): Input {
  const parsed: TextBytes & { encoding?: string } = forced === 'hex' ? parseHex(text) : forced === 'base64' ? parseBase64(text) : parseBinaryText(text);
  const encoding = forced ?? (parsed as { encoding: string }).encoding;
  return parsed.error ? { bytes: parsed.bytes, encoding, error: parsed.error } : { bytes: parsed.bytes, encoding };
}

/** Bytes that may be hex or base64 text (stdin, a .hex file) or raw binary. */
function fromBytesMaybeText(bytes: Uint8Array, forced: 'hex' | 'base64' | undefined): Input {
  if (forced) return fromText(Buffer.from(bytes).toString('latin1'), forced);
  const text = Buffer.from(bytes).toString('latin1').trim();
  if (text.length > 0 && /^(0x)?[0-9a-fA-F\s:,]+$/.test(text) && text.replace(/^0x|[\s:,]/g, '').length % 2 === 0) return fromText(text, 'hex');
  if (text.length > 0 && /^[A-Za-z0-9+/_\-\s]+=*\s*$/.test(text) && text.replace(/\s/g, '').length % 4 !== 1) return fromText(text, 'base64');
  return { bytes, encoding: 'binary' };
}

function fromFile(file: string, flags: DecodeFlags): Input {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 1, 'read-failed');
  }
  const forced = flags.hex ? 'hex' : flags.b64 ? 'base64' : undefined;
  return fromBytesMaybeText(bytes, forced);
}

async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of process.stdin) {
    const b = chunk as Buffer;
    total += b.length;
    if (total > MAX_INPUT_BYTES) throw new CliError(`stdin is larger than ${MAX_INPUT_BYTES} bytes`, 1, 'too-large');
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

/** Decodes and prints one input; false when something was wrong with it (the output still shows what decoded). */
function show(input: Input, flags: DecodeFlags, schema: ProtoSchema | undefined, out: (line: string) => void): boolean {
  let ok = true;
  const problem = (e: DecodeIssue) => {
    ok = false;
    if (flags.json) out(JSON.stringify({ type: 'error', code: e.code, message: e.message, offset: e.offset }));
    else process.stderr.write(`agenttap: ${e.message}\n`);
  };
  if (input.error) problem({ ...input.error, message: `${input.encoding} input: ${input.error.message} (decoding the ${input.bytes.length} bytes before it)` });

  // A grpc-web-text body given as its base64 text has been decoded already: it is grpc-web now.
  const contentType = flags.contentType && input.encoding === 'base64' ? flags.contentType.replace(/grpc-web-text/i, 'grpc-web') : flags.contentType;
  const body = decodeBinaryBody(input.bytes, { ...(contentType ? { contentType } : {}), ...(flags.encoding ? { encoding: flags.encoding } : {}) });
  const typeName = pickType(flags, schema);
  if (flags.cursor !== undefined && flags.cursor !== 'client' && flags.cursor !== 'server') throw usageError(`--cursor takes client or server, not "${flags.cursor}"`);
  const side = flags.cursor as 'client' | 'server' | undefined;
  if (!flags.json) {
    out(`Analyzing ${input.bytes.length} bytes (${input.encoding}${body.format === 'protobuf' ? '' : `, ${describeFormat(body)}`})...`);
    out('');
  }
  const many = body.messages.length > 1 || body.format !== 'protobuf';
  body.messages.forEach((m, i) => {
    const tree = decodeProtobuf(m.payload);
    const schemaResult = schema && typeName ? decodeWithSchema(schema, typeName, m.payload) : undefined;
    if (flags.json) {
      const line: Record<string, unknown> = { type: 'message', index: i, offset: m.offset, size: m.payload.length };
      if (many) Object.assign(line, { flags: m.flags, compressed: m.compressed });
      const label = side ? describeCursorMessage(m.payload, side) : undefined;
      if (label) line.cursor = label;
      line.fields = tree.fields;
      if (tree.error) line.error = tree.error;
      if (schemaResult) line.schema = schemaResult;
      if (flags.raw) line.hex = Buffer.from(m.payload).toString('hex');
      if (flags.text) line.text = extractReadableText(m.payload);
      out(JSON.stringify(line));
    } else {
      const label = side ? describeCursorMessage(m.payload, side) : undefined;
      if (many) out(`── message ${i + 1} @${m.offset} (flags 0x${m.flags.toString(16).padStart(2, '0')}, ${m.length} bytes${m.compressed ? `, inflated to ${m.payload.length}` : ''})${label ? ` ${label}` : ''} ──`);
      else if (label) out(`── ${label} ──`);
      // --raw: each line shows its bytes beside it; when decoding stopped early, a dump shows the rest.
      for (const l of formatProtobufTree(tree.fields, flags.raw ? { raw: m.payload, rawEnd: tree.bytesRead } : {})) out(l);
      if (flags.raw && tree.bytesRead < m.payload.length) {
        out(`Bytes from offset ${tree.bytesRead} on, not decoded:`);
        for (const l of hexDump(m.payload.subarray(tree.bytesRead))) out(l);
      }
      if (schemaResult) {
        out('');
        if (schemaResult.value) {
          out(`As ${schemaResult.typeName}:`);
          for (const l of JSON.stringify(schemaResult.value, null, 2).split('\n')) out(l);
          if (schemaResult.unknownFields) out(`Not in the schema (shown in the tree above): ${schemaResult.unknownFields.join(', ')}`);
        }
      }
      if (flags.text) printText(m.payload, out);
      if (many) out('');
    }
    if (m.error) problem(m.error);
    if (tree.error) problem(tree.error);
    if (tree.depthLimited) problem(tree.depthLimited);
    if (schemaResult?.error) problem(schemaResult.error);
  });
  if (body.end) {
    if (flags.json) out(JSON.stringify({ type: 'end', ...body.end }));
    else out(`── end of stream${body.end.error ? `: error ${body.end.error.code}${body.end.error.message ? ` "${body.end.error.message}"` : ''}` : ''}${body.end.metadata ? ` metadata ${JSON.stringify(body.end.metadata)}` : ''}`);
  }
  if (body.trailers) {
    if (flags.json) out(JSON.stringify({ type: 'trailers', trailers: body.trailers, status: body.status }));
    else out(`── trailers: ${body.trailers.map(([k, v]) => `${k}: ${v}`).join(', ')}${body.status ? ` (${body.status.name})` : ''}`);
  }
  for (const e of body.errors) problem(e);
  return ok;
}

function describeFormat(body: BinaryBody): string {
  const n = body.messages.length;
  const names: Record<string, string> = {
    connect: 'Connect stream', grpc: 'gRPC stream', 'grpc-web': 'gRPC-web stream', 'grpc-web-text': 'gRPC-web-text stream',
    'sse-envelopes': 'SSE of base64 envelopes', envelopes: 'enveloped stream', json: 'JSON', protobuf: 'protobuf',
  };
  return `${names[body.format] ?? body.format}, ${n} message${n === 1 ? '' : 's'}`;
}

function pickType(flags: DecodeFlags, schema: ProtoSchema | undefined): string | undefined {
  if (flags.type) return flags.type;
  if (flags.path && schema) {
    const m = methodForPath(schema, flags.path);
    if (!m) throw new CliError(`no service in the loaded .proto files declares ${flags.path}`, 1, 'unknown-method');
    return flags.response ? m.responseType : m.requestType;
  }
  return undefined;
}

function printText(bytes: Uint8Array, out: (line: string) => void): void {
  const t = extractReadableText(bytes);
  out('');
  out(`Readable text (${t.strings.length} strings from ${t.source}):`);
  for (const p of t.prompts) out(`  prompt: ${JSON.stringify(p.length > 300 ? p.slice(0, 300) + '…' : p)}`);
  if (t.toolNames.length) out(`  tools: ${t.toolNames.join(', ')}`);
  for (const u of t.urls) out(`  url: ${u}`);
}

const HELP = [
  'Commands:',
  '  hex <hexstring>   - Analyze hex-encoded protobuf',
  '  b64 <base64>      - Analyze base64-encoded protobuf',
  '  file <path>       - Analyze file content',
  '  q                 - Quit',
];

async function interactive(flags: DecodeFlags, schema: ProtoSchema | undefined): Promise<void> {
  const out = (line: string) => process.stdout.write(line + '\n');
  out('agenttap decode - interactive mode');
  out('');
  for (const l of HELP) out(l);
  out('');
  const rl = createInterface({ input: process.stdin, terminal: false });
  process.stdout.write('> ');
  for await (const raw of rl) {
    const line = raw.trim();
    const space = line.indexOf(' ');
    const cmd = (space < 0 ? line : line.slice(0, space)).toLowerCase();
    const arg = space < 0 ? '' : line.slice(space + 1).trim();
    if (cmd === 'q' || cmd === 'quit' || cmd === 'exit') break;
    try {
      if (cmd === '') {
        // nothing
      } else if (cmd === 'hex' || cmd === 'b64' || cmd === 'base64') {
        if (!arg) out(`usage: ${cmd} <data>`);
        else {
          out('');
          show(fromText(arg, cmd === 'hex' ? 'hex' : 'base64'), flags, schema, out);
        }
      } else if (cmd === 'file') {
        if (!arg) out('usage: file <path>');
        else {
          out('');
          show(fromFile(arg, {}), flags, schema, out);
        }
      } else if (cmd === 'help' || cmd === '?') {
        for (const l of HELP) out(l);
      } else {
        out(`unknown command "${cmd}"`);
        for (const l of HELP) out(l);
      }
    } catch (e) {
      out(`error: ${(e as Error).message}`);
    }
    out('');
    process.stdout.write('> ');
  }
  rl.close();
  out('');
}
