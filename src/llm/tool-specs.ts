// The tools a request offers, in the normalized shape. Each API names a tool in its own field
// (Anthropic `name`, Chat `function.name`, Responses `name` or an MCP server label); the family
// says where, this module does the rest the same way for all of them.
import { arr, isObject, str } from './record-json.js';
import type { ToolSpec } from './types.js';

export function toolSpecs(tools: unknown, pick: (tool: Record<string, unknown>) => { name?: string; description?: unknown }): ToolSpec[] {
  const out: ToolSpec[] = [];
  for (const t of arr(tools)) {
    if (!isObject(t)) continue;
    const { name, description } = pick(t);
    if (!name) continue;
    const spec: ToolSpec = { name };
    const d = str(description);
    if (d) spec.description = d;
    out.push(spec);
  }
  return out;
}
