// Reading protobuf fields whose numbers are known (from a data table rather than a .proto): one
// level at a time with decodeFlat, following paths of field numbers, taking text only where the
// bytes really are text, and turning a sub-message into a plain object (named fields read exactly,
// the rest through the schema-less decoder; google.protobuf.Struct/Value as JSON). Never throws.
import { decodeFlat, decodeProtobuf, type FlatField, type PbField } from './protobuf-schemaless.js';

/** Field number → name; a name may carry a kind after a colon ("args:struct"). */
export type FieldNames = Record<string, string>;
/** Field numbers from the outer message inwards. */
export type FieldPath = number[];

export const utf8 = new TextDecoder('utf-8');

/** One level of fields (nothing guessed; [] for undefined or from the first problem on). */
export function flat(bytes: Uint8Array | undefined): FlatField[] {
  return bytes ? decodeFlat(bytes).fields : [];
}

/** The first field with number `n`. */
export function first(fields: FlatField[], n: number): FlatField | undefined {
  return fields.find((f) => f.field === n);
}

/** The payload of the first length-delimited field `n`. */
export function sub(fields: FlatField[], n: number): Uint8Array | undefined {
  const f = first(fields, n);
  return f?.wire === 2 ? f.bytes : undefined;
}

/** The first field `n` as UTF-8 text (lossy). */
export function textOf(fields: FlatField[], n: number): string | undefined {
  const b = sub(fields, n);
  return b === undefined ? undefined : utf8.decode(b);
}

/** Follows a path of message fields; the last one is returned as its flat field. */
export function atPath(bytes: Uint8Array | undefined, path: FieldPath): FlatField | undefined {
  let cur = bytes;
  for (let i = 0; i < path.length; i++) {
    if (!cur) return undefined;
    const f = first(flat(cur), path[i]!);
    if (!f) return undefined;
    if (i === path.length - 1) return f;
    if (f.wire !== 2) return undefined;
    cur = f.bytes;
  }
  return undefined;
}

/** The first of several alternative paths that leads to non-empty printable text. */
export function textAt(bytes: Uint8Array | undefined, paths: FieldPath[]): string | undefined {
  for (const p of paths) {
    const f = atPath(bytes, p);
    if (f?.wire !== 2 || !f.bytes || f.bytes.length === 0) continue;
    const text = strictText(f.bytes);
    if (text !== undefined) return text;
  }
  return undefined;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

export function strictText(b: Uint8Array): string | undefined {
  try {
    const t = strictUtf8.decode(b);
    // A nested message is rarely free of control bytes; text rarely has them (tab/newline aside).
    return /[\x00-\x08\x0b\x0c\x0e-\x1f]/.test(t) ? undefined : t;
  } catch {
    return undefined;
  }
}

/** A sub-message as a plain object: named fields read exactly, the others through the schema-less decoder. */
export function toObject(bytes: Uint8Array, names: FieldNames = {}): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const repeated = new Set<string>();
  const put = (key: string, value: unknown) => {
    if (!(key in out)) out[key] = value;
    else if (repeated.has(key)) (out[key] as unknown[]).push(value);
    else {
      repeated.add(key);
      out[key] = [out[key], value];
    }
  };
  const tree = decodeProtobuf(bytes).fields;
  const flatFields = flat(bytes);
  for (const f of flatFields) {
    const spec = names[String(f.field)];
    const [name, kind] = spec ? (spec.split(':') as [string, string | undefined]) : [String(f.field), undefined];
    if (f.wire !== 2) {
      put(name, f.num);
      continue;
    }
    const b = f.bytes!;
    if (kind === 'struct') {
      put(name, structToJson(b));
      continue;
    }
    const text = spec ? strictText(b) : undefined;
    if (text !== undefined) {
      put(name, text);
      continue;
    }
    const node = tree.find((t) => t.offset === f.offset);
    put(name, node ? pbToPlain(node) : Buffer.from(b).toString('hex'));
  }
  return out;
}

function pbToPlain(f: PbField): unknown {
  const v = f.value;
  switch (v.kind) {
    case 'string':
      return v.text;
    case 'varint':
    case 'fixed32':
    case 'fixed64':
      return v.value;
    case 'bytes':
      return v.hex;
    case 'message':
    case 'group': {
      const o: Record<string, unknown> = {};
      for (const c of v.fields) {
        const k = String(c.field);
        const val = pbToPlain(c);
        if (!(k in o)) o[k] = val;
        else o[k] = Array.isArray(o[k]) ? [...(o[k] as unknown[]), val] : [o[k], val];
      }
      return o;
    }
  }
}

/** google.protobuf.Struct → JSON object (fields = 1: map entries {key 1, value 2}). */
export function structToJson(bytes: Uint8Array, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const entry of flat(bytes)) {
    if (entry.field !== 1 || !entry.bytes) continue;
    const e = flat(entry.bytes);
    const key = textOf(e, 1) ?? '';
    const value = sub(e, 2);
    out[key] = value ? valueToJson(value, depth + 1) : null;
  }
  return out;
}

/** google.protobuf.Value → JSON. */
export function valueToJson(bytes: Uint8Array, depth: number): unknown {
  if (depth > 64) return null;
  const f = flat(bytes)[0];
  if (!f) return null;
  switch (f.field) {
    case 1:
      return null;
    case 2:
      return f.bytes && f.bytes.length === 8 ? new DataView(f.bytes.buffer, f.bytes.byteOffset, 8).getFloat64(0, true) : null;
    case 3:
      return f.bytes ? utf8.decode(f.bytes) : '';
    case 4:
      return f.num === 1;
    case 5:
      return f.bytes ? structToJson(f.bytes, depth + 1) : {};
    case 6:
      return flat(f.bytes).filter((x) => x.field === 1 && x.bytes).map((x) => valueToJson(x.bytes!, depth + 1));
    default:
      return null;
  }
}
