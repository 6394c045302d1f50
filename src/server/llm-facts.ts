// LLM facts for the inspector, computed server-side from the LLM layer (src/llm): the UI gets
// the normalized exchange, never parses provider formats itself. The layer is loaded once,
// lazily, so the server still serves raw traffic when a family module throws on odd input.
import type { CaptureRecord } from '../capture/record.js';
import type { Detection, LlmExchange } from '../llm/types.js';

interface LlmLayer {
  normalizeExchange(record: CaptureRecord): LlmExchange | undefined;
  detect(record: CaptureRecord): Detection;
  contextKey?(system: string): string;
  costOf?(model: string, usage: NonNullable<LlmExchange['response']['usage']>): number | undefined;
}

let layer: Promise<LlmLayer | undefined> | undefined;

async function importOptional(spec: string): Promise<Record<string, unknown> | undefined> {
  try {
    return (await import(spec)) as Record<string, unknown>;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw e;
  }
}

/** Loads src/llm once. Resolves undefined when the layer is not part of this build. */
export function loadLlmLayer(): Promise<LlmLayer | undefined> {
  layer ??= (async () => {
    const normalize = await importOptional('../llm/normalize.js');
    const detectMod = await importOptional('../llm/detect.js');
    if (!normalize || typeof normalize.normalizeExchange !== 'function') return undefined;
    const context = (await importOptional('../llm/context-key.js')) ?? normalize;
    const pricing = (await importOptional('../llm/pricing.js')) ?? normalize;
    return {
      normalizeExchange: normalize.normalizeExchange as LlmLayer['normalizeExchange'],
      detect: (detectMod?.detect ?? normalize.detect) as LlmLayer['detect'],
      contextKey: (context.contextKey as LlmLayer['contextKey']) ?? undefined,
      costOf: (pricing.costOf as LlmLayer['costOf']) ?? undefined,
    };
  })();
  return layer;
}

export interface LlmFacts {
  detection?: Detection;
  exchange?: LlmExchange;
}

/** Detection plus the normalized exchange; a family that throws on odd input costs only its facts. */
export function llmFactsOf(llm: LlmLayer | undefined, record: CaptureRecord): LlmFacts {
  if (!llm || record.kind === 'tunnel') return {};
  let exchange: LlmExchange | undefined;
  let detection: Detection | undefined;
  try {
    exchange = llm.normalizeExchange(record);
  } catch {
    exchange = undefined;
  }
  if (exchange) {
    detection = exchange.detection;
    if (!exchange.contextKey && exchange.request.system && llm.contextKey) {
      try {
        exchange.contextKey = llm.contextKey(exchange.request.system);
      } catch {
        /* no key: the row gets no colour bar */
      }
    }
    if (exchange.costUsd === undefined && exchange.model && exchange.response.usage && llm.costOf) {
      try {
        exchange.costUsd = llm.costOf(exchange.model, exchange.response.usage);
      } catch {
        /* unknown price */
      }
    }
  } else {
    try {
      detection = llm.detect(record);
    } catch {
      detection = undefined;
    }
  }
  return { detection, exchange };
}
