// The Conversation tab: the normalized exchange as chat bubbles. Thinking is collapsed, each tool
// call is shown with its result (matched by id, from the same or the next request), images noted.
import { useState } from 'preact/hooks';
import type { Block, LlmExchange, Turn } from '../../../src/llm/types.js';
import { JsonTree } from './JsonTree.js';

function pretty(v: unknown): string {
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v, null, 2);
  } catch {
    return String(v);
  }
}

function Clamp({ text, limit = 4000 }: { text: string; limit?: number }) {
  const [all, setAll] = useState(false);
  if (all || text.length <= limit) return <div class="b-text">{text}</div>;
  return (
    <div class="b-text">
      {text.slice(0, limit)}
      <button class="linkish" onClick={() => setAll(true)}>
        … show all ({text.length.toLocaleString('en-US')} chars)
      </button>
    </div>
  );
}

function ToolResult({ block }: { block: Extract<Block, { type: 'tool_result' }> }) {
  return (
    <div class={`tool-result${block.isError ? ' is-error' : ''}`}>
      <div class="tool-head">
        ↳ result{block.isError ? ' (error)' : ''} {block.id ? <span class="dim">{block.id}</span> : null}
      </div>
      {block.output === '' || block.output === undefined || block.output === null ? (
        <div class="dim">(empty)</div>
      ) : typeof block.output === 'string' ? (
        <Clamp text={block.output} limit={2000} />
      ) : (
        <JsonTree value={block.output} open={1} />
      )}
    </div>
  );
}

function BlockView({ block, results }: { block: Block; results: Map<string, Extract<Block, { type: 'tool_result' }>> }) {
  switch (block.type) {
    case 'text':
      return (
        <div class={block.refusal ? 'refusal' : ''}>
          {block.refusal ? <div class="tag">refusal</div> : null}
          <Clamp text={block.text} />
        </div>
      );
    case 'thinking':
      return (
        <details class="thinking">
          <summary>thinking ({block.text.length.toLocaleString('en-US')} chars)</summary>
          <Clamp text={block.text} />
        </details>
      );
    case 'tool_call': {
      const result = block.id ? results.get(block.id) : undefined;
      return (
        <div class="tool-call">
          <div class="tool-head">
            ⚙ <b>{block.name}</b>
            {block.server ? <span class="tag">server tool</span> : null} {block.id ? <span class="dim">{block.id}</span> : null}
          </div>
          {typeof block.input === 'string' ? <pre class="b-pre">{block.input}</pre> : <JsonTree value={block.input} open={1} />}
          {result ? <ToolResult block={result} /> : null}
        </div>
      );
    }
    case 'tool_result':
      return <ToolResult block={block} />;
    case 'image':
      return <div class="tag">[image]{block.mediaType ? ` (${block.mediaType})` : ''}</div>;
    default:
      return (
        <details>
          <summary class="dim">other block</summary>
          <pre class="b-pre">{pretty(block.raw)}</pre>
        </details>
      );
  }
}

function Bubble({ turn, results, paired, index }: { turn: Turn; results: Map<string, Extract<Block, { type: 'tool_result' }>>; paired: Set<string>; index: number }) {
  const blocks = turn.blocks.filter((b) => !(b.type === 'tool_result' && b.id && paired.has(b.id)));
  if (blocks.length === 0) return null;
  return (
    <div class={`bubble role-${turn.role}`} data-role={turn.role} data-index={index}>
      <div class="bubble-role">{turn.role}</div>
      {blocks.map((b, i) => (
        <BlockView key={i} block={b} results={results} />
      ))}
    </div>
  );
}

export function Conversation({ x, live = false }: { x: LlmExchange; live?: boolean }) {
  const turns: Turn[] = [...x.request.turns, ...x.response.turns];
  // Pair tool calls with their results so each call reads as one unit.
  const results = new Map<string, Extract<Block, { type: 'tool_result' }>>();
  const callIds = new Set<string>();
  for (const t of turns)
    for (const b of t.blocks) {
      if (b.type === 'tool_result' && b.id) results.set(b.id, b);
      if (b.type === 'tool_call' && b.id) callIds.add(b.id);
    }
  const paired = new Set([...results.keys()].filter((id) => callIds.has(id)));
  const requestCount = x.request.turns.length;
  return (
    <div class="conversation">
      {x.request.system ? (
        <details class="bubble role-system" open={x.request.system.length < 600}>
          <summary class="bubble-role">system ({x.request.system.length.toLocaleString('en-US')} chars)</summary>
          <Clamp text={x.request.system} />
        </details>
      ) : null}
      {x.request.tools.length ? (
        <details class="tools-list">
          <summary class="dim">{x.request.tools.length} tools offered</summary>
          <ul>
            {x.request.tools.map((t) => (
              <li key={t.name}>
                <b>{t.name}</b> <span class="dim">{t.description?.slice(0, 200)}</span>
              </li>
            ))}
          </ul>
        </details>
      ) : null}
      {turns.map((t, i) => (
        <>
          {i === requestCount ? <div class="divider">response</div> : null}
          <Bubble key={i} turn={t} results={results} paired={paired} index={i} />
        </>
      ))}
      {live ? (
        <div class="divider live-note" data-testid="streaming">
          streaming…
        </div>
      ) : null}
      {!live && x.response.turns.length === 0 && !x.response.error ? <div class="divider">no response</div> : null}
      {/* A stream cut short is only an error once the exchange is over. */}
      {x.response.error && !live ? <div class="error-box">{x.response.error}</div> : null}
      {x.response.stopReason ? <div class="dim stop">stop: {x.response.stopReason}</div> : null}
    </div>
  );
}
