// One capture record → one normalized LLM exchange (DESIGN.md section 7), or undefined when the
// record is not a model call. Never throws: a family that chokes on odd input yields what could
// be read plus `response.error`.
import type { CaptureRecord } from '../capture/record.js';
import { contextKey } from './context-key.js';
import { detect } from './detect.js';
import { familyFor } from './families.js';
import { costOf } from './pricing.js';
import { requestJson, str } from './record-json.js';
import type { CompiledRegistry } from './registry.js';
import type { Detection, LlmExchange, LlmRequest, LlmResponse, Turn, Usage } from './types.js';

export { contextKey } from './context-key.js';
export { detect } from './detect.js';
export { costOf } from './pricing.js';

/**
 * Remembers Responses-API exchanges by response id so a later request that sends only
 * `previous_response_id` + new items can be shown with the whole conversation.
 */
export class ResponsesChain {
  private byId = new Map<string, { system?: string; turns: Turn[] }>();
  private readonly max: number;
  constructor(max = 10_000) {
    this.max = max;
  }
  remember(x: LlmExchange): void {
    const id = x.response.id;
    if (!id) return;
    if (this.byId.size >= this.max) this.byId.delete(this.byId.keys().next().value as string);
    const entry: { system?: string; turns: Turn[] } = { turns: [...x.request.turns, ...x.response.turns] };
    if (x.request.system !== undefined) entry.system = x.request.system;
    this.byId.set(id, entry);
  }
  history(previousId: string): { system?: string; turns: Turn[] } | undefined {
    return this.byId.get(previousId);
  }
}

export interface NormalizeOptions {
  /** Detection to use instead of running it again (e.g. already computed by the caller). */
  detection?: Detection;
  registry?: CompiledRegistry;
  /** Resolve previous_response_id chains across calls (pass the same chain for a whole file). */
  chain?: ResponsesChain;
  /** Fill in costUsd (default true). */
  cost?: boolean;
}

export function normalizeExchange(record: CaptureRecord, opts: NormalizeOptions = {}): LlmExchange | undefined {
  let detection: Detection;
  try {
    detection = opts.detection ?? detect(record, opts.registry);
  } catch (e) {
    return undefined;
  }
  if (detection.kind !== 'llm') return undefined;
  const x: LlmExchange = {
    id: record.id,
    detection,
    stream: false,
    request: { turns: [], tools: [] },
    response: { turns: [] },
  };
  const family = familyFor(detection.api);
  if (!family) {
    // A model call we recognize but have no parser for: still an exchange (counted, priced if possible).
    const body = requestJson(record);
    const model = str(body?.model);
    if (model) x.model = model;
    x.stream = body?.stream === true;
    const status = record.response?.status;
    if (record.error) x.response.error = `${record.error.phase}: ${record.error.message}`;
    else if (status !== undefined && status >= 400) x.response.error = `HTTP ${status}`;
    return x;
  }
  try {
    const req = family.parseRequest(record);
    x.request = req.request;
    x.stream = req.stream;
    if (req.model) x.model = req.model;
  } catch (e) {
    x.request = { turns: [], tools: [] };
    x.response.error = `request not understood: ${(e as Error).message}`;
  }
  let res: LlmResponse & { model?: string };
  try {
    res = family.parseResponse(record);
  } catch (e) {
    res = { turns: [], error: `response not understood: ${(e as Error).message}` };
  }
  const respModel = res.model;
  if (respModel !== undefined) delete res.model;
  if (x.response.error && !res.error) res.error = x.response.error;
  x.response = res;
  if (!x.model && respModel) x.model = respModel;
  if (!x.stream && record.response && /text\/event-stream|vnd\.amazon\.eventstream|connect\+/i.test(contentType(record))) x.stream = true;
  // Only the Responses API chains by previous_response_id.
  if (opts.chain && detection.api === 'openai.responses') applyChain(x, opts.chain);
  if (x.request.system) x.contextKey = contextKey(x.request.system);
  if (opts.cost !== false) {
    const how = { provider: detection.provider, api: detection.api };
    // An Azure deployment name or a gateway alias may be unknown where the model the response names is not.
    const cost = costOf(x.model, x.response.usage, how) ?? (respModel && respModel !== x.model ? costOf(respModel, x.response.usage, how) : undefined);
    if (cost !== undefined) x.costUsd = cost;
  }
  return x;
}

function contentType(record: CaptureRecord): string {
  for (const [k, v] of record.response?.headers ?? []) if (k.toLowerCase() === 'content-type') return v;
  return '';
}

function applyChain(x: LlmExchange, chain: ResponsesChain): void {
  const prev = x.request.previousResponseId;
  if (prev) {
    const h = chain.history(prev);
    if (h) {
      const req: LlmRequest = { ...x.request, turns: [...h.turns, ...x.request.turns] };
      if (req.system === undefined && h.system !== undefined) req.system = h.system;
      x.request = req;
    }
  }
  chain.remember(x);
}

/** Normalizes a list of records in order (chains resolved); non-LLM records are skipped. */
export function normalizeAll(records: Iterable<CaptureRecord>, opts: Omit<NormalizeOptions, 'chain' | 'detection'> = {}): LlmExchange[] {
  const chain = new ResponsesChain();
  const out: LlmExchange[] = [];
  for (const r of records) {
    const x = normalizeExchange(r, { ...opts, chain });
    if (x) out.push(x);
  }
  return out;
}

/** The small summary a recorder may cache in `record.llm` (the raw exchange stays the truth). */
export interface LlmSummary {
  provider?: string;
  api?: string;
  agent?: string;
  model?: string;
  usage?: Usage;
  costUsd?: number;
}

export function llmSummaryOf(record: CaptureRecord): LlmSummary | undefined {
  const x = normalizeExchange(record);
  if (!x) return undefined;
  const s: LlmSummary = {};
  if (x.detection.provider) s.provider = x.detection.provider;
  if (x.detection.api) s.api = x.detection.api;
  if (x.detection.agent) s.agent = x.detection.agent;
  if (x.model) s.model = x.model;
  if (x.response.usage) s.usage = x.response.usage;
  if (x.costUsd !== undefined) s.costUsd = x.costUsd;
  return s;
}
