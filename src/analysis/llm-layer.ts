// The LLM layer (src/llm), loaded once and lazily: analysis reads LLM facts through it and
// still works on raw HTTP (endpoints, statuses, sizes) when a family module throws on odd input.
import type { CaptureRecord } from '../capture/record.js';
import type { Detection, LlmExchange, Usage } from '../llm/types.js';

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

export interface LlmFacts {
  detection?: Detection;
  exchange?: LlmExchange;
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
