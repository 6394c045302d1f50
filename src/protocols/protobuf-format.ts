// Text rendering of a schema-less protobuf tree, in the Cursor sniffer's style:
//   field 1 (wire=2): "hello"
//   field 2 (wire=2): {
//     field 1 (wire=0): 150
//   }
// with hints where a value has another plausible reading (zig-zag, int64, float/double, packed).
import { plausibleFloat, type PbField, type PbValue } from './protobuf-schemaless.js';

export interface FormatOptions {
  /** Indentation unit (default two spaces). */
  indent?: string;
  /** Longest string shown in full; longer ones are cut with a note (default: no limit). */
  maxString?: number;
  /** Longest bytes value shown as hex (default 64 bytes). */
  maxHexBytes?: number;
  /** Show each field's offset (`@12`). */
  offsets?: boolean;
  /**
   * The bytes the tree was decoded from (with `rawEnd`, where decoding stopped): each line then shows
   * the bytes it came from beside it (a container shows its tag and length).
   */
  raw?: Uint8Array;
  rawEnd?: number;
}

/** Bytes shown beside one line before they are cut with "…". */
const RAW_BYTES_PER_LINE = 12;

interface Line {
  text: string;
  raw?: string;
}

export function formatProtobufTree(fields: PbField[], opts: FormatOptions = {}): string[] {
  const lines: Line[] = [];
  write(fields, '', opts, lines, opts.rawEnd ?? opts.raw?.length ?? 0);
  if (!opts.raw) return lines.map((l) => l.text);
  const width = Math.min(72, Math.max(32, ...lines.filter((l) => l.raw).map((l) => l.text.length))) + 2;
  return lines.map((l) => (l.raw ? `${l.text.length < width ? l.text.padEnd(width) : `${l.text}  `}${l.raw}` : l.text));
}

function write(fields: PbField[], pad: string, opts: FormatOptions, lines: Line[], end: number): void {
  const unit = opts.indent ?? '  ';
  fields.forEach((f, i) => {
    // A field runs to the next sibling's tag, the last one to the end of its parent.
    const fieldEnd = i + 1 < fields.length ? fields[i + 1]!.offset : end;
    const head = `${pad}field ${f.field} (wire=${f.wire})${opts.offsets ? ` @${f.offset}` : ''}: `;
    const v = f.value;
    if (v.kind === 'message' || v.kind === 'group') {
      const headerEnd = v.kind === 'message' && f.size !== undefined ? fieldEnd - f.size : v.fields[0]?.offset ?? fieldEnd;
      lines.push({ text: `${head}${v.kind === 'group' ? 'group ' : ''}{`, ...rawOf(opts.raw, f.offset, headerEnd) });
      write(v.fields, pad + unit, opts, lines, fieldEnd);
      lines.push({ text: `${pad}}` });
    } else {
      lines.push({ text: head + formatScalar(v, opts), ...rawOf(opts.raw, f.offset, fieldEnd) });
    }
  });
}

function rawOf(raw: Uint8Array | undefined, start: number, end: number): { raw?: string } {
  if (!raw || end <= start || start < 0 || end > raw.length) return {};
  const n = Math.min(end - start, RAW_BYTES_PER_LINE);
  const hex = Array.from(raw.subarray(start, start + n), (b) => b.toString(16).padStart(2, '0')).join(' ');
  return { raw: end - start > n ? `${hex} … (${end - start} bytes)` : hex };
}

export function formatScalar(v: PbValue, opts: FormatOptions = {}): string {
  switch (v.kind) {
    case 'varint': {
      const hints: string[] = [];
      if (v.signed !== undefined) hints.push(`int64 ${v.signed}`);
      if (typeof v.value === 'string' || v.value > 1) hints.push(`sint ${v.zigzag}`);
      return hints.length ? `${v.value} (${hints.join(', ')})` : String(v.value);
    }
    case 'fixed64': {
      const hints: string[] = [];
      if (plausibleFloat(v.double)) hints.push(`double ${v.double}`);
      if (v.signed !== v.value) hints.push(`int64 ${v.signed}`);
      return hints.length ? `${v.value} (${hints.join(', ')})` : String(v.value);
    }
    case 'fixed32': {
      const hints: string[] = [];
      if (plausibleFloat(v.float)) hints.push(`float ${v.float}`);
      if (v.signed !== v.value) hints.push(`int32 ${v.signed}`);
      return hints.length ? `${v.value} (${hints.join(', ')})` : String(v.value);
    }
    case 'string': {
      const max = opts.maxString ?? Infinity;
      if (v.text.length <= max) return JSON.stringify(v.text);
      return `${JSON.stringify(v.text.slice(0, max))}… (${v.text.length} chars)`;
    }
    case 'bytes': {
      const max = opts.maxHexBytes ?? 64;
      const n = v.hex.length / 2;
      const hex = n > max ? `${v.hex.slice(0, max * 2)}…` : v.hex;
      let out = `bytes[${n}] ${hex}`;
      if (v.packed?.varints) out += ` (packed varints: ${short(v.packed.varints)})`;
      else if (v.packed?.floats) out += ` (packed floats: ${short(v.packed.floats)})`;
      else if (v.packed?.doubles) out += ` (packed doubles: ${short(v.packed.doubles)})`;
      return out;
    }
    case 'message':
    case 'group':
      return `{ ${v.fields.length} fields }`;
  }
}

function short(values: (number | string)[]): string {
  const head = values.slice(0, 16).join(', ');
  return values.length > 16 ? `${head}, … ${values.length} values` : head;
}

/** A classic hex dump (offset, 16 bytes, ASCII), for `decode --raw`. */
export function hexDump(bytes: Uint8Array, maxBytes = 4096): string[] {
  const lines: string[] = [];
  const n = Math.min(bytes.length, maxBytes);
  for (let i = 0; i < n; i += 16) {
    const row = bytes.subarray(i, Math.min(i + 16, n));
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, '0')).join(' ');
    const ascii = Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${i.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  |${ascii}|`);
  }
  if (bytes.length > n) lines.push(`… ${bytes.length - n} more bytes`);
  return lines;
}
