// The Request and Response tabs: raw text, a JSON tree, the SSE event list with a raw ↔ merged
// toggle (merged comes from the server's LLM layer and updates live while the stream runs),
// a protobuf tree for Connect/gRPC bodies, and WebSocket messages. Bodies are only ever text nodes.
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { Detail } from '../../../src/server/protocol.js';
import type { HeaderList, RecordBody } from '../../../src/capture/record.js';
import { api } from '../api.js';
import { bytes } from '../format.js';
import { parseSse } from '../sse.js';
import { JsonTree } from './JsonTree.js';
import { Conversation } from './Conversation.js';

type Mode = 'raw' | 'json' | 'events' | 'merged' | 'protobuf' | 'ws';

function contentType(h: HeaderList | undefined): string {
  return h?.find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? '';
}

function tryJson(text: string): { ok: true; value: unknown } | { ok: false } {
  const t = text.trimStart();
  if (!t.startsWith('{') && !t.startsWith('[')) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

export function BodyView({ detail, side, store }: { detail: Detail; side: 'request' | 'response'; store: string }) {
  const part = detail.record[side];
  const body: RecordBody | undefined = part?.body;
  const [full, setFull] = useState<string | undefined>(undefined);
  const clippedFrom = detail.clipped[side];
  useEffect(() => setFull(undefined), [detail.record.id, side]);
  const text = full ?? body?.text ?? (body?.base64 !== undefined ? `(binary, base64)\n${body.base64}` : '');
  const ct = contentType(part?.headers);
  const isSse = /event-stream/i.test(ct) || (side === 'response' && /^(event|data):/m.test(text.slice(0, 200)));
  const json = useMemo(() => (isSse ? ({ ok: false } as const) : tryJson(text)), [text, isSse]);
  const pb = detail.protobuf?.[side];
  const ws = side === 'response' && detail.record.ws?.length ? detail.record.ws : undefined;
  const modes: Mode[] = ['raw'];
  if (json.ok) modes.push('json');
  if (isSse) modes.push('events');
  if (isSse && detail.llm) modes.push('merged');
  if (pb !== undefined) modes.push('protobuf');
  if (ws) modes.push('ws');
  const preferred: Mode = ws ? 'ws' : pb !== undefined ? 'protobuf' : isSse ? (detail.llm ? 'merged' : 'events') : json.ok ? 'json' : 'raw';
  const [mode, setMode] = useState<Mode | undefined>(undefined);
  const current = mode && modes.includes(mode) ? mode : preferred;

  if (!part) return <div class="empty">{side === 'response' ? (detail.row.state === 'live' ? 'waiting for the response…' : 'no response') : 'no request'}</div>;

  return (
    <div class="body-view">
      <div class="body-bar">
        {modes.map((m) => (
          <button key={m} class={`seg${m === current ? ' on' : ''}`} onClick={() => setMode(m)} data-mode={m}>
            {m === 'events' ? 'SSE events (raw)' : m === 'merged' ? 'merged' : m === 'ws' ? 'messages' : m === 'json' ? 'JSON tree' : m}
          </button>
        ))}
        <span class="dim">
          {ct || 'no content-type'} · {bytes(body?.size ?? 0)}
          {body?.wireSize !== undefined && body.contentEncoding ? ` (${bytes(body.wireSize)} ${body.contentEncoding} on the wire)` : ''}
          {body?.truncated ? ' · truncated when recorded' : ''}
          {detail.row.state === 'live' && side === 'response' ? ' · streaming…' : ''}
        </span>
      </div>
      {clippedFrom && full === undefined ? (
        <div class="banner">
          Showing the first {bytes(text.length)} of {bytes(clippedFrom)}.{' '}
          <button
            onClick={() =>
              void api.body(store, detail.record.id, side).then((b) => setFull(b.text ?? (b.base64 !== undefined ? `(binary, base64)\n${b.base64}` : '')))
            }
          >
            show all
          </button>
        </div>
      ) : null}
      {current === 'raw' ? <pre class="raw" data-testid={`${side}-raw`}>{text}</pre> : null}
      {current === 'json' && json.ok ? <div class="json"><JsonTree value={json.value} /></div> : null}
      {current === 'events' ? <SseList text={text} /> : null}
      {current === 'merged' && detail.llm ? (
        <div class="merged" data-testid="merged">
          <Conversation x={{ ...detail.llm, request: { ...detail.llm.request, turns: [], system: undefined, tools: [] } }} live={detail.row.state === 'live'} />
        </div>
      ) : null}
      {current === 'protobuf' ? <div class="json"><JsonTree value={pb} open={3} /></div> : null}
      {current === 'ws' && ws ? (
        <div class="ws-list">
          {ws.slice(0, 2000).map((m, i) => (
            <div key={i} class={`ws-msg from-${m.from}`}>
              <span class="dim">
                {m.t.toFixed(1)} ms · {m.from === 'client' ? '↑' : '↓'} {m.type} {m.size !== undefined ? bytes(m.size) : ''}
              </span>
              <pre class="b-pre">{m.text ?? (m.base64 !== undefined ? `(base64) ${m.base64}` : '')}</pre>
            </div>
          ))}
        </div>
      ) : null}
    </div>
  );
}

function SseList({ text }: { text: string }) {
  const { events, more } = useMemo(() => parseSse(text), [text]);
  return (
    <div class="sse-list" data-testid="sse-events">
      <div class="dim">
        {events.length}
        {more ? '+' : ''} events
      </div>
      {events.map((e, i) => {
        const j = tryJson(e.data);
        return (
          <details key={i} class="sse-ev">
            <summary>
              <span class="sse-name">{e.event ?? 'message'}</span> <span class="dim">{e.data.slice(0, 160)}</span>
            </summary>
            {j.ok ? <JsonTree value={j.value} open={3} /> : <pre class="b-pre">{e.data}</pre>}
          </details>
        );
      })}
    </div>
  );
}
