// Readable text out of any binary body, as the LLM tracer's extract_text did for Cursor traffic:
// the strings (protobuf string fields when the body parses as protobuf, else printable UTF-8 runs),
// which of them read like prompts or instructions, the tool names mentioned (codebase_search,
// read_file, …) and the URLs.
import { decodeProtobuf, type PbField } from './protobuf-schemaless.js';

export interface TextRun {
  /** Byte offset of the run (of the field's tag for protobuf strings). */
  offset: number;
  text: string;
}

export interface ReadableText {
  /** How `strings` were found. */
  source: 'protobuf' | 'runs';
  strings: TextRun[];
  prompts: string[];
  toolNames: string[];
  urls: string[];
}

export interface ReadableTextOptions {
  /** Shortest printable run kept, in characters (default 4). */
  minRun?: number;
  /** Tool names to look for in addition to the built-in list. */
  knownTools?: readonly string[];
  /** Stop after this many strings (default 10 000). */
  maxStrings?: number;
}

/** Tool names agents commonly send (Cursor, Claude Code, Codex, Gemini CLI). */
export const KNOWN_TOOL_NAMES: readonly string[] = [
  'codebase_search', 'glob_file_search', 'read_file', 'run_terminal_cmd', 'grep_search', 'file_search',
  'edit_file', 'search_replace', 'list_dir', 'delete_file', 'web_search', 'fetch_rules', 'read_lints',
  'todo_write', 'create_plan', 'apply_patch', 'write_file', 'shell', 'update_plan', 'web_fetch',
];

export function extractReadableText(bytes: Uint8Array, opts: ReadableTextOptions = {}): ReadableText {
  const maxStrings = opts.maxStrings ?? 10_000;
  const minRun = opts.minRun ?? 4;
  let source: ReadableText['source'] = 'runs';
  let strings: TextRun[] = [];
  const pb = bytes.length > 0 ? decodeProtobuf(bytes, { maxFields: 200_000 }) : undefined;
  if (pb && !pb.error && pb.fields.length > 0) {
    collectStrings(pb.fields, strings, maxStrings, minRun);
    if (strings.length > 0) source = 'protobuf';
  }
  if (source === 'runs') strings = printableRuns(bytes, minRun, maxStrings);

  const known = new Set([...KNOWN_TOOL_NAMES, ...(opts.knownTools ?? [])]);
  const prompts: string[] = [];
  const tools = new Set<string>();
  const urls = new Set<string>();
  const seenPrompts = new Set<string>();
  for (const { text } of strings) {
    if (looksLikePrompt(text) && !seenPrompts.has(text)) {
      seenPrompts.add(text);
      prompts.push(text);
    }
    const trimmed = text.trim();
    if (/^[a-z][a-z0-9]*(?:_[a-z0-9]+){1,5}$/.test(trimmed) && trimmed.length <= 48 && !/\d{4,}/.test(trimmed)) tools.add(trimmed);
    for (const m of text.matchAll(/[A-Za-z_][A-Za-z0-9_]*/g)) if (known.has(m[0])) tools.add(m[0]);
    for (const m of text.matchAll(/\bhttps?:\/\/[^\s"'<>\\`{}|^\x00-\x1f]+/g)) urls.add(m[0].replace(/[).,;:!?\]]+$/, ''));
  }
  return { source, strings, prompts, toolNames: [...tools], urls: [...urls] };
}

function collectStrings(fields: PbField[], out: TextRun[], max: number, minRun: number): void {
  for (const f of fields) {
    if (out.length >= max) return;
    const v = f.value;
    if (v.kind === 'string') {
      if (v.text.length >= minRun) out.push({ offset: f.offset, text: v.text });
    } else if (v.kind === 'message' || v.kind === 'group') {
      collectStrings(v.fields, out, max, minRun);
    }
  }
}

/** Runs of printable UTF-8 characters (tab, CR and LF included) at least `minRun` characters long. */
export function printableRuns(bytes: Uint8Array, minRun = 4, max = 10_000): TextRun[] {
  const out: TextRun[] = [];
  let start = -1;
  let chars = 0;
  let i = 0;
  const flush = (end: number) => {
    if (start >= 0 && chars >= minRun && out.length < max) {
      out.push({ offset: start, text: Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8') });
    }
    start = -1;
    chars = 0;
  };
  while (i < bytes.length) {
    const len = printableCharLength(bytes, i);
    if (len === 0) {
      flush(i);
      i++;
      continue;
    }
    if (start < 0) start = i;
    chars++;
    i += len;
  }
  flush(i);
  return out;
}

/** Length in bytes of a printable UTF-8 character at `i`, or 0. */
function printableCharLength(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return (c >= 0x20 && c !== 0x7f) || c === 9 || c === 10 || c === 13 ? 1 : 0;
  let need: number;
  let cp: number;
  if (c >= 0xc2 && c <= 0xdf) {
    need = 1;
    cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    need = 2;
    cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    need = 3;
    cp = c & 0x07;
  } else return 0;
  for (let k = 1; k <= need; k++) {
    const cc = b[i + k];
    if (cc === undefined || (cc & 0xc0) !== 0x80) return 0;
    cp = (cp << 6) | (cc & 0x3f);
  }
  if ((need === 2 && cp < 0x800) || (need === 3 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  if (cp < 0xa0) return 0;
  return need + 1;
}

/** Natural-language text of some length: several words, mostly letters and spaces. */
export function looksLikePrompt(text: string): boolean {
  const t = text.trim();
  if (t.length < 20) return false;
  const words = t.split(/\s+/).filter((w) => /\p{L}{2,}/u.test(w));
  if (words.length < 4) return false;
  if (/^[\[{]/.test(t) && /[\]}]$/.test(t)) return false;
  let letters = 0;
  for (const ch of t) if (/[\p{L}\s]/u.test(ch)) letters++;
  return letters / [...t].length >= 0.7;
}
