// Cost of one exchange from data/pricing.json (plus --pricing FILE overrides). Model names are
// matched after dropping provider prefixes ("anthropic/", "us.anthropic."), Bedrock/Vertex version
// tails ("-v2:0", "@20241022") and date suffixes ("-20250514", "-2024-08-06"); a name we do not
// know gives undefined — "unknown" to the user — never 0.
import { readFileSync } from 'node:fs';
import type { Usage } from './types.js';

export type UsageStyle = 'anthropic' | 'openai' | 'gemini';

export interface PriceTier {
  above: number;
  input?: number;
  output?: number;
  cacheRead?: number;
  cacheWrite?: number;
}
export interface ModelPrice {
  provider?: string;
  usage?: UsageStyle;
  input: number;
  output: number;
  cacheRead?: number;
  cacheWrite?: number;
  tiers?: PriceTier[];
}
export interface PricingData {
  schema?: number;
  compiled?: string;
  source?: string;
  models: Record<string, ModelPrice>;
  aliases?: Record<string, string>;
}

export class PricingError extends Error {
  readonly code = 'bad-pricing';
  constructor(message: string) {
    super(message);
    this.name = 'PricingError';
  }
}

const BUILTIN_URL = new URL('../../../data/pricing.json', import.meta.url);
let table: PricingData | undefined;
const cache = new Map<string, string | null>();

export function pricingTable(): PricingData {
  table ??= JSON.parse(readFileSync(BUILTIN_URL, 'utf8')) as PricingData;
  return table;
}

/** Reads a pricing file and lays it over the built-in table (its models win). */
export function usePricingFile(file: string): void {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new PricingError(err.code ? `cannot read pricing file ${file}: ${err.code}` : `pricing file ${file} is not valid JSON: ${err.message}`);
  }
  if (typeof data !== 'object' || data === null || typeof (data as PricingData).models !== 'object' || (data as PricingData).models === null) {
    throw new PricingError(`pricing file ${file} must be a JSON object with a "models" object ({"models": {"my-model": {"input": 1, "output": 2}}})`);
  }
  const d = data as PricingData;
  for (const [name, p] of Object.entries(d.models)) {
    if (typeof p?.input !== 'number' || typeof p?.output !== 'number') throw new PricingError(`pricing file ${file}: model ${name} needs numeric "input" and "output" prices per 1M tokens`);
  }
  const base = pricingTable();
  table = {
    ...base,
    models: { ...base.models, ...lowerKeys(d.models) },
    aliases: { ...base.aliases, ...lowerKeys(d.aliases ?? {}) },
  };
  cache.clear();
  installed.push(file);
}

const installed: string[] = [];

/** The pricing files installed in this process, in order (so a worker thread can install the same). */
export function installedPricingFiles(): string[] {
  return [...installed];
}

function lowerKeys<T>(o: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [k, v] of Object.entries(o)) out[k.toLowerCase()] = v;
  return out;
}

const SUFFIX = /^-(preview|exp|latest|\d{3,}|\d{2}-\d{2}|\d{4}-\d{2}-\d{2})/;

function candidates(model: string): string[] {
  const out: string[] = [];
  let m = model.trim().toLowerCase();
  out.push(m);
  m = m.replace(/^models\//, '').replace(/^publishers\/[^/]+\/models\//, '');
  // Bedrock ids: [region.]provider.model-version:n
  m = m.replace(/^(us|eu|apac|global|au|jp)\.(?=[a-z]+\.)/, '').replace(/^(anthropic|meta|mistral|amazon|cohere|ai21|deepseek|openai|qwen)\.(?=[a-z])/, '');
  m = m.replace(/-v\d+(:\d+)?$/, '').replace(/:\d+$/, '');
  m = m.replace(/@.*$/, '');
  out.push(m);
  const slash = m.lastIndexOf('/');
  if (slash !== -1) out.push(m.slice(slash + 1));
  for (const c of [...out]) if (c.startsWith('claude-') && /\d\.\d/.test(c)) out.push(c.replace(/(\d)\.(\d)/g, '$1-$2'));
  for (const c of [...out]) {
    const noDate = c.replace(/-(\d{8}|\d{4}-\d{2}-\d{2})$/, '');
    if (noDate !== c) out.push(noDate);
  }
  return out;
}

/** The pricing table key a model name resolves to, or undefined. */
export function resolveModel(model: string): string | undefined {
  const hit = cache.get(model);
  if (hit !== undefined) return hit ?? undefined;
  const t = pricingTable();
  let found: string | undefined;
  outer: for (const c of candidates(model)) {
    if (t.models[c]) {
      found = c;
      break;
    }
    const alias = t.aliases?.[c];
    if (alias && t.models[alias]) {
      found = alias;
      break;
    }
    // A known name followed only by a version tail ("gemini-2.5-flash-preview-05-20").
    let best: string | undefined;
    for (const key of Object.keys(t.models)) {
      if (c.startsWith(key) && SUFFIX.test(c.slice(key.length)) && (!best || key.length > best.length)) best = key;
    }
    if (best) {
      found = best;
      break outer;
    }
  }
  cache.set(model, found ?? null);
  return found;
}

export function priceOf(model: string): ModelPrice | undefined {
  const key = resolveModel(model);
  return key ? pricingTable().models[key] : undefined;
}

function styleFor(price: ModelPrice, hint: { provider?: string; api?: string }): UsageStyle {
  const api = hint.api ?? '';
  if (api.startsWith('anthropic.')) return 'anthropic';
  if (api.startsWith('gemini.')) return 'gemini';
  if (api.startsWith('openai.')) return 'openai';
  if (hint.provider === 'anthropic') return 'anthropic';
  if (hint.provider === 'google') return 'gemini';
  return price.usage ?? 'openai';
}

/**
 * Cost in USD of one exchange's usage, or undefined when the model's price is unknown.
 * `how` names the provider or the api so the usage is read with the right meaning.
 */
export function costOf(model: string | undefined, usage: Usage | undefined, how?: string | { provider?: string; api?: string }): number | undefined {
  if (!model || !usage) return undefined;
  const price = priceOf(model);
  if (!price) return undefined;
  const hint = typeof how === 'string' ? { provider: how } : (how ?? {});
  const style = styleFor(price, hint);
  const cacheRead = usage.cacheRead ?? 0;
  const cacheWrite = usage.cacheWrite ?? 0;
  let freshInput = usage.input ?? 0;
  if (style !== 'anthropic') freshInput = Math.max(0, freshInput - cacheRead);
  let output = usage.output ?? 0;
  if (style === 'gemini') output += usage.reasoning ?? 0;
  const promptSize = freshInput + cacheRead + cacheWrite;
  let p: PriceTier & ModelPrice = { ...price, above: 0 };
  for (const tier of price.tiers ?? []) if (promptSize > tier.above) p = { ...p, ...tier };
  const cost = (freshInput * p.input + output * p.output + cacheRead * (p.cacheRead ?? p.input) + cacheWrite * (p.cacheWrite ?? p.input)) / 1_000_000;
  return Math.round(cost * 1e8) / 1e8;
}

/** "$0.0123" or "unknown". */
export function formatCost(cost: number | undefined): string {
  if (cost === undefined) return 'unknown';
  if (cost === 0) return '$0';
  if (cost >= 1) return `$${cost.toFixed(2)}`;
  // Four significant digits, never in exponent form.
  return `$${Number(cost.toPrecision(4)).toFixed(10).replace(/0+$/, '')}`;
}
