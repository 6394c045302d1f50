// Fake OpenAI Responses API: POST /v1/responses (JSON or SSE) and the WebSocket transport Codex uses
// (wss://…/v1/responses: `response.create` up, `response.*` events down, one response per create).
// First turn: a function call to one of the offered tools; once a tool result is in the input: a
// final answer quoting it. Events follow the documented shapes so the official SDK's ResponseStream
// accumulates them.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { chooseToolCall, summarizeToolOutput, TOOL_MARKER, type OfferedTool } from './tool-choice.js';

interface InputItem {
  type?: string;
  role?: string;
  content?: unknown;
  output?: unknown;
  call_id?: string;
  /** `additional_tools` items (Codex 0.169): tools declared inside the input. */
  tools?: ToolDecl[];
}

interface ToolDecl {
  type?: string;
  name?: string;
  description?: string;
  parameters?: unknown;
  /** `namespace` tools group others. */
  tools?: ToolDecl[];
}

export interface ResponsesRequest {
  model?: string;
  input?: string | InputItem[];
  tools?: ToolDecl[];
  stream?: boolean;
  previous_response_id?: string;
  /** false: a warm-up request (Codex prewarms its WebSocket); answered with an empty response. */
  generate?: boolean;
}

/** Every callable tool: top-level `tools`, tools in `additional_tools` input items, namespaces flattened. */
export function offeredTools(req: ResponsesRequest): ToolDecl[] {
  const out: ToolDecl[] = [];
  const walk = (list: ToolDecl[] | undefined): void => {
    for (const t of list ?? []) {
      if (t.type === 'namespace') walk(t.tools);
      else if (t.name) out.push(t);
    }
  };
  walk(req.tools);
  if (Array.isArray(req.input)) for (const i of req.input) if (i.type === 'additional_tools') walk(i.tools);
  return out;
}

/**
 * Codex's code mode offers one free-form `exec` tool that runs JavaScript with the real tools on a
 * `tools` object; the call is a script that runs a shell command and returns its output.
 */
const CODE_MODE_SCRIPT = `const r = await tools.exec_command({ cmd: "echo ${TOOL_MARKER}" });\ntext(typeof r === "string" ? r : r.output);`;

let counter = 0;
const nextId = (p: string): string => `${p}_fake${Date.now().toString(36)}${(counter++).toString(36)}`;

function toolOutput(req: ResponsesRequest): unknown {
  if (!Array.isArray(req.input)) return undefined;
  const out = [...req.input].reverse().find((i) => typeof i.type === 'string' && i.type.endsWith('_output'));
  return out?.output;
}

function approxTokens(v: unknown): number {
  return Math.max(1, Math.ceil(JSON.stringify(v ?? '').length / 4));
}

/** The `response.*` events for one request (pure, apart from fresh ids). */
export function responsesEvents(req: ResponsesRequest): Record<string, unknown>[] {
  const model = req.model ?? 'gpt-5-codex';
  const id = nextId('resp');
  const created_at = Math.floor(Date.now() / 1000);
  const base = { id, object: 'response', created_at, model, previous_response_id: req.previous_response_id ?? null, tools: req.tools ?? [] };
  const events: Record<string, unknown>[] = [];
  let seq = 0;
  const push = (type: string, body: Record<string, unknown>): void => {
    events.push({ type, sequence_number: seq++, ...body });
  };
  push('response.created', { response: { ...base, status: 'in_progress', output: [] } });
  if (req.generate === false) {
    push('response.completed', { response: { ...base, status: 'completed', output: [], usage: { input_tokens: 0, input_tokens_details: { cached_tokens: 0 }, output_tokens: 0, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 0 } } });
    return events;
  }
  push('response.in_progress', { response: { ...base, status: 'in_progress', output: [] } });

  const result = toolOutput(req);
  const tools = offeredTools(req);
  const codeMode = tools.find((t) => t.type === 'custom' && t.name === 'exec' && /tools\.exec_command/.test(t.description ?? ''));
  const offered: OfferedTool[] = tools.filter((t) => t.type !== 'custom').map((t) => ({ name: t.name!, schema: t.parameters }));
  const call = result === undefined && !codeMode ? chooseToolCall(offered) : undefined;
  let item: Record<string, unknown>;
  if (result === undefined && codeMode) {
    const itemId = nextId('ctc');
    item = { type: 'custom_tool_call', id: itemId, call_id: nextId('call'), name: codeMode.name, input: CODE_MODE_SCRIPT, status: 'completed' };
    push('response.output_item.added', { output_index: 0, item: { ...item, input: '', status: 'in_progress' } });
    push('response.custom_tool_call_input.delta', { item_id: itemId, output_index: 0, delta: CODE_MODE_SCRIPT });
    push('response.custom_tool_call_input.done', { item_id: itemId, output_index: 0, input: CODE_MODE_SCRIPT });
    push('response.output_item.done', { output_index: 0, item });
  } else if (call) {
    const args = JSON.stringify(call.args);
    const itemId = nextId('fc');
    const callId = nextId('call');
    item = { type: 'function_call', id: itemId, call_id: callId, name: call.name, arguments: args, status: 'completed' };
    push('response.output_item.added', { output_index: 0, item: { ...item, arguments: '', status: 'in_progress' } });
    const mid = Math.ceil(args.length / 2);
    for (const delta of [args.slice(0, mid), args.slice(mid)]) push('response.function_call_arguments.delta', { item_id: itemId, output_index: 0, delta });
    push('response.function_call_arguments.done', { item_id: itemId, output_index: 0, arguments: args });
    push('response.output_item.done', { output_index: 0, item });
  } else {
    const text = result === undefined ? `Hello from the agenttap fake upstream (${TOOL_MARKER}).` : `Done. The tool said: ${summarizeToolOutput(result)}`;
    const itemId = nextId('msg');
    const part = { type: 'output_text', text, annotations: [] };
    item = { type: 'message', id: itemId, role: 'assistant', status: 'completed', content: [part] };
    push('response.output_item.added', { output_index: 0, item: { ...item, status: 'in_progress', content: [] } });
    push('response.content_part.added', { item_id: itemId, output_index: 0, content_index: 0, part: { ...part, text: '' } });
    const words = text.split(/(?<= )/);
    for (const delta of words) push('response.output_text.delta', { item_id: itemId, output_index: 0, content_index: 0, delta, logprobs: [] });
    push('response.output_text.done', { item_id: itemId, output_index: 0, content_index: 0, text, logprobs: [] });
    push('response.content_part.done', { item_id: itemId, output_index: 0, content_index: 0, part });
    push('response.output_item.done', { output_index: 0, item });
  }
  const input_tokens = approxTokens(req.input);
  const output_tokens = approxTokens(item);
  push('response.completed', {
    response: {
      ...base,
      status: 'completed',
      output: [item],
      usage: { input_tokens, input_tokens_details: { cached_tokens: 0 }, output_tokens, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: input_tokens + output_tokens },
    },
  });
  return events;
}

export function isResponsesPath(path: string): boolean {
  return /^(\/[^?]*)?\/responses(\?|$)/.test(path) && !/\/responses\/[^?]/.test(path);
}

/** POST /v1/responses over HTTP: SSE when `stream: true`, else the completed response as JSON. */
export function serveResponsesHttp(body: unknown, res: ServerResponse): void {
  const req = (body ?? {}) as ResponsesRequest;
  const events = responsesEvents(req);
  if (!req.stream) {
    const done = events[events.length - 1]!['response'];
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(done));
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let i = 0;
  const tick = (): void => {
    // A few events per write, with a tick between, so clients see a real stream.
    for (let n = 0; n < 3 && i < events.length; n++, i++) res.write(`event: ${events[i]!['type']}\ndata: ${JSON.stringify(events[i])}\n\n`);
    if (i < events.length) setTimeout(tick, 2);
    else res.end();
  };
  tick();
}

/**
 * The WebSocket transport: upgrade requests for …/responses are accepted; every `response.create`
 * message gets its events back as text frames.
 */
export function createResponsesWebSocket(): { handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): boolean; close(): void } {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: true });
  wss.on('connection', (ws: WebSocket) => {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      let msg: ResponsesRequest & { type?: string };
      try {
        msg = JSON.parse(data.toString()) as typeof msg;
      } catch {
        ws.send(JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: 'message is not JSON' } }));
        return;
      }
      if (msg.type !== 'response.create') {
        ws.send(JSON.stringify({ type: 'error', error: { type: 'invalid_request_error', message: `unsupported message type ${msg.type}` } }));
        return;
      }
      const payload = (msg as { response?: ResponsesRequest }).response ?? msg;
      for (const ev of responsesEvents(payload)) ws.send(JSON.stringify(ev));
    });
    ws.on('error', () => {});
  });
  return {
    handleUpgrade(req, socket, head) {
      if (!isResponsesPath(req.url ?? '')) return false;
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
      return true;
    },
    close() {
      for (const c of wss.clients) c.terminate();
      wss.close();
    },
  };
}
