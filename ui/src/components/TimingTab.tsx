// The Timing tab: a waterfall of connect, TLS, waiting (to the first byte) and streaming, with a
// tick for every response chunk as it arrived, and the chunk table underneath.
import type { Detail } from '../../../src/server/protocol.js';
import { bytes, ms } from '../format.js';

export function TimingTab({ detail }: { detail: Detail }) {
  const r = detail.record;
  const t = r.timing ?? {};
  const chunks = r.response?.chunks ?? [];
  const lastChunk = chunks.length ? chunks[chunks.length - 1]![0] : 0;
  const total = Math.max(t.totalMs ?? 0, lastChunk, t.ttfbMs ?? 0, 1);
  const connect = t.connectMs ?? 0;
  const tls = t.tlsMs ?? 0;
  const ttfb = t.ttfbMs;
  const pct = (x: number): string => `${Math.max(0, Math.min(100, (x / total) * 100))}%`;
  const phases: { name: string; from: number; to: number; cls: string }[] = [];
  if (connect) phases.push({ name: 'connect', from: 0, to: connect, cls: 'ph-connect' });
  if (tls) phases.push({ name: 'TLS', from: connect, to: connect + tls, cls: 'ph-tls' });
  if (ttfb !== undefined) phases.push({ name: 'waiting (TTFB)', from: connect + tls, to: ttfb, cls: 'ph-wait' });
  if (ttfb !== undefined && t.totalMs !== undefined) phases.push({ name: chunks.length > 1 ? 'streaming' : 'download', from: ttfb, to: t.totalMs, cls: 'ph-stream' });
  const gaps = chunks.slice(1).map((c, i) => c[0] - chunks[i]![0]);
  const maxGap = gaps.length ? Math.max(...gaps) : 0;
  const avgGap = gaps.length ? gaps.reduce((a, b) => a + b, 0) / gaps.length : 0;
  return (
    <div class="timing-tab">
      <div class="waterfall">
        {phases.map((p) => (
          <div class="wf-row" key={p.name}>
            <span class="wf-name">{p.name}</span>
            <span class="wf-track">
              <span class={`wf-bar ${p.cls}`} style={{ left: pct(p.from), width: pct(Math.max(p.to - p.from, total / 400)) }} />
            </span>
            <span class="wf-val">{ms(p.to - p.from)}</span>
          </div>
        ))}
        {chunks.length ? (
          <div class="wf-row">
            <span class="wf-name">chunks ({chunks.length})</span>
            <span class="wf-track" data-testid="chunk-ticks">
              {chunks.slice(0, 3000).map(([at], i) => (
                <span key={i} class="wf-tick" style={{ left: pct(at) }} />
              ))}
            </span>
            <span class="wf-val">{ms(lastChunk)}</span>
          </div>
        ) : null}
        <div class="wf-row">
          <span class="wf-name">total</span>
          <span class="wf-track">
            <span class="wf-bar ph-total" style={{ left: '0%', width: '100%' }} />
          </span>
          <span class="wf-val">{t.totalMs !== undefined ? ms(t.totalMs) : detail.row.state === 'live' ? 'in flight' : ''}</span>
        </div>
      </div>
      <table class="kv">
        <tbody>
          <tr><th>started</th><td>{r.startedAt}</td></tr>
          <tr><th>connect</th><td>{t.connectMs !== undefined ? ms(t.connectMs) : 'reused connection'}</td></tr>
          <tr><th>TLS</th><td>{t.tlsMs !== undefined ? ms(t.tlsMs) : '–'}</td></tr>
          <tr><th>TTFB</th><td>{ms(t.ttfbMs)}</td></tr>
          {detail.row.ttft !== undefined ? <tr><th>first token</th><td>{ms(detail.row.ttft)}</td></tr> : null}
          <tr><th>total</th><td>{ms(t.totalMs)}</td></tr>
          <tr><th>request / response size</th><td>{bytes(r.request?.body?.size ?? 0)} / {bytes(r.response?.body?.size ?? 0)}</td></tr>
          {gaps.length ? <tr><th>chunk gaps</th><td>avg {ms(avgGap)} · max {ms(maxGap)}</td></tr> : null}
        </tbody>
      </table>
      {chunks.length ? (
        <details>
          <summary>chunk arrivals</summary>
          <table class="kv chunks">
            <tbody>
              {chunks.slice(0, 1000).map(([at, n], i) => (
                <tr key={i}><th>#{i + 1}</th><td>{at.toFixed(1)} ms · {bytes(n)}</td></tr>
              ))}
            </tbody>
          </table>
        </details>
      ) : null}
    </div>
  );
}
