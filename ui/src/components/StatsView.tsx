// The Stats view over the filtered list: tokens per turn, latency and TTFT over time, cost by
// model and tool-call counts, drawn as plain SVG (no chart library, nothing loaded from outside).
import type { Row } from '../../../src/server/protocol.js';
import { ms, usd } from '../format.js';

const W = 560;
const H = 160;

function Bars({ items, fmt }: { items: [string, number][]; fmt: (n: number) => string }) {
  const max = Math.max(...items.map((i) => i[1])) || 1;
  return (
    <svg class="chart" viewBox={`0 0 ${W} ${Math.max(20, items.length * 20)}`} width="100%">
      {items.map(([k, v], i) => (
        <g key={k} transform={`translate(0 ${i * 20})`}>
          <text x="0" y="14" class="ch-label">{k.length > 28 ? `${k.slice(0, 27)}…` : k}</text>
          <rect x="190" y="3" height="14" width={Math.max(1, ((W - 290) * v) / max)} class="ch-bar" />
          <text x={195 + ((W - 290) * v) / max} y="14" class="ch-val">{fmt(v)}</text>
        </g>
      ))}
    </svg>
  );
}

export function StatsView({ rows }: { rows: readonly Row[] }) {
  const llm = rows.filter((r) => r.llm);
  const turns = llm.filter((r) => r.tin !== undefined || r.tout !== undefined).slice(-120);
  const maxTok = Math.max(1, ...turns.map((r) => (r.tin ?? 0) + (r.tcacheR ?? 0) + (r.tout ?? 0)));
  const bw = turns.length ? Math.min(24, W / turns.length) : W;
  const timed = rows.filter((r) => r.dur !== undefined).slice(-500);
  const t0 = timed.length ? timed[0]!.t : 0;
  const t1 = timed.length ? Math.max(t0 + 1, timed[timed.length - 1]!.t) : 1;
  const maxLat = Math.max(1, ...timed.map((r) => r.dur ?? 0));
  const x = (t: number): number => 30 + ((t - t0) / (t1 - t0)) * (W - 40);
  const y = (v: number): number => H - 15 - (v / maxLat) * (H - 25);
  const costByModel = new Map<string, number>();
  const tools = new Map<string, number>();
  let totalCost = 0;
  let tin = 0;
  let tout = 0;
  for (const r of llm) {
    if (r.cost !== undefined) {
      costByModel.set(r.model ?? '(unknown)', (costByModel.get(r.model ?? '(unknown)') ?? 0) + r.cost);
      totalCost += r.cost;
    }
    tin += r.tin ?? 0;
    tout += r.tout ?? 0;
    for (const n of r.toolNames ?? []) tools.set(n, (tools.get(n) ?? 0) + 1);
  }
  return (
    <div class="stats" data-testid="stats">
      <div class="stat-cards">
        <div><b>{rows.length.toLocaleString('en-US')}</b> exchanges</div>
        <div><b>{llm.length.toLocaleString('en-US')}</b> LLM calls</div>
        <div><b>{tin.toLocaleString('en-US')}</b> tokens in</div>
        <div><b>{tout.toLocaleString('en-US')}</b> tokens out</div>
        <div><b>{usd(totalCost) || '$0'}</b> cost</div>
      </div>
      <h4>Tokens per turn (last {turns.length}) <span class="legend"><i class="lg-in" /> in <i class="lg-cache" /> cache read <i class="lg-out" /> out</span></h4>
      {turns.length === 0 ? <div class="dim">no token usage in this list</div> : null}
      <svg class="chart" viewBox={`0 0 ${W} ${H}`} width="100%" data-testid="chart-tokens" data-bars={turns.length}>
        <text x={W - 4} y="12" class="ch-label" text-anchor="end">max {maxTok.toLocaleString('en-US')} tokens</text>
        {turns.map((r, i) => {
          const a = ((r.tin ?? 0) / maxTok) * (H - 10);
          const c = ((r.tcacheR ?? 0) / maxTok) * (H - 10);
          const o = ((r.tout ?? 0) / maxTok) * (H - 10);
          return (
            <g key={r.seq}>
              <title>{`${r.model ?? ''} in ${r.tin ?? 0} cache ${r.tcacheR ?? 0} out ${r.tout ?? 0}`}</title>
              <rect x={i * bw} y={H - a} width={Math.max(1, bw - 1)} height={a} class="ch-in" />
              <rect x={i * bw} y={H - a - c} width={Math.max(1, bw - 1)} height={c} class="ch-cache" />
              <rect x={i * bw} y={H - a - c - o} width={Math.max(1, bw - 1)} height={o} class="ch-out" />
            </g>
          );
        })}
      </svg>
      <h4>Latency and time to first token over time <span class="legend"><i class="lg-lat" /> total <i class="lg-ttft" /> TTFT (streams) or TTFB · max {ms(maxLat)}</span></h4>
      <svg class="chart" viewBox={`0 0 ${W} ${H}`} width="100%" data-testid="chart-latency">
        <line x1="30" y1={H - 15} x2={W - 10} y2={H - 15} class="ch-axis" />
        <line x1="30" y1="10" x2="30" y2={H - 15} class="ch-axis" />
        <text x="2" y="14" class="ch-label">{ms(maxLat)}</text>
        <text x="2" y={H - 17} class="ch-label">0</text>
        {timed.length ? <text x="30" y={H - 2} class="ch-label">{new Date(t0).toLocaleTimeString()}</text> : null}
        {timed.length ? <text x={W - 10} y={H - 2} class="ch-label" text-anchor="end">{new Date(t1).toLocaleTimeString()}</text> : null}
        {timed.map((r) => (
          <circle key={`l${r.seq}`} data-kind="latency" cx={x(r.t)} cy={y(r.dur ?? 0)} r="2.5" class="ch-lat" />
        ))}
        {timed
          .filter((r) => (r.ttft ?? r.ttfb) !== undefined)
          .map((r) => (
            <circle key={`t${r.seq}`} cx={x(r.t)} cy={y(r.ttft ?? r.ttfb ?? 0)} r="2" class="ch-ttft" />
          ))}
      </svg>
      <h4>Cost by model</h4>
      {costByModel.size ? <Bars items={[...costByModel].sort((a, b) => b[1] - a[1]).slice(0, 15)} fmt={usd} /> : <div class="dim">no priced exchanges</div>}
      <h4>Tool calls</h4>
      {tools.size ? <Bars items={[...tools].sort((a, b) => b[1] - a[1]).slice(0, 20)} fmt={String} /> : <div class="dim">no tool calls</div>}
    </div>
  );
}
