// HAR export for the inspector (filtered list, saved sessions), built on the interop layer's
// entry writer so `agenttap import` gives the same records back. LLM facts go in `_llm`.
import type { CaptureRecord } from '../capture/record.js';
import { harEntryOf, harHead, harTail } from '../interop/har-export.js';
import { llmFactsOf, type LlmLayer } from '../analysis/llm-layer.js';

/** The HAR 1.2 document as text (entries written one by one, never one giant object graph). */
export function harText(records: Iterable<CaptureRecord>, llm: LlmLayer | undefined): string {
  const parts: string[] = [harHead()];
  let first = true;
  for (const record of records) {
    const entry = harEntryOf(record, llmFactsOf(llm, record).exchange);
    if (!entry) continue;
    parts.push(first ? JSON.stringify(entry) : `,${JSON.stringify(entry)}`);
    first = false;
  }
  parts.push(harTail());
  return parts.join('');
}
