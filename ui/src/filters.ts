// The list filters, as plain data plus one predicate, so filtering 100,000 rows is a single
// tight loop (no allocation per row).
import type { Row } from '../../src/server/protocol.js';

export interface Filters {
  profile: 'llm' | 'all';
  host: string;
  agent: string;
  model: string;
  status: '' | '2xx' | '3xx' | '4xx' | '5xx' | 'error' | 'live';
  session: string;
  ctx: string;
  text: string;
}

export const emptyFilters: Filters = { profile: 'llm', host: '', agent: '', model: '', status: '', session: '', ctx: '', text: '' };

function statusOk(r: Row, s: Filters['status']): boolean {
  switch (s) {
    case '':
      return true;
    case 'live':
      return r.state === 'live';
    case 'error':
      return r.state === 'error';
    default: {
      const st = r.status;
      if (st === undefined) return false;
      const lo = Number(s[0]) * 100;
      return st >= lo && st < lo + 100;
    }
  }
}

/** Builds the predicate once per filter change. `bodyMatches` holds seqs the server found by body search. */
export function predicate(f: Filters, bodyMatches: Set<number> | undefined): (r: Row) => boolean {
  const host = f.host.toLowerCase();
  const text = f.text.toLowerCase();
  return (r) => {
    if (f.profile === 'llm' && !r.llm) return false;
    if (host && !r.host.toLowerCase().includes(host)) return false;
    if (f.agent && r.agent !== f.agent) return false;
    if (f.model && r.model !== f.model) return false;
    if (f.session && r.session !== f.session) return false;
    if (f.ctx && r.ctx !== f.ctx) return false;
    if (!statusOk(r, f.status)) return false;
    if (text) {
      if (bodyMatches?.has(r.seq)) return true;
      const hay = `${r.method} ${r.host}${r.path} ${r.model ?? ''} ${r.status ?? ''}`.toLowerCase();
      if (!hay.includes(text)) return false;
    }
    return true;
  };
}

export function distinct(rows: readonly Row[], key: 'agent' | 'model' | 'session' | 'ctx'): string[] {
  const set = new Set<string>();
  for (const r of rows) {
    const v = r[key];
    if (v) set.add(v);
  }
  return [...set].sort();
}
