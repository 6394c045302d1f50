// LLM facts for analysis, from the LLM layer (src/llm). One reader per pass over a file, so
// Responses-API `previous_response_id` chains resolve to whole conversations. A family that
// throws on odd input costs only that exchange's facts; the raw HTTP view stays.
import type { CaptureRecord } from '../capture/record.js';
import { detect } from '../llm/detect.js';
import { normalizeExchange, ResponsesChain } from '../llm/normalize.js';
import type { Detection, LlmExchange, Usage } from '../llm/types.js';

export interface LlmFacts {
  detection?: Detection;
  exchange?: LlmExchange;
}

export type LlmReader = (record: CaptureRecord) => LlmFacts;

/** A reader for one pass: keeps a bounded Responses chain (older chains are forgotten first). */
export function createLlmReader(chainSize = 2000): LlmReader {
  const chain = new ResponsesChain(chainSize);
  return (record) => {
    if (record.kind === 'tunnel') return {};
    let exchange: LlmExchange | undefined;
    try {
      exchange = normalizeExchange(record, { chain });
    } catch {
      exchange = undefined;
    }
    if (exchange) return { detection: exchange.detection, exchange };
    try {
      return { detection: detect(record) };
    } catch {
      return {};
    }
  };
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
