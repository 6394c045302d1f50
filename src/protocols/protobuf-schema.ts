// Protobuf with a schema: `.proto` files loaded at run time with protobufjs (the user's `--proto`
// files and every .proto in `$AGENTTAP_HOME/proto`), messages decoded by full type name, and the
// request/response types of a Connect/gRPC path (`/aiserver.v1.AiService/NameTab`) looked up in the
// services the files declare. Each file gets its own root, so two versions of one package (say two
// reverse-engineered `aiserver.proto`s) can sit side by side; lookups take the first that knows a name.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';
import { issue, type DecodeIssue } from './decode-issue.js';
import { decodeFlat } from './protobuf-schemaless.js';

type Root = InstanceType<typeof protobuf.Root>;
type Type = InstanceType<typeof protobuf.Type>;

export interface LoadedProto {
  file: string;
  root: Root;
}

export interface ProtoSchema {
  files: LoadedProto[];
  /** Files that could not be read or parsed, with the reason (the others still load). */
  errors: { file: string; message: string }[];
}

export interface RpcMethodInfo {
  service: string;
  method: string;
  requestType: string;
  responseType: string;
  requestStream: boolean;
  responseStream: boolean;
  file: string;
}

export interface SchemaDecodeResult {
  typeName: string;
  file?: string;
  /** The message as JSON-friendly data (64-bit ints and enums as strings, bytes as base64). */
  value?: Record<string, unknown>;
  /** Fields the bytes carry but the schema does not declare ("messages[0].#57"): the schema is behind. */
  unknownFields?: string[];
  error?: DecodeIssue;
}

/** Every `.proto` file under `dir` (recursively, at most 6 levels), sorted; [] when it does not exist. */
export function protoFilesIn(dir: string, depth = 0): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const name of names) {
    const full = path.join(dir, name);
    let st;
    try {
      st = statSync(full);
    } catch {
      continue;
    }
    if (st.isDirectory() && depth < 6) out.push(...protoFilesIn(full, depth + 1));
    else if (st.isFile() && name.endsWith('.proto')) out.push(full);
  }
  return out;
}

/** Loads `.proto` files and directories of them. Imports resolve relative to each file. */
export function loadProtoSchema(paths: string[]): ProtoSchema {
  const schema: ProtoSchema = { files: [], errors: [] };
  for (const p of paths) {
    let files: string[];
    try {
      files = statSync(p).isDirectory() ? protoFilesIn(p) : [p];
    } catch (e) {
      schema.errors.push({ file: p, message: `cannot read ${p}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` });
      continue;
    }
    for (const file of files) {
      try {
        const root = new protobuf.Root();
        root.loadSync(file, { keepCase: true });
        root.resolveAll();
        schema.files.push({ file, root });
      } catch (e) {
        schema.errors.push({ file, message: (e as Error).message });
      }
    }
  }
  return schema;
}

/** A message type by full name (with or without a leading dot), or by a unique short name. */
export function findMessageType(schema: ProtoSchema, name: string): { type: Type; file: string } | undefined {
  const full = name.startsWith('.') ? name : `.${name}`;
  for (const { file, root } of schema.files) {
    const found = safeLookupType(root, full);
    if (found) return { type: found, file };
  }
  if (!name.includes('.')) {
    const matches: { type: Type; file: string }[] = [];
    for (const { file, root } of schema.files) {
      for (const t of allTypes(root)) if (t.name === name) matches.push({ type: t, file });
    }
    const distinct = new Set(matches.map((m) => m.type.fullName));
    if (distinct.size === 1) return matches[0];
  }
  return undefined;
}

function safeLookupType(root: Root, full: string): Type | undefined {
  try {
    const t = root.lookup(full);
    return t instanceof protobuf.Type ? t : undefined;
  } catch {
    return undefined;
  }
}

function allTypes(ns: InstanceType<typeof protobuf.Namespace>): Type[] {
  const out: Type[] = [];
  for (const child of ns.nestedArray) {
    if (child instanceof protobuf.Type) out.push(child);
    if (child instanceof protobuf.Namespace) out.push(...allTypes(child));
  }
  return out;
}

/** Full names (without the leading dot) of every message type in the schema. */
export function messageTypeNames(schema: ProtoSchema): string[] {
  const names = new Set<string>();
  for (const { root } of schema.files) for (const t of allTypes(root)) names.add(t.fullName.slice(1));
  return [...names].sort();
}

/** Decodes `bytes` as the message `typeName`. Never throws. */
export function decodeWithSchema(schema: ProtoSchema, typeName: string, bytes: Uint8Array): SchemaDecodeResult {
  const found = findMessageType(schema, typeName);
  if (!found) {
    return { typeName, error: issue('unknown-type', `no message type "${typeName}" in the loaded .proto files`, 0) };
  }
  const name = found.type.fullName.slice(1);
  try {
    const msg = found.type.decode(bytes);
    const value = found.type.toObject(msg, { longs: String, enums: String, bytes: String, json: true }) as Record<string, unknown>;
    const out: SchemaDecodeResult = { typeName: name, file: found.file, value };
    const unknown: string[] = [];
    unknownFieldPaths(found.type, bytes, '', 0, unknown);
    if (unknown.length) out.unknownFields = unknown;
    return out;
  } catch (e) {
    const message = (e as Error).message;
    const at = /index out of range: (\d+)/.exec(message);
    return { typeName: name, file: found.file, error: issue('schema-decode-failed', `bytes do not decode as ${name} (${message})`, at ? Number(at[1]) : 0) };
  }
}

/**
 * The RPC method of a Connect/gRPC path ("/aiserver.v1.AiService/NameTab", also a full URL), when a
 * loaded file declares that service.
 */
export function methodForPath(schema: ProtoSchema, urlOrPath: string): RpcMethodInfo | undefined {
  const m = /\/([A-Za-z_][\w.]*)\/([A-Za-z_]\w*)\/?(?:[?#].*)?$/.exec(urlOrPath);
  if (!m) return undefined;
  const [, serviceName, methodName] = m as unknown as [string, string, string];
  for (const { file, root } of schema.files) {
    let service;
    try {
      service = root.lookup(`.${serviceName}`);
    } catch {
      continue;
    }
    if (!(service instanceof protobuf.Service)) continue;
    const method = service.methods[methodName];
    if (!method) continue;
    try {
      method.resolve();
    } catch {
      continue;
    }
    const req = method.resolvedRequestType?.fullName ?? method.requestType;
    const res = method.resolvedResponseType?.fullName ?? method.responseType;
    return {
      service: serviceName,
      method: methodName,
      requestType: req.replace(/^\./, ''),
      responseType: res.replace(/^\./, ''),
      requestStream: Boolean(method.requestStream),
      responseStream: Boolean(method.responseStream),
      file,
    };
  }
  return undefined;
}

/** Walks the bytes beside the type and lists the field numbers the type does not declare. */
function unknownFieldPaths(type: Type, bytes: Uint8Array, prefix: string, depth: number, out: string[]): void {
  if (depth > 32 || out.length >= 200) return;
  const seen = new Map<number, number>();
  for (const f of decodeFlat(bytes).fields) {
    const def = type.fieldsById[f.field];
    if (!def) {
      const path = `${prefix}#${f.field}`;
      if (!out.includes(path)) out.push(path);
      continue;
    }
    const index = seen.get(f.field) ?? 0;
    seen.set(f.field, index + 1);
    def.resolve();
    if (f.wire === 2 && f.bytes && def.resolvedType instanceof protobuf.Type && !def.map) {
      unknownFieldPaths(def.resolvedType, f.bytes, `${prefix}${def.name}${def.repeated ? `[${index}]` : ''}.`, depth + 1, out);
    }
  }
}
