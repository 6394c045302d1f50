// The agenttap inspector web UI: the live (or file) request list with filters on the left, the
// selected exchange's detail (or Stats) on the right, and the toolbar on top.
import { render } from 'preact';
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { BadLine } from '../../src/capture/reader.js';
import type { Detail, RecordingState, Row, ServerMessage, SessionMeta, StoreInfo } from '../../src/server/protocol.js';
import { api, connect, download, type Connection } from './api.js';
import { distinct, emptyFilters, predicate, type Filters } from './filters.js';
import { RequestList } from './components/RequestList.js';
import { DetailPane, type Tab } from './components/DetailPane.js';
import { StatsView } from './components/StatsView.js';
import './style.css';

const WIDTH_KEY = 'agenttap.listWidth';

function useTick(): [number, () => void] {
  const [v, setV] = useState(0);
  const frame = useRef(0);
  const bump = useCallback(() => {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      setV((x) => x + 1);
    });
  }, []);
  return [v, bump];
}

function App() {
  const [store, setStore] = useState('main');
  const [info, setInfo] = useState<StoreInfo | undefined>(undefined);
  const [mainLive, setMainLive] = useState(false);
  const [loading, setLoading] = useState<{ bytes: number; total: number; rows: number } | undefined>(undefined);
  const [connected, setConnected] = useState(false);
  const [bad, setBad] = useState<BadLine[]>([]);
  const [recording, setRecording] = useState<RecordingState | undefined>(undefined);
  const [sessions, setSessions] = useState<SessionMeta[]>([]);
  const rowsRef = useRef<Row[]>([]);
  const queued = useRef<Row[]>([]);
  const [version, bump] = useTick();
  const [older, setOlder] = useState(0);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const [hiddenBefore, setHiddenBefore] = useState(-1);
  const [paused, setPaused] = useState(false);
  const pausedRef = useRef(false);
  const [autoScroll, setAutoScroll] = useState(true);
  const [filters, setFilters] = useState<Filters>(emptyFilters);
  const [bodyMatches, setBodyMatches] = useState<Set<number> | undefined>(undefined);
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const selectedRef = useRef<string | undefined>(undefined);
  const [detail, setDetail] = useState<Detail | undefined>(undefined);
  const [detailError, setDetailError] = useState<string | undefined>(undefined);
  const [tab, setTab] = useState<Tab>('conversation');
  const [view, setView] = useState<'detail' | 'stats'>('detail');
  const [recName, setRecName] = useState<string | undefined>(undefined);
  const [notice, setNotice] = useState('');
  const [listWidth, setListWidth] = useState(() => Number(localStorage.getItem(WIDTH_KEY)) || Math.round(window.innerWidth * 0.48));
  const [rail, setRailState] = useState(() => localStorage.getItem('agenttap.rail') === '1');
  const setRail = (v: boolean): void => {
    setRailState(v);
    localStorage.setItem('agenttap.rail', v ? '1' : '0');
  };
  const conn = useRef<Connection | undefined>(undefined);
  const search = useRef<HTMLInputElement>(null);

  const onMessage = useCallback((m: ServerMessage) => {
    switch (m.type) {
      case 'progress':
        setLoading({ bytes: m.bytes, total: m.total, rows: m.rows });
        break;
      case 'snapshot':
        setLoading(m.loading);
        if (m.info.store === 'main') setMainLive(m.info.live);
        rowsRef.current = m.rows;
        queued.current = [];
        setOlder(m.older);
        setBad(m.bad);
        setInfo(m.info);
        setRecording(m.recording);
        bump();
        break;
      case 'batch': {
        const rows = rowsRef.current;
        for (const r of m.new) {
          if (pausedRef.current) queued.current.push(r);
          else rows.push(r);
        }
        for (const r of m.update) {
          const base = rows.length ? rows[0]!.seq : 0;
          const i = r.seq - base;
          if (i >= 0 && i < rows.length && rows[i]!.seq === r.seq) rows[i] = r;
          else {
            const q = queued.current.findIndex((x) => x.seq === r.seq);
            if (q >= 0) queued.current[q] = r;
          }
        }
        bump();
        break;
      }
      case 'clear':
        rowsRef.current = [];
        queued.current = [];
        setOlder(0);
        bump();
        break;
      case 'detail':
        if (m.id === selectedRef.current) setDetail(m.detail);
        break;
      case 'bad':
        setBad((b) => [...b, ...m.bad].slice(0, 1000));
        break;
      case 'recording':
        setRecording(m.recording);
        break;
    }
  }, []);

  useEffect(() => {
    conn.current = connect(store, onMessage, setConnected);
    return () => conn.current?.close();
  }, [store]);

  const refreshSessions = (): void => void api.sessions().then(setSessions, () => {});
  useEffect(refreshSessions, []);

  // Free-text search: the server scans bodies; the client matches URL, host and model at once.
  useEffect(() => {
    const q = filters.text.trim();
    if (q.length < 2) {
      setBodyMatches(undefined);
      return;
    }
    const timer = setTimeout(() => {
      api.search(store, q).then((r) => {
        if (r.q === q && !r.superseded) setBodyMatches(new Set(r.seqs));
      }, () => {});
    }, 200);
    return () => clearTimeout(timer);
  }, [filters.text, store, version > 0]);

  const all = rowsRef.current;
  const filtered = useMemo(() => {
    const ok = predicate(filters, bodyMatches);
    const out: Row[] = [];
    for (const r of all) if (r.seq >= hiddenBefore && ok(r)) out.push(r);
    return out;
  }, [version, filters, bodyMatches, hiddenBefore, all]);
  const options = useMemo(
    () => ({ agent: distinct(all, 'agent'), model: distinct(all, 'model'), session: distinct(all, 'session'), ctx: distinct(all, 'ctx') }),
    [Math.floor(version / 10), all, all.length === 0],
  );

  const select = useCallback(
    (id: string | undefined) => {
      selectedRef.current = id;
      setSelected(id);
      setDetailError(undefined);
      conn.current?.watch(id);
      if (!id) return setDetail(undefined);
      api.detail(store, id).then(
        (d) => {
          if (selectedRef.current === id) setDetail(d);
        },
        (e: Error) => {
          if (selectedRef.current === id) {
            setDetail(undefined);
            setDetailError(`could not load this exchange: ${e.message}`);
          }
        },
      );
    },
    [store],
  );

  // Keyboard: ↑/↓ through the list, / to search, Esc to clear the search.
  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      const target = e.target as HTMLElement;
      const typing = target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT';
      if (e.key === 'Escape') {
        if (target === search.current || !typing) {
          setFilters((f) => ({ ...f, text: '' }));
          search.current?.blur();
        }
        return;
      }
      if (typing) return;
      if (e.key === '/') {
        e.preventDefault();
        search.current?.focus();
        return;
      }
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        if (!filtered.length) return;
        const i = filtered.findIndex((r) => r.id === selectedRef.current);
        const next = i < 0 ? (e.key === 'ArrowDown' ? 0 : filtered.length - 1) : Math.max(0, Math.min(filtered.length - 1, i + (e.key === 'ArrowDown' ? 1 : -1)));
        setAutoScroll(false);
        select(filtered[next]!.id);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [filtered, select]);

  const setFilter = <K extends keyof Filters>(k: K, v: Filters[K]): void => setFilters((f) => ({ ...f, [k]: v }));

  const togglePause = (): void => {
    const next = !paused;
    pausedRef.current = next;
    setPaused(next);
    if (!next && queued.current.length) {
      rowsRef.current.push(...queued.current);
      queued.current = [];
      bump();
    }
  };

  const loadOlder = async (everything: boolean): Promise<void> => {
    setLoadingOlder(true);
    try {
      let left = older;
      do {
        const first = rowsRef.current.length ? rowsRef.current[0]!.seq : 0;
        const { rows } = await api.rows(store, first, everything ? 50_000 : 5000);
        if (!rows.length) break;
        rowsRef.current = [...rows, ...rowsRef.current];
        left -= rows.length;
        setOlder(Math.max(0, left));
        bump();
      } while (everything && left > 0);
    } finally {
      setLoadingOlder(false);
    }
  };

  const exportHar = async (): Promise<void> => {
    setNotice('exporting…');
    try {
      const har = await api.exportHar(store, filtered.map((r) => r.id));
      download(`agenttap-${new Date().toISOString().replace(/[:.]/g, '-')}.har`, JSON.stringify(har, null, 1));
      setNotice(`exported ${filtered.length} exchanges as HAR`);
    } catch (e) {
      setNotice(`export failed: ${(e as Error).message}`);
    }
  };

  const startRec = async (): Promise<void> => {
    try {
      await api.startRecording(recName ?? '');
      setRecName(undefined);
    } catch (e) {
      setNotice(`could not start recording: ${(e as Error).message}`);
    }
  };
  const stopRec = async (): Promise<void> => {
    try {
      const meta = await api.stopRecording();
      setNotice(`saved session "${meta.name}" (${meta.count} exchanges)`);
      refreshSessions();
    } catch (e) {
      setNotice(`could not stop recording: ${(e as Error).message}`);
    }
  };

  const openStore = (name: string): void => {
    select(undefined);
    rowsRef.current = [];
    setHiddenBefore(-1);
    setStore(name);
    bump();
  };
  const sessionId = store.startsWith('session-') ? store.slice(8) : undefined;
  const sessionMeta = sessions.find((s) => s.id === sessionId);
  const exportSession = async (format: 'har' | 'jsonl'): Promise<void> => {
    if (!sessionId) return;
    const blob = await api.sessionExport(sessionId, format);
    download(`${(sessionMeta?.name ?? 'session').replace(/[^\w.-]+/g, '_')}.${format}`, blob);
  };

  const startDrag = (e: MouseEvent): void => {
    e.preventDefault();
    const move = (ev: MouseEvent): void => {
      const w = Math.max(280, Math.min(window.innerWidth - 320, ev.clientX));
      setListWidth(w);
      localStorage.setItem(WIDTH_KEY, String(w));
    };
    const up = (): void => {
      window.removeEventListener('mousemove', move);
      window.removeEventListener('mouseup', up);
    };
    window.addEventListener('mousemove', move);
    window.addEventListener('mouseup', up);
  };

  const hiddenByProfile = filters.profile === 'llm' && filtered.length === 0 && all.length > 0;
  const recSecs = recording ? Math.max(0, Math.round((Date.now() - Date.parse(recording.startedAt)) / 1000)) : 0;

  return (
    <div class="app">
      <header class="toolbar">
        <span class="brand">agenttap</span>
        <span class={`conn ${connected ? 'on' : 'off'}`} data-testid="conn">
          {connected ? (info?.live ? '● live' : '● file') : '○ disconnected'}
        </span>
        <span class="dim title" title={info?.file}>
          {info?.title}
        </span>
        <span class="dim" data-testid="counts">
          {filtered.length.toLocaleString('en-US')} shown / {(all.length + older).toLocaleString('en-US')}
        </span>
        <span class="spacer" />
        <button onClick={togglePause} data-testid="pause" class={paused ? 'on' : ''}>
          {paused ? `▶ resume${queued.current.length ? ` (${queued.current.length} new)` : ''}` : '❚❚ pause'}
        </button>
        <label class="dim">
          <input type="checkbox" checked={autoScroll} onChange={(e) => setAutoScroll((e.target as HTMLInputElement).checked)} /> auto-scroll
        </label>
        <button onClick={() => setHiddenBefore(all.length ? all[all.length - 1]!.seq + 1 : hiddenBefore)} title="hide what is listed now (the capture is not changed)">
          clear view
        </button>
        <button onClick={() => void exportHar()} data-testid="export-har">
          ↓ HAR
        </button>
        {info?.live ? (
          recording ? (
            <span class="rec-on" data-testid="recording">
              ◉ REC · {recording.name} · {Math.floor(recSecs / 60)}:{String(recSecs % 60).padStart(2, '0')} · {recording.count} reqs{' '}
              <button onClick={() => void stopRec()}>■ stop</button>
            </span>
          ) : recName !== undefined ? (
            <span>
              <input class="rec-name" placeholder="session name" value={recName} onInput={(e) => setRecName((e.target as HTMLInputElement).value)} />
              <button onClick={() => void startRec()} data-testid="rec-start">
                start
              </button>
            </span>
          ) : (
            <button onClick={() => setRecName('')} data-testid="rec">
              ● REC
            </button>
          )
        ) : null}
        <select
          value=""
          onFocus={refreshSessions}
          onChange={(e) => {
            const v = (e.target as HTMLSelectElement).value;
            if (v) openStore(`session-${v}`);
          }}
          data-testid="sessions"
        >
          <option value="">sessions ({sessions.length})</option>
          {sessions.map((s) => (
            <option key={s.id} value={s.id}>
              {s.name} · {s.count} · {s.startedAt.slice(0, 16).replace('T', ' ')}
            </option>
          ))}
        </select>
        <button class={view === 'stats' ? 'on' : ''} onClick={() => setView(view === 'stats' ? 'detail' : 'stats')} data-testid="stats-toggle">
          stats
        </button>
      </header>
      <div class="filters">
        <span class="seg-group">
          <button class={`seg${filters.profile === 'llm' ? ' on' : ''}`} onClick={() => setFilter('profile', 'llm')} data-testid="profile-llm">
            LLM only
          </button>
          <button class={`seg${filters.profile === 'all' ? ' on' : ''}`} onClick={() => setFilter('profile', 'all')} data-testid="profile-all">
            all
          </button>
        </span>
        <input ref={search} class="search" placeholder="/ search (URL, model, bodies)" value={filters.text} onInput={(e) => setFilter('text', (e.target as HTMLInputElement).value)} data-testid="search" />
        <input placeholder="host" value={filters.host} onInput={(e) => setFilter('host', (e.target as HTMLInputElement).value)} data-testid="filter-host" />
        <select value={filters.agent} onChange={(e) => setFilter('agent', (e.target as HTMLSelectElement).value)} data-testid="filter-agent">
          <option value="">any agent</option>
          {options.agent.map((a) => (
            <option key={a}>{a}</option>
          ))}
        </select>
        <select value={filters.model} onChange={(e) => setFilter('model', (e.target as HTMLSelectElement).value)} data-testid="filter-model">
          <option value="">any model</option>
          {options.model.map((a) => (
            <option key={a}>{a}</option>
          ))}
        </select>
        <select value={filters.status} onChange={(e) => setFilter('status', (e.target as HTMLSelectElement).value as Filters['status'])} data-testid="filter-status">
          <option value="">any status</option>
          <option value="2xx">2xx</option>
          <option value="3xx">3xx</option>
          <option value="4xx">4xx</option>
          <option value="5xx">5xx</option>
          <option value="error">error</option>
          <option value="live">in flight</option>
        </select>
        <select value={filters.session} onChange={(e) => setFilter('session', (e.target as HTMLSelectElement).value)} data-testid="filter-session">
          <option value="">any session</option>
          {options.session.map((a) => (
            <option key={a}>{a}</option>
          ))}
        </select>
        <select value={filters.ctx} onChange={(e) => setFilter('ctx', (e.target as HTMLSelectElement).value)} data-testid="filter-ctx">
          <option value="">any context</option>
          {options.ctx.map((a) => (
            <option key={a}>{a}</option>
          ))}
        </select>
        {JSON.stringify(filters) !== JSON.stringify(emptyFilters) ? (
          <button class="linkish" onClick={() => setFilters(emptyFilters)}>
            reset filters
          </button>
        ) : null}
        <span class="dim">{notice}</span>
      </div>
      {sessionId ? (
        <div class="banner" data-testid="session-banner">
          Viewing recorded session “{sessionMeta?.name ?? info?.title}” — <button onClick={() => openStore('main')}>back to {mainLive ? 'live' : 'capture'}</button>{' '}
          <button onClick={() => void exportSession('har')}>↓ HAR</button> <button onClick={() => void exportSession('jsonl')}>↓ JSONL</button>
        </div>
      ) : null}
      {loading ? (
        <div class="banner" data-testid="indexing">
          Indexing the capture… {Math.floor((loading.bytes / Math.max(1, loading.total)) * 100)}% ({loading.rows.toLocaleString('en-US')} exchanges so far); the list completes when it is done.
        </div>
      ) : null}
      {bad.length ? (
        <div class="banner warn" data-testid="bad-lines">
          {bad.length} bad line{bad.length === 1 ? '' : 's'} skipped in the capture:{' '}
          {bad.slice(0, 5).map((b) => `line ${b.line} (${b.reason.slice(0, 80)})`).join('; ')}
          {bad.length > 5 ? '; …' : ''}
        </div>
      ) : null}
      <main class="split">
        <section class={`left${rail ? ' rail' : ''}`} style={{ width: rail ? '64px' : `${listWidth}px` }} onClickCapture={() => rail && setRail(false)}>
          <div class="list-head">
            <span class="ctx" />
            <span class="c-time">
              <button
                class="rail-toggle"
                title={rail ? 'expand the list' : 'collapse the list to a rail'}
                onClick={(e) => {
                  e.stopPropagation();
                  setRail(!rail);
                }}
                data-testid="rail-toggle"
              >
                {rail ? '»' : '«'}
              </button>
              <span class="label">time</span>
            </span>
            <span class="c-method">method</span>
            <span class="c-status">status</span>
            <span class="c-agent">ag</span>
            <span class="c-what">model · host/path</span>
            <span class="c-tok">tokens</span>
            <span class="c-size">size</span>
            <span class="c-dur">duration</span>
          </div>
          {hiddenByProfile ? (
            <div class="banner">
              No LLM exchanges here; {all.length.toLocaleString('en-US')} other exchanges are hidden by “LLM only”.{' '}
              <button onClick={() => setFilter('profile', 'all')}>show all</button>
            </div>
          ) : null}
          <RequestList
            rows={filtered}
            selected={selected}
            onSelect={(id) => select(id)}
            autoScroll={autoScroll && !paused}
            older={older}
            onLoadOlder={(a) => void loadOlder(a)}
            loadingOlder={loadingOlder}
            onContext={(c) => setFilter('ctx', c)}
          />
        </section>
        <div class="handle" onMouseDown={startDrag} title="drag to resize" />
        <section class="right">
          {view === 'stats' ? (
            <StatsView rows={filtered} />
          ) : (
            <DetailPane detail={detail} error={detailError} store={store} canReplay={Boolean(info?.canReplay) && store === 'main'} tab={tab} onTab={setTab} onSelectId={(id) => select(id)} />
          )}
        </section>
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
