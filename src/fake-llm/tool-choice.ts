// How the fake upstream picks a tool call from the tools a real agent offers, so that agents run a
// real tool round trip: a shell tool runs `echo agenttap-tool-ok`; otherwise the first tool is
// called with arguments filled from its JSON schema.

export const TOOL_MARKER = 'agenttap-tool-ok';

export interface OfferedTool {
  name: string;
  /** JSON Schema of the arguments (OpenAI `parameters`, Gemini `parameters`/`parametersJsonSchema`). */
  schema?: unknown;
}

interface Schema {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  enum?: unknown[];
  items?: Schema;
}

const SHELL_NAMES = ['exec_command', 'shell', 'shell_command', 'run_shell_command', 'bash', 'local_shell'];

function typeOf(s: Schema | undefined): string {
  const t = s?.type;
  return (Array.isArray(t) ? t[0] : t)?.toLowerCase() ?? 'string';
}

/** A value that satisfies `schema` (required properties only), with shell-ish strings where they fit. */
export function fillFromSchema(schema: unknown, key = ''): unknown {
  const s = (schema ?? {}) as Schema;
  if (s.enum?.length) return s.enum[0];
  switch (typeOf(s)) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const k of s.required ?? []) out[k] = fillFromSchema(s.properties?.[k], k);
      return out;
    }
    case 'array':
      return /command|cmd|argv/i.test(key) ? ['echo', TOOL_MARKER] : [];
    case 'integer':
    case 'number':
      return /timeout/i.test(key) ? 10000 : 1;
    case 'boolean':
      return false;
    default:
      if (/command|cmd/i.test(key)) return `echo ${TOOL_MARKER}`;
      if (/path|dir|file|workdir|cwd/i.test(key)) return '.';
      if (/pattern|glob/i.test(key)) return '*';
      return TOOL_MARKER;
  }
}

export interface ChosenCall {
  name: string;
  args: Record<string, unknown>;
}

export function chooseToolCall(tools: readonly OfferedTool[]): ChosenCall | undefined {
  if (!tools.length) return undefined;
  const shell = SHELL_NAMES.map((n) => tools.find((t) => t.name.toLowerCase() === n)).find(Boolean);
  const tool = shell ?? tools[0]!;
  const args = (fillFromSchema(tool.schema ?? { type: 'object' }) ?? {}) as Record<string, unknown>;
  if (shell) {
    const props = ((tool.schema ?? {}) as Schema).properties ?? {};
    // Some shell tools keep `command` optional; make sure one is there.
    for (const k of ['command', 'cmd']) {
      if (k in props && !(k in args)) args[k] = typeOf(props[k]) === 'array' ? ['echo', TOOL_MARKER] : `echo ${TOOL_MARKER}`;
    }
  }
  return { name: tool.name, args };
}

/** Text of a tool result to quote in the final answer (bounded). */
export function summarizeToolOutput(output: unknown): string {
  // Content-part arrays ([{type:"input_text", text}], MCP content) read best as their joined text.
  const parts = Array.isArray(output) ? output.filter((p): p is { text: string } => typeof (p as { text?: unknown })?.text === 'string') : [];
  const text = typeof output === 'string' ? output : parts.length ? parts.map((p) => p.text).join('').trim() : JSON.stringify(output ?? '');
  return text.length > 300 ? `${text.slice(0, 300)}…` : text;
}
