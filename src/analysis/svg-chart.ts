// Inline SVG bar charts for the HTML report (no script, no network): many exchanges are
// bucketed to at most `maxBars` bars so a day-long capture still draws a readable chart.
function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export interface BarSeries {
  name: string;
  color: string;
  values: ArrayLike<number>;
}

function bucket(values: ArrayLike<number>, buckets: number, mode: 'sum' | 'max'): number[] {
  const out = new Array<number>(buckets).fill(0);
  const per = values.length / buckets;
  for (let i = 0; i < values.length; i++) {
    const b = Math.min(buckets - 1, Math.floor(i / per));
    out[b] = mode === 'sum' ? out[b]! + values[i]! : Math.max(out[b]!, values[i]!);
  }
  return out;
}

function niceMax(n: number): number {
  if (n <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(n));
  for (const m of [1, 2, 5, 10]) if (m * p >= n) return m * p;
  return 10 * p;
}

function fmt(n: number, unit: string): string {
  if (unit === 'ms') return n >= 1000 ? `${(n / 1000).toFixed(n >= 10000 ? 0 : 1)}s` : `${Math.round(n)}ms`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(n >= 1e4 ? 0 : 1)}k`;
  return String(Math.round(n));
}

/** Stacked bars (series drawn on top of each other) over the exchange index. */
export function barChart(title: string, series: BarSeries[], options: { unit?: string; mode?: 'sum' | 'max'; maxBars?: number } = {}): string {
  const unit = options.unit ?? '';
  const count = series[0]?.values.length ?? 0;
  const width = 860;
  const height = 180;
  const left = 56;
  const bottom = 22;
  const plotW = width - left - 8;
  const plotH = height - bottom - 24;
  if (count === 0) return `<figure class="chart"><figcaption>${esc(title)}</figcaption><p class="muted">no data</p></figure>`;
  const bars = Math.min(count, options.maxBars ?? 300);
  const data = series.map((s) => bucket(s.values, bars, options.mode ?? 'sum'));
  const totals = data[0]!.map((_, i) => data.reduce((sum, d) => sum + d[i]!, 0));
  const max = niceMax(Math.max(...totals));
  const bw = plotW / bars;
  const parts: string[] = [];
  parts.push(`<line x1="${left}" y1="${24 + plotH}" x2="${width - 8}" y2="${24 + plotH}" class="axis"/>`);
  for (const f of [0, 0.5, 1]) {
    const y = 24 + plotH - f * plotH;
    parts.push(`<text x="${left - 6}" y="${y + 4}" text-anchor="end" class="tick">${esc(fmt(max * f, unit))}</text>`);
    if (f > 0) parts.push(`<line x1="${left}" y1="${y}" x2="${width - 8}" y2="${y}" class="grid"/>`);
  }
  for (let i = 0; i < bars; i++) {
    let y = 24 + plotH;
    const from = Math.floor((i * count) / bars) + 1;
    const to = Math.max(from, Math.floor(((i + 1) * count) / bars));
    const tip = `${from === to ? `#${from}` : `#${from}–${to}`}: ${series.map((s, k) => `${s.name} ${fmt(data[k]![i]!, unit)}`).join(', ')}`;
    parts.push(`<g><title>${esc(tip)}</title>`);
    data.forEach((d, k) => {
      const h = (d[i]! / max) * plotH;
      y -= h;
      if (h > 0) parts.push(`<rect x="${(left + i * bw).toFixed(2)}" y="${y.toFixed(2)}" width="${Math.max(0.5, bw - 0.6).toFixed(2)}" height="${h.toFixed(2)}" fill="${series[k]!.color}"/>`);
    });
    parts.push('</g>');
  }
  parts.push(`<text x="${left}" y="${height - 4}" class="tick">#1</text><text x="${width - 8}" y="${height - 4}" text-anchor="end" class="tick">#${count}</text>`);
  const legend = series.map((s) => `<span class="legend"><i style="background:${s.color}"></i>${esc(s.name)}</span>`).join(' ');
  return `<figure class="chart"><figcaption>${esc(title)} ${legend}</figcaption><svg viewBox="0 0 ${width} ${height}" role="img" aria-label="${esc(title)}">${parts.join('')}</svg></figure>`;
}
