// What a tool call touches: the files it reads or writes and the commands it runs, read from
// the argument names agents use (Claude Code, Codex, Gemini CLI, opencode, Cursor).
const FILE_KEYS = ['file_path', 'filePath', 'path', 'notebook_path', 'filename', 'file', 'target_file', 'absolute_path', 'dir_path', 'directory'];
const FILE_LIST_KEYS = ['paths', 'files', 'file_paths'];
const COMMAND_KEYS = ['command', 'cmd', 'script'];
const OTHER_KEYS = ['pattern', 'query', 'url', 'glob'];

export interface Touches {
  files: string[];
  commands: string[];
  /** Search patterns, queries and URLs. */
  other: string[];
}

function asText(v: unknown): string | undefined {
  if (typeof v === 'string' && v.trim() !== '') return v;
  if (Array.isArray(v) && v.every((x) => typeof x === 'string') && v.length > 0) return (v as string[]).join(' ');
  return undefined;
}

export function toolTouches(input: unknown): Touches {
  const t: Touches = { files: [], commands: [], other: [] };
  if (!input || typeof input !== 'object' || Array.isArray(input)) return t;
  const o = input as Record<string, unknown>;
  for (const k of FILE_KEYS) if (typeof o[k] === 'string' && o[k]) t.files.push(o[k] as string);
  for (const k of FILE_LIST_KEYS) if (Array.isArray(o[k])) for (const f of o[k] as unknown[]) if (typeof f === 'string') t.files.push(f);
  for (const k of COMMAND_KEYS) {
    const c = asText(o[k]);
    if (c) t.commands.push(c);
  }
  for (const k of OTHER_KEYS) if (typeof o[k] === 'string' && o[k]) t.other.push(o[k] as string);
  // Codex apply_patch: the files are named in the patch itself.
  const patch = typeof o.input === 'string' ? o.input : typeof o.patch === 'string' ? o.patch : undefined;
  if (patch) for (const m of patch.matchAll(/^\*\*\* (?:Add|Update|Delete) File: (.+)$/gm)) t.files.push(m[1]!.trim());
  return t;
}
