// The virtualized request list: only the rows in view (plus a margin) exist in the DOM, so
// 100,000 rows scroll as smoothly as 100. Newest at the bottom; auto-scroll follows the tail
// unless paused or the user scrolled up.
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { Row } from '../../../src/server/protocol.js';
import { agentBadge, agentColour, bytes, clock, contextColour, ms, statusClass } from '../format.js';

export const ROW_HEIGHT = 24;
const OVERSCAN = 12;

interface Props {
  rows: readonly Row[];
  selected: string | undefined;
  onSelect(id: string): void;
  autoScroll: boolean;
  older: number;
  onLoadOlder(all: boolean): void;
  loadingOlder: boolean;
  onContext(ctx: string): void;
}

export function RequestList(p: Props) {
  const box = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);
  const stick = useRef(true);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    setHeight(el.clientHeight);
    return () => ro.disconnect();
  }, []);

  const extra = p.older > 0 ? 1 : 0;
  const total = p.rows.length + extra;

  // Follow the tail when new rows arrive, if the user is at the bottom and auto-scroll is on.
  useLayoutEffect(() => {
    const el = box.current;
    if (el && p.autoScroll && stick.current) {
      el.scrollTop = el.scrollHeight;
      setScrollTop(el.scrollTop);
    }
  }, [p.rows, p.autoScroll]);

  // Keep the selection in view (keyboard navigation).
  useLayoutEffect(() => {
    const el = box.current;
    if (!el || !p.selected) return;
    const i = p.rows.findIndex((r) => r.id === p.selected);
    if (i < 0) return;
    const top = (i + extra) * ROW_HEIGHT;
    if (top < el.scrollTop) el.scrollTop = top;
    else if (top + ROW_HEIGHT > el.scrollTop + el.clientHeight) el.scrollTop = top + ROW_HEIGHT - el.clientHeight;
  }, [p.selected]);

  const onScroll = (): void => {
    const el = box.current;
    if (!el) return;
    setScrollTop(el.scrollTop);
    stick.current = el.scrollTop + el.clientHeight >= el.scrollHeight - ROW_HEIGHT;
  };

  const first = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT) - OVERSCAN);
  const last = Math.min(total, Math.ceil((scrollTop + height) / ROW_HEIGHT) + OVERSCAN);
  const items = [];
  for (let i = first; i < last; i++) {
    if (extra && i === 0) {
      items.push(
        <div class="row older" key="older" style={{ top: '0px' }}>
          <span>{p.older.toLocaleString('en-US')} older exchanges</span>
          <button disabled={p.loadingOlder} onClick={() => p.onLoadOlder(false)}>
            load 5,000 more
          </button>
          <button disabled={p.loadingOlder} onClick={() => p.onLoadOlder(true)}>
            load all
          </button>
        </div>,
      );
      continue;
    }
    const r = p.rows[i - extra]!;
    items.push(<ListRow key={r.seq} row={r} top={i * ROW_HEIGHT} selected={r.id === p.selected} onSelect={p.onSelect} onContext={p.onContext} />);
  }

  return (
    <div class="list" ref={box} onScroll={onScroll} role="listbox" aria-label="exchanges" data-rows={p.rows.length}>
      <div class="list-inner" style={{ height: `${total * ROW_HEIGHT}px` }}>
        {items}
      </div>
    </div>
  );
}

function ListRow({ row: r, top, selected, onSelect, onContext }: { row: Row; top: number; selected: boolean; onSelect(id: string): void; onContext(c: string): void }) {
  const tokens = r.tin !== undefined || r.tout !== undefined ? `${r.tin ?? '–'}→${r.tout ?? '–'}` : '';
  return (
    <div
      class={`row${selected ? ' sel' : ''}${r.state === 'live' ? ' live' : ''}`}
      style={{ top: `${top}px` }}
      role="option"
      aria-selected={selected}
      data-id={r.id}
      onClick={() => onSelect(r.id)}
    >
      <span
        class="ctx"
        title={r.ctx ? `context ${r.ctx} (click: same context only)` : ''}
        style={r.ctx ? { background: contextColour(r.ctx) } : undefined}
        onClick={(e) => {
          if (r.ctx) {
            e.stopPropagation();
            onContext(r.ctx);
          }
        }}
      />
      <span class="c-time">{clock(r.t)}</span>
      <span class="c-method">{r.method}</span>
      <span class={`c-status ${statusClass(r.status, r.state)}`}>{r.state === 'live' ? (r.status !== undefined ? `${r.status}…` : '…') : (r.status ?? (r.err ? '✕' : ''))}</span>
      <span class="c-agent">
        {r.agent ? (
          <span class="badge" title={r.agent} style={{ background: agentColour(r.agent) }}>
            {agentBadge(r.agent)}
          </span>
        ) : null}
      </span>
      <span class="c-what" title={`${r.host}${r.path}`}>
        {r.model ? <b>{r.model}</b> : null}
        {r.model ? ' ' : ''}
        <span class="dim">
          {r.provider ? `${r.provider} · ` : ''}
          {r.host}
          {r.path}
        </span>
      </span>
      <span class="c-tok">{tokens}</span>
      <span class="c-size">{bytes(r.size)}</span>
      <span class="c-dur">{r.state === 'live' ? 'live' : ms(r.dur)}</span>
      {r.note ? <span class="c-note" title="has a note">✎</span> : null}
      {r.replayOf ? <span class="c-note" title={`replay of ${r.replayOf}`}>↻</span> : null}
    </div>
  );
}
