// Small display helpers: sizes, durations, times, colours derived from data.
export function bytes(n: number | undefined): string {
  if (n === undefined) return '';
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(n < 10240 ? 1 : 0)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

export function ms(n: number | undefined): string {
  if (n === undefined) return '';
  if (n < 1000) return `${Math.round(n)} ms`;
  return `${(n / 1000).toFixed(n < 10_000 ? 2 : 1)} s`;
}

export function clock(t: number): string {
  const d = new Date(t);
  const p = (x: number, w = 2): string => String(x).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

export function usd(n: number | undefined): string {
  if (n === undefined) return '';
  return n < 0.01 ? `$${n.toFixed(5)}` : `$${n.toFixed(3)}`;
}

export function num(n: number | undefined): string {
  return n === undefined ? '' : n.toLocaleString('en-US');
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** A stable colour per context key, so exchanges sharing a system prompt line up visually. */
export function contextColour(key: string): string {
  return `hsl(${hash(key) % 360} 70% 48%)`;
}

export function statusClass(status: number | undefined, state: string): string {
  if (state === 'live') return 'st-live';
  if (state === 'error' && !status) return 'st-err';
  if (status === undefined) return 'st-live';
  if (status < 300) return 'st-2xx';
  if (status < 400) return 'st-3xx';
  return 'st-err';
}

const AGENTS: Record<string, string> = {
  'claude-code': 'CC',
  codex: 'CX',
  'gemini-cli': 'GM',
  cursor: 'CU',
  opencode: 'OC',
  copilot: 'CP',
  aider: 'AI',
  'openai-sdk': 'OA',
  'anthropic-sdk': 'AN',
  generic: 'GE',
};

export function agentBadge(agent: string): string {
  return AGENTS[agent] ?? agent.replace(/[^a-z0-9]/gi, '').slice(0, 2).toUpperCase();
}

export function agentColour(agent: string): string {
  return `hsl(${hash(agent) % 360} 55% 40%)`;
}
