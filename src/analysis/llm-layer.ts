// LLM facts for analysis, from the LLM layer (src/llm). One reader per pass over a file, so
// Responses-API `previous_response_id` chains resolve to whole conversations. A family that
// throws on odd input costs only that exchange's facts; the raw HTTP view stays.
import type { CaptureRecord } from '../capture/record.js';
import { detect } from '../llm/detect.js';
import { familyFor } from '../llm/families.js';
import { normalizeExchange, ResponsesChain } from '../llm/normalize.js';
import { costOf } from '../llm/pricing.js';
import type { Detection, LlmExchange, Usage } from '../llm/types.js';

export interface LlmFacts {
  detection?: Detection;
  exchange?: LlmExchange;
  /** Not normalized: the reader's `defer` option picked it (left to another reader). */
  deferred?: true;
}

export type LlmReader = (record: CaptureRecord) => LlmFacts;

export interface LlmReaderOptions {
  /** Max Responses-API exchanges remembered for previous_response_id chains. */
  chainSize?: number;
  /**
   * Parse requests too (default). Without, only the response is read (model, usage, cost,
   * tool calls): enough for stats, and it skips parsing the largest body of an agent exchange.
   */
  requests?: boolean;
  /** LLM exchanges to leave alone (a worker thread leaves Responses-API chains to the main thread). */
  defer?: (detection: Detection) => boolean;
}

const EVENT_STREAM = /text\/event-stream|vnd\.amazon\.eventstream|connect\+/i;

/** A reader for one pass; only Responses-API exchanges go into the chain (others never need it). */
export function createLlmReader(options: LlmReaderOptions = {}): LlmReader {
  const chain = new ResponsesChain(options.chainSize ?? 2000);
  const requests = options.requests !== false;
  return (record) => {
    if (record.kind === 'tunnel') return {};
    let detection: Detection;
    try {
      detection = detect(record);
    } catch {
      return {};
    }
    if (detection.kind !== 'llm') return { detection };
    if (options.defer?.(detection)) return { detection, deferred: true };
    let exchange: LlmExchange | undefined;
    try {
      if (requests) exchange = normalizeExchange(record, detection.api === 'openai.responses' ? { detection, chain } : { detection });
      else exchange = responseOnly(record, detection);
    } catch {
      exchange = undefined;
    }
    return exchange ? { detection: exchange.detection, exchange } : { detection };
  };
}

function responseOnly(record: CaptureRecord, detection: Detection): LlmExchange | undefined {
  const family = familyFor(detection.api);
  if (!family) return normalizeExchange(record, { detection });
  const { model, ...response } = family.parseResponse(record);
  const x: LlmExchange = { id: record.id, detection, stream: false, request: { turns: [], tools: [] }, response };
  if (model) x.model = model;
  const ct = record.response?.headers.find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? '';
  if (EVENT_STREAM.test(ct)) x.stream = true;
  if (!x.model) {
    // The request names the model when the response does not (rare): read it without a full parse.
    const m = /"model"\s*:\s*"([^"\\]{1,200})"/.exec(record.request?.body?.text?.slice(0, 512) ?? '');
    if (m) x.model = m[1];
  }
  const cost = costOf(x.model, x.response.usage, { provider: detection.provider, api: detection.api });
  if (cost !== undefined) x.costUsd = cost;
  return x;
}

// The optional-layer API the inspector server uses (kept stable for it).
export interface LlmLayer {
  normalizeExchange(record: CaptureRecord): LlmExchange | undefined;
  detect(record: CaptureRecord): Detection;
  contextKey?(system: string): string;
  costOf?(model: string, usage: Usage): number | undefined;
}

let loading: Promise<LlmLayer | undefined> | undefined;

async function importOptional(spec: string): Promise<Record<string, unknown> | undefined> {
  try {
    return (await import(spec)) as Record<string, unknown>;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw e;
  }
}

export function loadLlmLayer(): Promise<LlmLayer | undefined> {
  loading ??= (async () => {
    const normalize = await importOptional('../llm/normalize.js');
    if (!normalize || typeof normalize.normalizeExchange !== 'function') return undefined;
    const detectMod = (await importOptional('../llm/detect.js')) ?? normalize;
    const context = (await importOptional('../llm/context-key.js')) ?? normalize;
    const pricing = (await importOptional('../llm/pricing.js')) ?? normalize;
    return {
      normalizeExchange: normalize.normalizeExchange as LlmLayer['normalizeExchange'],
      detect: (detectMod.detect ?? (() => ({ kind: 'unknown', reasons: [] }))) as LlmLayer['detect'],
      contextKey: typeof context.contextKey === 'function' ? (context.contextKey as LlmLayer['contextKey']) : undefined,
      costOf: typeof pricing.costOf === 'function' ? (pricing.costOf as LlmLayer['costOf']) : undefined,
    };
  })();
  return loading;
}

/** Detection plus the normalized exchange (with cost and context key filled in when the layer can). */
export function llmFactsOf(layer: LlmLayer | undefined, record: CaptureRecord): LlmFacts {
  if (!layer || record.kind === 'tunnel') return {};
  let exchange: LlmExchange | undefined;
  try {
    exchange = layer.normalizeExchange(record);
  } catch {
    exchange = undefined;
  }
  if (exchange) {
    if (!exchange.contextKey && exchange.request.system && layer.contextKey) {
      try {
        exchange.contextKey = layer.contextKey(exchange.request.system);
      } catch {
        /* no key */
      }
    }
    if (exchange.costUsd === undefined && exchange.model && exchange.response.usage && layer.costOf) {
      try {
        exchange.costUsd = layer.costOf(exchange.model, exchange.response.usage);
      } catch {
        /* unknown price */
      }
    }
    return { detection: exchange.detection, exchange };
  }
  try {
    return { detection: layer.detect(record) };
  } catch {
    return {};
  }
}
