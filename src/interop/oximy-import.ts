// Oximy OISP events (mitmproxy addon, traces_YYYY-MM-DD.jsonl). A "full" event carries the
// provider's normalized request/response (and `_raw` request bodies when include_raw was on),
// not the HTTP exchange, so the record is rebuilt: URL from the provider's API, bodies in the
// provider's own JSON shape (marked with a note). Investigation-mode events (connection.url,
// raw bodies, SSE chunks) map directly. "identifiable" events keep method, path and status.
import type { CaptureRecord, HeaderList, RecordBody } from '../capture/record.js';
import { bodyFromValue, headersFromObject, importedRecord, toEpochMs } from './import-record.js';
import { isObject, num, str, type ImportContext } from './import-types.js';

const PROVIDER_API: Record<string, { origin: string; path: string; style: 'openai' | 'anthropic' | 'gemini' }> = {
  openai: { origin: 'https://api.openai.com', path: '/v1/chat/completions', style: 'openai' },
  anthropic: { origin: 'https://api.anthropic.com', path: '/v1/messages', style: 'anthropic' },
  google: { origin: 'https://generativelanguage.googleapis.com', path: '/v1beta/models/MODEL:generateContent', style: 'gemini' },
  gemini: { origin: 'https://generativelanguage.googleapis.com', path: '/v1beta/models/MODEL:generateContent', style: 'gemini' },
  groq: { origin: 'https://api.groq.com', path: '/openai/v1/chat/completions', style: 'openai' },
  mistral: { origin: 'https://api.mistral.ai', path: '/v1/chat/completions', style: 'openai' },
  deepseek: { origin: 'https://api.deepseek.com', path: '/v1/chat/completions', style: 'openai' },
  xai: { origin: 'https://api.x.ai', path: '/v1/chat/completions', style: 'openai' },
  openrouter: { origin: 'https://openrouter.ai', path: '/api/v1/chat/completions', style: 'openai' },
  perplexity: { origin: 'https://api.perplexity.ai', path: '/chat/completions', style: 'openai' },
};

const RECONSTRUCTED = 'rebuilt from the OISP event\'s normalized fields (the raw body was not captured)';

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((c) => (isObject(c) && typeof c.text === 'string' ? c.text : typeof c === 'string' ? c : '')).join('');
  return content === undefined || content === null ? '' : JSON.stringify(content);
}

function rebuiltResponse(style: 'openai' | 'anthropic' | 'gemini', res: Record<string, unknown>, model: string | undefined): unknown {
  const text = contentText(res.content);
  const usage = isObject(res.usage) ? res.usage : undefined;
  const input = usage ? num(usage.input_tokens) ?? num(usage.prompt_tokens) : undefined;
  const output = usage ? num(usage.output_tokens) ?? num(usage.completion_tokens) : undefined;
  const finish = str(res.finish_reason) ?? str(res.stop_reason);
  if (style === 'anthropic') {
    return { type: 'message', role: 'assistant', model, content: Array.isArray(res.content) ? res.content : [{ type: 'text', text }], stop_reason: finish ?? null, usage: { input_tokens: input ?? 0, output_tokens: output ?? 0 } };
  }
  if (style === 'gemini') {
    return { candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: finish }], usageMetadata: { promptTokenCount: input, candidatesTokenCount: output }, modelVersion: model };
  }
  return {
    object: 'chat.completion',
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: finish ?? null }],
    usage: { prompt_tokens: input ?? 0, completion_tokens: output ?? 0, total_tokens: (input ?? 0) + (output ?? 0) },
  };
}

function noted(body: RecordBody | undefined): RecordBody | undefined {
  if (body) body.note = RECONSTRUCTED;
  return body;
}

export function oximyEntryToRecord(entry: Record<string, unknown>, ctx: ImportContext): CaptureRecord | undefined {
  if (entry.type === 'session_start') return undefined; // investigation session header: no exchange
  const startedAtMs = toEpochMs(entry.timestamp) ?? toEpochMs(entry.ts) ?? (ctx.warn('event has no timestamp; using 0'), 0);
  const timing = isObject(entry.timing) ? entry.timing : {};
  const totalMs = num(timing.duration_ms);
  const ttfbMs = num(timing.ttfb_ms);
  const clientInfo = isObject(entry.client) ? entry.client : undefined;
  const client = clientInfo
    ? { ip: str(clientInfo.ip) ?? '127.0.0.1', port: num(clientInfo.port) ?? 0, pid: num(clientInfo.pid), process: str(clientInfo.name) }
    : undefined;
  if (client && client.pid === undefined) delete client.pid;
  if (client && client.process === undefined) delete client.process;
  const source = isObject(entry.source) ? entry.source : {};
  const providerId = str(source.id) ?? '';
  const labels: Record<string, string> = {};
  const level = str(entry.trace_level);
  if (level) labels.oispTraceLevel = level;
  if (providerId) labels.oispSource = `${str(source.type) ?? 'api'}:${providerId}`;
  const common = { startedAtMs, timing: { totalMs, ttfbMs }, client, source: 'oximy', labels, keepSecrets: ctx.keepSecrets };

  // Investigation mode: the real URL, headers and raw bodies.
  const connection = isObject(entry.connection) ? entry.connection : undefined;
  if (connection && str(connection.url)) {
    const req = isObject(entry.request) ? entry.request : {};
    const res = isObject(entry.response) ? entry.response : undefined;
    const sse = isObject(entry.sse) ? entry.sse : undefined;
    let responseBody = res ? bodyFromValue(res.body_raw ?? res.body_parsed) : undefined;
    if (!responseBody && sse && Array.isArray(sse.chunks)) {
      const text = sse.chunks.map((c) => (isObject(c) ? `data: ${str(c.data_raw) ?? ''}\n\n` : '')).join('');
      responseBody = bodyFromValue(text);
    }
    return importedRecord({
      ...common,
      method: str(connection.method) ?? 'POST',
      url: str(connection.url)!,
      requestHeaders: headersFromObject(req.headers),
      requestBody: bodyFromValue(req.body_raw ?? req.body_parsed),
      status: res ? num(res.status) ?? num(res.status_code) : undefined,
      responseHeaders: res ? headersFromObject(res.headers) : [],
      responseBody,
    });
  }

  const api = PROVIDER_API[providerId];
  const interaction = isObject(entry.interaction) ? entry.interaction : undefined;
  const metadata = isObject(entry.metadata) ? entry.metadata : undefined;
  const endpoint = str(source.endpoint);
  const origin = api?.origin ?? (providerId ? `https://${providerId}` : 'https://unknown.invalid');
  if (!api && providerId) ctx.warn(`unknown OISP source "${providerId}"; URL host guessed as ${providerId}`);

  if (metadata && !interaction) {
    return importedRecord({
      ...common,
      method: str(metadata.request_method) ?? 'GET',
      url: origin + (str(metadata.request_path) ?? '/'),
      requestHeaders: [],
      status: num(metadata.response_status),
      responseHeaders: [],
      responseBody: num(metadata.content_length) !== undefined ? { size: num(metadata.content_length)!, note: 'metadata-only OISP event: body not captured' } : undefined,
    });
  }
  if (!interaction) {
    ctx.warn('event has neither interaction nor metadata; skipped');
    return undefined;
  }
  const req = isObject(interaction.request) ? interaction.request : {};
  const res = isObject(interaction.response) ? interaction.response : undefined;
  const model = str(interaction.model) ?? str(req.model) ?? (res ? str(res.model) : undefined);
  let path = api?.path ?? (endpoint ? `/${endpoint}` : '/');
  if (api?.style === 'gemini') path = path.replace('MODEL', encodeURIComponent(model ?? 'unknown'));
  const { _raw: raw, ...normalizedRequest } = req;
  const requestBody = raw !== undefined ? bodyFromValue(raw) : noted(bodyFromValue(normalizedRequest));
  const rawResponse = res ? res._raw : undefined;
  const responseBody = res ? (rawResponse !== undefined ? bodyFromValue(rawResponse) : noted(bodyFromValue(rebuiltResponse(api?.style ?? 'openai', res, model)))) : undefined;
  const json: HeaderList = [['content-type', 'application/json']];
  return importedRecord({
    ...common,
    method: 'POST',
    url: origin + path,
    requestHeaders: json,
    requestBody,
    status: res ? 200 : undefined,
    responseHeaders: res ? json : [],
    responseBody,
  });
}
