// A collapsible JSON tree. Children render only when expanded, so a 5 MB request body opens
// instantly; every value is a text node (never HTML).
import { useState } from 'preact/hooks';

const PAGE = 200;

export function JsonTree({ value, name, depth = 0, open = 2 }: { value: unknown; name?: string; depth?: number; open?: number }) {
  const [expanded, setExpanded] = useState(depth < open);
  const [shown, setShown] = useState(PAGE);
  const label = name !== undefined ? <span class="j-key">{name}: </span> : null;
  if (value === null || typeof value !== 'object') {
    const cls = value === null ? 'j-null' : typeof value === 'string' ? 'j-str' : typeof value === 'number' ? 'j-num' : 'j-bool';
    // Strings show their real line breaks (tool inputs are often whole files), quoted.
    const text = typeof value === 'string' ? `"${value}"` : String(value);
    return (
      <div class="j-line">
        {label}
        <span class={cls}>{text.length > 20000 ? `${text.slice(0, 20000)}… (${text.length.toLocaleString('en-US')} chars)` : text}</span>
      </div>
    );
  }
  const isArray = Array.isArray(value);
  const entries: [string, unknown][] = isArray ? (value as unknown[]).map((v, i) => [String(i), v]) : Object.entries(value as Record<string, unknown>);
  const summary = isArray ? `[${entries.length}]` : `{${entries.length}}`;
  return (
    <div class="j-node">
      <div class="j-line j-toggle" onClick={() => setExpanded(!expanded)}>
        <span class="j-caret">{expanded ? '▾' : '▸'}</span>
        {label}
        <span class="dim">{summary}</span>
      </div>
      {expanded ? (
        <div class="j-children">
          {entries.slice(0, shown).map(([k, v]) => (
            <JsonTree key={k} name={k} value={v} depth={depth + 1} open={open} />
          ))}
          {entries.length > shown ? (
            <button class="linkish" onClick={() => setShown(shown + PAGE * 5)}>
              show more ({entries.length - shown} left)
            </button>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
