// Exchanges as OTLP/HTTP JSON spans with the OpenTelemetry GenAI semantic conventions
// (gen_ai.operation.name, gen_ai.provider.name, gen_ai.request.model, gen_ai.usage.*, …), one
// trace per session, so any OTel backend (Jaeger, Tempo, Langfuse, Phoenix) can show them.
import { createHash } from 'node:crypto';
import type { CaptureRecord } from '../capture/record.js';
import type { ExchangeSummary } from '../analysis/exchange-summary.js';
import type { LlmExchange } from '../llm/types.js';

export type OtlpValue =
  | { stringValue: string }
  | { intValue: string }
  | { doubleValue: number }
  | { boolValue: boolean }
  | { arrayValue: { values: OtlpValue[] } };

export interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}

export interface OtlpSpan {
  traceId: string;
  spanId: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: OtlpAttribute[];
  status: { code: number; message?: string };
}

const SPAN_KIND_CLIENT = 3;
const STATUS_OK = 1;
const STATUS_ERROR = 2;

function hex(input: string, bytes: number): string {
  return createHash('sha256').update(input).digest('hex').slice(0, bytes * 2);
}

function attr(out: OtlpAttribute[], key: string, value: string | number | boolean | string[] | undefined | null): void {
  if (value === undefined || value === null || value === '') return;
  if (Array.isArray(value)) out.push({ key, value: { arrayValue: { values: value.map((v) => ({ stringValue: v })) } } });
  else if (typeof value === 'string') out.push({ key, value: { stringValue: value } });
  else if (typeof value === 'boolean') out.push({ key, value: { boolValue: value } });
  else if (Number.isInteger(value)) out.push({ key, value: { intValue: String(value) } });
  else out.push({ key, value: { doubleValue: value } });
}

function operationOf(api: string | undefined): string {
  if (!api) return 'chat';
  if (api.includes('embedding')) return 'embeddings';
  if (api.startsWith('gemini.generate')) return 'generate_content';
  if (api.includes('count_tokens')) return 'count_tokens';
  if (api === 'openai.completions') return 'text_completion';
  return 'chat';
}

function nanos(ms: number): string {
  return (BigInt(Math.round(ms * 1000)) * 1000n).toString();
}

export function spanOf(record: CaptureRecord, summary: ExchangeSummary, exchange: LlmExchange | undefined, session?: string, conversation?: string): OtlpSpan | undefined {
  if (!record.request) return undefined;
  const start = summary.t;
  const end = start + (summary.durationMs ?? 0);
  const attributes: OtlpAttribute[] = [];
  const llm = summary.llm;
  let name = `${record.request.method} ${summary.host}`;
  if (llm) {
    const op = operationOf(llm.api);
    name = `${op} ${llm.model ?? ''}`.trim();
    attr(attributes, 'gen_ai.operation.name', op);
    attr(attributes, 'gen_ai.provider.name', llm.provider);
    attr(attributes, 'gen_ai.system', llm.provider);
    attr(attributes, 'gen_ai.request.model', llm.model);
    attr(attributes, 'gen_ai.response.model', llm.model);
    if (llm.stopReason) attr(attributes, 'gen_ai.response.finish_reasons', [llm.stopReason]);
    const u = llm.usage;
    if (u) {
      attr(attributes, 'gen_ai.usage.input_tokens', u.input);
      attr(attributes, 'gen_ai.usage.output_tokens', u.output);
      attr(attributes, 'gen_ai.usage.cache_read.input_tokens', u.cacheRead);
      attr(attributes, 'gen_ai.usage.cache_creation.input_tokens', u.cacheWrite);
      attr(attributes, 'gen_ai.usage.reasoning_tokens', u.reasoning);
    }
    attr(attributes, 'gen_ai.agent.name', llm.agent);
    attr(attributes, 'gen_ai.conversation.id', conversation);
    if (exchange) {
      const tools = exchange.request.tools.map((t) => t.name);
      if (tools.length) attr(attributes, 'gen_ai.request.tools', tools);
    }
    if (llm.toolCalls.length) attr(attributes, 'gen_ai.response.tool_calls', llm.toolCalls);
    attr(attributes, 'gen_ai.request.stream', llm.stream);
    if (llm.costUsd !== undefined) attr(attributes, 'gen_ai.usage.cost_usd', llm.costUsd);
    if (summary.ttftMs !== undefined) attr(attributes, 'gen_ai.response.time_to_first_chunk_ms', summary.ttftMs);
  }
  attr(attributes, 'http.request.method', record.request.method);
  attr(attributes, 'url.full', record.request.url);
  attr(attributes, 'server.address', summary.host);
  attr(attributes, 'server.port', record.server.port);
  attr(attributes, 'http.response.status_code', summary.status);
  attr(attributes, 'session.id', session);
  attr(attributes, 'agenttap.exchange.id', record.id);
  const failed = !!record.error || (summary.status !== undefined && summary.status >= 400) || !!llm?.error;
  if (failed) attr(attributes, 'error.type', record.error?.code ?? record.error?.phase ?? (summary.status ? String(summary.status) : 'llm_error'));
  const status: OtlpSpan['status'] = failed ? { code: STATUS_ERROR, message: record.error?.message ?? llm?.error ?? `HTTP ${summary.status}` } : { code: STATUS_OK };
  return {
    traceId: hex(`trace:${session ?? record.id}`, 16),
    spanId: hex(`span:${record.id}`, 8),
    name,
    kind: SPAN_KIND_CLIENT,
    startTimeUnixNano: nanos(start),
    endTimeUnixNano: nanos(end),
    attributes,
    status,
  };
}

/** One ExportTraceServiceRequest (OTLP/HTTP JSON body) for a batch of spans. */
export function otlpRequest(spans: OtlpSpan[], serviceName = 'agenttap'): Record<string, unknown> {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: serviceName } }] },
        scopeSpans: [{ scope: { name: 'agenttap', version: '0.1.0' }, spans }],
      },
    ],
  };
}

/** `http://collector:4318` → `http://collector:4318/v1/traces`; a URL with a path is used as given. */
export function tracesUrl(endpoint: string): string {
  const u = new URL(endpoint);
  if (u.pathname === '' || u.pathname === '/') u.pathname = '/v1/traces';
  return u.toString();
}
