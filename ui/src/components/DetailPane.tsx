// The detail pane of the selected exchange: a summary line, Replay and a note, and the tabs.
import { useEffect, useState } from 'preact/hooks';
import type { Detail } from '../../../src/server/protocol.js';
import { api } from '../api.js';
import { ms } from '../format.js';
import { BodyView } from './BodyView.js';
import { Conversation } from './Conversation.js';
import { HeadersTab } from './HeadersTab.js';
import { LlmTab } from './LlmTab.js';
import { TimingTab } from './TimingTab.js';

export type Tab = 'conversation' | 'headers' | 'request' | 'response' | 'timing' | 'llm';
const TABS: [Tab, string][] = [
  ['conversation', 'Conversation'],
  ['headers', 'Headers'],
  ['request', 'Request'],
  ['response', 'Response'],
  ['timing', 'Timing'],
  ['llm', 'LLM'],
];

interface Props {
  detail: Detail | undefined;
  error: string | undefined;
  store: string;
  canReplay: boolean;
  tab: Tab;
  onTab(t: Tab): void;
  onSelectId(id: string): void;
}

export function DetailPane(p: Props) {
  const d = p.detail;
  const [note, setNote] = useState('');
  const [noteOpen, setNoteOpen] = useState(false);
  const [status, setStatus] = useState('');
  useEffect(() => {
    setNote(d?.annotation?.note ?? '');
    setNoteOpen(Boolean(d?.annotation));
  }, [d?.record.id, d?.annotation?.at]);
  // Only a new selection clears the last action's message (a saved note refreshes the detail).
  useEffect(() => setStatus(''), [d?.record.id]);
  if (p.error) return <div class="detail empty">{p.error}</div>;
  if (!d) return <div class="detail empty">Select an exchange (↑/↓ to move, / to search).</div>;
  const tab = !d.llm && p.tab === 'conversation' ? 'headers' : p.tab;
  const r = d.record;
  const save = async (): Promise<void> => {
    try {
      await api.annotate(p.store, r.id, note);
      setStatus(note.trim() ? 'note saved' : 'note removed');
    } catch (e) {
      setStatus(`could not save: ${(e as Error).message}`);
    }
  };
  const replay = async (): Promise<void> => {
    setStatus('replaying…');
    try {
      const res = await api.replay(p.store, r.id);
      setStatus(`replayed: upstream answered ${res.status}; the new exchange is in the list`);
    } catch (e) {
      setStatus((e as Error).message.startsWith('replay') ? (e as Error).message : `replay failed: ${(e as Error).message}`);
    }
  };
  return (
    <div class="detail">
      <div class="detail-head">
        <div class="detail-title" title={r.request?.url}>
          <b>{r.request?.method ?? r.kind}</b> {r.request?.url ?? `${r.server.host}:${r.server.port}`}
        </div>
        <div class="detail-sub dim">
          {d.row.status ?? (d.row.state === 'live' ? 'waiting for the response' : 'no response')} · {d.row.state === 'live' ? 'in flight' : ms(d.row.dur)} · {r.id}
          {r.replayOf ? (
            <>
              {' '}· replay of{' '}
              <button class="linkish" onClick={() => p.onSelectId(r.replayOf!)}>
                {r.replayOf.slice(0, 13)}…
              </button>
            </>
          ) : null}
        </div>
        <div class="detail-actions">
          <button onClick={() => setNoteOpen(!noteOpen)} data-testid="note-toggle">
            ✎ note
          </button>
          <button disabled={!p.canReplay || r.kind !== 'http'} title={p.canReplay ? 'resend through the proxy' : 'replay needs a live proxy (agenttap proxy --ui)'} onClick={() => void replay()}>
            ↻ replay
          </button>
          <span class="dim" data-testid="action-status">
            {status}
          </span>
        </div>
        {noteOpen ? (
          <div class="note-box">
            <textarea value={note} placeholder="a note on this exchange (saved beside the capture)" onInput={(e) => setNote((e.target as HTMLTextAreaElement).value)} />
            <button onClick={() => void save()}>save note</button>
          </div>
        ) : null}
      </div>
      <div class="tabs" role="tablist">
        {TABS.map(([t, label]) => (
          <button key={t} role="tab" class={`tab${t === tab ? ' on' : ''}`} disabled={t === 'conversation' && !d.llm} onClick={() => p.onTab(t)} data-tab={t}>
            {label}
          </button>
        ))}
      </div>
      <div class="tab-body">
        {tab === 'conversation' && d.llm ? <Conversation x={d.llm} live={d.row.state === 'live'} /> : null}
        {tab === 'headers' ? <HeadersTab detail={d} /> : null}
        {tab === 'request' ? <BodyView detail={d} side="request" store={p.store} /> : null}
        {tab === 'response' ? <BodyView detail={d} side="response" store={p.store} /> : null}
        {tab === 'timing' ? <TimingTab detail={d} /> : null}
        {tab === 'llm' ? <LlmTab detail={d} /> : null}
      </div>
    </div>
  );
}
