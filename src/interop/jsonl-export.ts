// The llm-interceptor style JSONL export: one line per request/response pair, bodies as parsed
// JSON when they are JSON (SSE streams stay text), plus the LLM facts a script wants.
import type { CaptureRecord, HeaderList, RecordBody } from '../capture/record.js';
import type { ExchangeSummary } from '../analysis/exchange-summary.js';

function headerObject(headers: HeaderList | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of headers ?? []) {
    const key = k.toLowerCase();
    out[key] = key in out ? `${out[key]}, ${v}` : v;
  }
  return out;
}

function bodyValue(body: RecordBody | undefined): unknown {
  if (!body) return null;
  if (body.text === undefined) return body.base64 !== undefined ? { base64: body.base64 } : null;
  const t = body.text;
  const c = t.charCodeAt(0);
  if (!body.truncated && (c === 0x7b || c === 0x5b)) {
    try {
      return JSON.parse(t);
    } catch {
      return t;
    }
  }
  return t;
}

export function jsonlEntryOf(record: CaptureRecord, summary: ExchangeSummary, session?: string, conversation?: string): Record<string, unknown> | undefined {
  if (!record.request) return undefined;
  const llm = summary.llm;
  return {
    id: record.id,
    timestamp: record.startedAt,
    session: session ?? null,
    conversation: conversation ?? null,
    provider: llm?.provider ?? null,
    api: llm?.api ?? null,
    model: llm?.model ?? null,
    stream: llm?.stream ?? false,
    request: { method: record.request.method, url: record.request.url, headers: headerObject(record.request.headers), body: bodyValue(record.request.body) },
    response: record.response ? { status: record.response.status, headers: headerObject(record.response.headers), body: bodyValue(record.response.body) } : null,
    latency_ms: summary.durationMs ?? null,
    ttfb_ms: summary.ttfbMs ?? null,
    usage: llm?.usage ?? null,
    cost_usd: llm?.costUsd ?? null,
    error: record.error ? record.error.message : null,
  };
}
