// Fake Gemini API: POST /v1beta/models/{model}:generateContent and :streamGenerateContent (SSE with
// ?alt=sse, else a JSON array), plus :countTokens. First turn: a functionCall to one of the offered
// function declarations; once a functionResponse is in the contents: a final text answer quoting it.
// Requests asking for JSON (responseMimeType application/json, as Gemini CLI's routing and
// next-speaker checks do) get an object built from their schema.
import type { ServerResponse } from 'node:http';
import { chooseToolCall, fillFromSchema, summarizeToolOutput, TOOL_MARKER, type OfferedTool } from './tool-choice.js';

interface Part {
  text?: string;
  functionCall?: { name: string; args?: unknown };
  functionResponse?: { name: string; response?: unknown };
}
interface Content {
  role?: string;
  parts?: Part[];
}
export interface GeminiRequest {
  contents?: Content[];
  tools?: { functionDeclarations?: { name: string; parameters?: unknown; parametersJsonSchema?: unknown }[] }[];
  generationConfig?: { responseMimeType?: string; responseSchema?: unknown; responseJsonSchema?: unknown };
  systemInstruction?: unknown;
}

const ROUTE = /^\/v1(?:beta|alpha)?\/models\/([^/:?]+):(generateContent|streamGenerateContent|countTokens)(?:\?(.*))?$/;

export function matchGeminiPath(path: string): { model: string; method: string; sse: boolean } | undefined {
  const m = ROUTE.exec(path);
  if (!m) return undefined;
  return { model: decodeURIComponent(m[1]!), method: m[2]!, sse: new URLSearchParams(m[3] ?? '').get('alt') === 'sse' };
}

function approxTokens(v: unknown): number {
  return Math.max(1, Math.ceil(JSON.stringify(v ?? '').length / 4));
}

function lastFunctionResponse(req: GeminiRequest): unknown {
  const last = req.contents?.[req.contents.length - 1];
  return last?.parts?.find((p) => p.functionResponse)?.functionResponse?.response;
}

/** The response parts for one request, split into stream chunks (pure). */
export function geminiChunks(req: GeminiRequest, model: string): Record<string, unknown>[] {
  const usage = (out: unknown) => {
    const p = approxTokens(req.contents);
    const c = approxTokens(out);
    return { promptTokenCount: p, candidatesTokenCount: c, totalTokenCount: p + c };
  };
  const wrap = (parts: Part[], finish?: string, withUsage = false): Record<string, unknown> => ({
    candidates: [{ content: { role: 'model', parts }, index: 0, ...(finish ? { finishReason: finish } : {}) }],
    ...(withUsage ? { usageMetadata: usage(parts) } : {}),
    modelVersion: model,
    responseId: `fake-${Date.now().toString(36)}`,
  });
  const gc = req.generationConfig;
  if (gc?.responseMimeType === 'application/json') {
    const schema = gc.responseJsonSchema ?? gc.responseSchema ?? { type: 'object' };
    return [wrap([{ text: JSON.stringify(fillFromSchema(lowerTypes(schema))) }], 'STOP', true)];
  }
  const result = lastFunctionResponse(req);
  const offered: OfferedTool[] = (req.tools ?? []).flatMap((t) => t.functionDeclarations ?? []).map((d) => ({ name: d.name, schema: lowerTypes(d.parametersJsonSchema ?? d.parameters) }));
  const call = result === undefined ? chooseToolCall(offered) : undefined;
  if (call) return [wrap([{ functionCall: { name: call.name, args: call.args } }], 'STOP', true)];
  const text = result === undefined ? `Hello from the agenttap fake upstream (${TOOL_MARKER}).` : `Done. The tool said: ${summarizeToolOutput(result)}`;
  const mid = Math.ceil(text.length / 2);
  return [wrap([{ text: text.slice(0, mid) }]), wrap([{ text: text.slice(mid) }], 'STOP', true)];
}

/** Gemini's OpenAPI-style schemas use upper-case types ("OBJECT"); fillFromSchema wants JSON Schema's. */
function lowerTypes(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(lowerTypes);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(schema)) out[k] = k === 'type' && typeof v === 'string' ? v.toLowerCase() : lowerTypes(v);
  return out;
}

export function serveGemini(path: string, body: unknown, res: ServerResponse): boolean {
  const route = matchGeminiPath(path);
  if (!route) return false;
  const req = (body ?? {}) as GeminiRequest;
  if (route.method === 'countTokens') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ totalTokens: approxTokens(req.contents) }));
    return true;
  }
  const chunks = geminiChunks(req, route.model);
  if (route.method === 'generateContent') {
    // Non-streaming: one response with the chunks' parts merged.
    const parts = chunks.flatMap((c) => ((c['candidates'] as { content: Content }[])[0]!.content.parts ?? []) as Part[]);
    const merged = parts.every((p) => p.text !== undefined) ? [{ text: parts.map((p) => p.text).join('') }] : parts;
    const last = chunks[chunks.length - 1]!;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ...last, candidates: [{ content: { role: 'model', parts: merged }, index: 0, finishReason: 'STOP' }] }));
    return true;
  }
  if (route.sse) {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let i = 0;
    const tick = (): void => {
      if (i < chunks.length) {
        res.write(`data: ${JSON.stringify(chunks[i++])}\r\n\r\n`);
        setTimeout(tick, 2);
      } else res.end();
    };
    tick();
  } else {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(chunks));
  }
  return true;
}
