// Cursor (api2.cursor.sh, agent*.api5.cursor.sh): Connect-RPC with protobuf bodies. Protocols:
//  - agent.v1 (Cursor 1.x/2.x agent): AgentClientMessage up (run request, exec results, …),
//    AgentServerMessage down (interaction updates: text/thinking deltas, tool calls, token deltas,
//    turn end; exec requests: shell/read/write/ls/grep/mcp). It runs as a bidi h2 stream (`Run`), or
//    as `RunSSE` (down) + `BidiAppend` (up, the client message hex-encoded in a unary call).
//  - aiserver.v1.ChatService/StreamUnifiedChatWithTools (older chat/composer, with tool calls).
//  - aiserver.v1.AiService/Stream* (StreamComposer, StreamChat…): conversation up, text down.
// Field numbers come from data/cursor.json, so a Cursor protocol update is a data change. Bodies are
// read with the framing decoders of src/protocols; fields with known numbers are read exactly
// (decodeFlat), unknown sub-messages are shown through the schema-less decoder.
import { readFileSync } from 'node:fs';
import { bodyBytes, headerValue, type CaptureRecord, type HeaderList, type RecordBody } from '../capture/record.js';
import { concatBytes, parseHex } from '../protocols/binary-text.js';
import { decodeBinaryBody, formatOfContentType } from '../protocols/binary-body.js';
import { ConnectStreamDecoder, parseConnectUnaryError, type ConnectEvent } from '../protocols/connect-envelope.js';
import { GrpcWebDecoder, type GrpcWebEvent } from '../protocols/grpc-web.js';
import { percentDecode } from '../protocols/grpc.js';
import { SseEnvelopeDecoder } from '../protocols/sse-envelopes.js';
import type { DecodeIssue } from '../protocols/decode-issue.js';
import { atPath, first, flat, strictText, sub, textAt, textOf, toObject, utf8, type FieldPath } from '../protocols/protobuf-fields.js';
import type { FlatField } from '../protocols/protobuf-schemaless.js';
import type { ApiFamily, Block, LlmRequest, LlmResponse, ToolSpec, Turn, Usage } from './types.js';

type NameMap = Record<string, string>;

export interface CursorData {
  paths: { agentStream: string[]; agentPrefix: string[]; agentSse: string[]; bidiAppend: string[]; unifiedChat: string[]; aiChatPrefix: string[] };
  agent: {
    clientMessage: NameMap;
    serverMessage: NameMap;
    interactionUpdate: NameMap;
    deltaText: number;
    tokenDeltaTokens: number;
    toolCallUpdate: { callId: number; toolCall: number };
    toolCall: { kinds: NameMap; args: number; result: number };
    runRequest: { userText: FieldPath[]; model: FieldPath[]; conversationId: FieldPath[]; system: FieldPath[]; tools: { list: FieldPath; name: number; description: number } };
    conversationAction: { userText: FieldPath[] };
    execServerMessage: { id: number; execId: number; kinds: NameMap };
    execClientMessage: { id: number; execId: number; kinds: NameMap };
    args: Record<string, NameMap>;
    results: Record<string, NameMap>;
    bidiAppend: { data: number; requestId: FieldPath; seqno: number };
    userMessageAppended: { text: FieldPath[] };
    /** How deep to look inside kv_server_message for JSON prompt blobs ({"role","content"}). */
    kvBlobScanDepth: number;
  };
  unifiedChat: {
    request: {
      chatRequest: number;
      toolResult: number;
      conversation: number;
      messageText: number;
      messageType: number;
      messageTypes: NameMap;
      messageThinking: FieldPath;
      model: FieldPath;
      conversationId: number;
      mcpTools: { list: FieldPath; name: number; description: number };
    };
    toolResult: { tool: number; callId: number; error: number; fields: NameMap };
    response: { toolCall: number; chatResponse: number; text: number; thinking: FieldPath };
    toolCall: { tool: number; callId: number; name: number; rawArgs: number };
    tools: NameMap;
  };
  aiChat: {
    /** Request layouts by method name (field 0 = not present). */
    methods: Record<string, AiChatRequestSpec>;
    /** Methods whose responses are StreamChatResponse-like ({ text = responseText }). */
    textResponses: string[];
    responseText: number;
  };
}

interface AiChatRequestSpec {
  conversation: number;
  model: FieldPath;
  conversationId: number;
}

let cached: CursorData | undefined;

/** The field-number table (data/cursor.json), read once. */
export function cursorData(): CursorData {
  cached ??= JSON.parse(readFileSync(new URL('../../../data/cursor.json', import.meta.url), 'utf8')) as CursorData;
  return cached;
}

/** Which protocol a path speaks; 'unknown' paths are not guessed at (their turns stay empty). */
type Route = 'agent' | 'agentSse' | 'bidiAppend' | 'unifiedChat' | 'aiChat' | 'unknown';

function routeOf(record: CaptureRecord, data: CursorData): Route {
  return routeOfUrl(record.request?.url ?? '', data);
}

function routeOfUrl(url: string, data: CursorData): Route {
  const path = /^[a-z][a-z0-9+.-]*:\/\/[^/]+(\/[^?#]*)/i.exec(url)?.[1] ?? url.split('?')[0] ?? '';
  const is = (list: string[]) => list.some((p) => path === p || path.endsWith(p));
  if (is(data.paths.bidiAppend)) return 'bidiAppend';
  if (is(data.paths.agentSse)) return 'agentSse';
  if (is(data.paths.unifiedChat)) return 'unifiedChat';
  if (data.paths.aiChatPrefix.some((p) => path.startsWith(p))) {
    const method = path.slice(path.lastIndexOf('/') + 1);
    if (data.aiChat.methods[method] || data.aiChat.textResponses.includes(method)) return 'aiChat';
  }
  if (is(data.paths.agentStream) || data.paths.agentPrefix.some((p) => path.startsWith(p))) return 'agent';
  return 'unknown';
}

function parseJsonMaybe(text: string): unknown {
  const t = text.trim();
  if (!t.startsWith('{') && !t.startsWith('[')) return text;
  try {
    return JSON.parse(t);
  } catch {
    return text;
  }
}

// ---- building turns --------------------------------------------------------------------------

class Turns {
  readonly turns: Turn[] = [];

  private current(role: Turn['role']): Turn {
    const last = this.turns[this.turns.length - 1];
    if (last && last.role === role) return last;
    const t: Turn = { role, blocks: [] };
    this.turns.push(t);
    return t;
  }

  text(role: Turn['role'], text: string): void {
    if (text === '') return;
    const t = this.current(role);
    const last = t.blocks[t.blocks.length - 1];
    if (last?.type === 'text') last.text += text;
    else t.blocks.push({ type: 'text', text });
  }

  thinking(text: string): void {
    if (text === '') return;
    const t = this.current('assistant');
    const last = t.blocks[t.blocks.length - 1];
    if (last?.type === 'thinking') last.text += text;
    else t.blocks.push({ type: 'thinking', text });
  }

  hasText(role: Turn['role'], text: string): boolean {
    return this.turns.some((t) => t.role === role && t.blocks.some((b) => b.type === 'text' && b.text === text));
  }

  findCall(id: string): Extract<Block, { type: 'tool_call' }> | undefined {
    for (const t of this.turns) for (const b of t.blocks) if (b.type === 'tool_call' && b.id === id) return b;
    return undefined;
  }

  private readonly claimed = new Set<Block>();

  /** Finds a not yet claimed tool call with this name and input, and claims it. */
  claimSameCall(name: string, input: unknown): Extract<Block, { type: 'tool_call' }> | undefined {
    const key = JSON.stringify(input);
    for (const t of this.turns) {
      for (const b of t.blocks) {
        if (b.type === 'tool_call' && b.name === name && !this.claimed.has(b) && JSON.stringify(b.input) === key) {
          this.claimed.add(b);
          return b;
        }
      }
    }
    return undefined;
  }

  toolCall(id: string | undefined, name: string, input: unknown): void {
    const existing = id ? this.findCall(id) : undefined;
    if (existing) {
      existing.name = name;
      if (input !== undefined && !(isEmptyObject(input) && !isEmptyObject(existing.input))) existing.input = input;
      return;
    }
    const block: Block = id ? { type: 'tool_call', id, name, input: input ?? {} } : { type: 'tool_call', name, input: input ?? {} };
    this.current('assistant').blocks.push(block);
  }

  toolResult(id: string | undefined, output: unknown, isError: boolean): void {
    const block: Block = { type: 'tool_result', output };
    if (id) block.id = id;
    if (isError) block.isError = true;
    this.current('tool').blocks.push(block);
  }
}

function isEmptyObject(v: unknown): boolean {
  return !!v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0;
}

// ---- the agent.v1 protocol -------------------------------------------------------------------

interface RequestState {
  turns: Turns;
  model?: string;
  conversationId?: string;
  system?: string;
  tools: ToolSpec[];
  /** exec-N → the model's call id, learnt from the response (so results pair with their calls). */
  execToCall?: Map<string, string>;
}

function applyClientMessage(bytes: Uint8Array, s: RequestState, d: CursorData): void {
  const a = d.agent;
  for (const f of flat(bytes)) {
    const kind = a.clientMessage[String(f.field)];
    if (!f.bytes) continue;
    if (kind === 'run_request') {
      const user = textAt(f.bytes, a.runRequest.userText);
      if (user !== undefined) s.turns.text('user', user);
      s.model ??= textAt(f.bytes, a.runRequest.model);
      s.conversationId ??= textAt(f.bytes, a.runRequest.conversationId);
      s.system ??= textAt(f.bytes, a.runRequest.system);
      const listPath = a.runRequest.tools.list;
      const holder = listPath.length > 1 ? atPath(f.bytes, listPath.slice(0, -1))?.bytes : f.bytes;
      for (const t of flat(holder).filter((x) => x.field === listPath[listPath.length - 1] && x.bytes)) {
        const tf = flat(t.bytes);
        const name = textOf(tf, a.runRequest.tools.name);
        if (!name) continue;
        const desc = textOf(tf, a.runRequest.tools.description);
        s.tools.push(desc ? { name, description: desc } : { name });
      }
    } else if (kind === 'conversation_action') {
      const user = textAt(f.bytes, a.conversationAction.userText);
      if (user !== undefined) s.turns.text('user', user);
    } else if (kind === 'exec_client_message') {
      const r = execPayload(f.bytes, a.execClientMessage, a.results);
      if (r) s.turns.toolResult(s.execToCall?.get(r.id) ?? r.id, r.value, r.isError);
    }
  }
}

function execPayload(bytes: Uint8Array, spec: { id: number; execId: number; kinds: NameMap }, names: Record<string, NameMap>): { id: string; kind: string; value: Record<string, unknown>; isError: boolean } | undefined {
  const fields = flat(bytes);
  const id = first(fields, spec.id)?.num ?? 0;
  for (const f of fields) {
    const kind = spec.kinds[String(f.field)];
    if (!kind || f.wire !== 2 || !f.bytes) continue;
    const value = toObject(f.bytes, names[kind]);
    const isError = ['error', 'rejected', 'permission_denied', 'tool_not_found', 'tool_error'].some((k) => k in value);
    return { id: `exec-${id}`, kind, value, isError };
  }
  return undefined;
}

function newResponseState(): ResponseState {
  return { turns: new Turns(), usage: {}, sawTokens: false, execToCall: new Map() };
}

interface ResponseState {
  turns: Turns;
  usage: Usage;
  sawTokens: boolean;
  stopReason?: string;
  execToCall: Map<string, string>;
}

function applyServerMessage(bytes: Uint8Array, s: ResponseState, d: CursorData): void {
  const a = d.agent;
  for (const f of flat(bytes)) {
    const kind = a.serverMessage[String(f.field)];
    if (!f.bytes) continue;
    if (kind === 'interaction_update') applyInteractionUpdate(f.bytes, s, d);
    else if (kind === 'exec_server_message') {
      const e = execPayload(f.bytes, a.execServerMessage, a.args);
      if (!e) continue;
      // The model's tool call (tool_call_started) and the exec request the client runs for it are
      // one action: show it once.
      const callId = typeof e.value.tool_call_id === 'string' ? e.value.tool_call_id : undefined;
      if (callId && s.turns.findCall(callId)) {
        s.execToCall.set(e.id, callId);
        continue;
      }
      const same = s.turns.claimSameCall(toolName(e.kind, e.value), e.value);
      if (same) {
        if (same.id) s.execToCall.set(e.id, same.id);
        continue;
      }
      s.turns.toolCall(e.id, toolName(e.kind, e.value), e.value);
    }
  }
}

/** The parts of a server message that belong to the prompt: echoed user messages, system prompt blobs. */
function promptFromServerMessage(bytes: Uint8Array, s: RequestState, d: CursorData): void {
  const a = d.agent;
  for (const f of flat(bytes)) {
    if (!f.bytes) continue;
    const kind = a.serverMessage[String(f.field)];
    if (kind === 'interaction_update') {
      for (const u of flat(f.bytes)) {
        if (a.interactionUpdate[String(u.field)] !== 'user_message_appended' || !u.bytes) continue;
        const text = textAt(u.bytes, a.userMessageAppended.text);
        if (text !== undefined && !s.turns.hasText('user', text)) s.turns.text('user', text);
      }
    } else if (kind === 'kv_server_message') {
      for (const blob of jsonBlobs(f.bytes, a.kvBlobScanDepth)) {
        if (blob.role === 'system' && s.system === undefined) {
          const text = contentText(blob.content);
          if (text) s.system = text;
        }
      }
    }
  }
}

/** JSON objects with a "role" found in length-delimited payloads, up to `depth` levels down. */
function jsonBlobs(bytes: Uint8Array, depth: number): { role: unknown; content: unknown }[] {
  const out: { role: unknown; content: unknown }[] = [];
  for (const f of flat(bytes)) {
    if (f.wire !== 2 || !f.bytes || f.bytes.length < 2) continue;
    if (f.bytes[0] === 0x7b /* { */) {
      try {
        const v = JSON.parse(utf8.decode(f.bytes)) as Record<string, unknown>;
        if (v && typeof v === 'object' && 'role' in v) out.push({ role: v.role, content: v.content });
        continue;
      } catch {
        // not JSON: maybe a message holding the blob
      }
    }
    if (depth > 0) out.push(...jsonBlobs(f.bytes, depth - 1));
  }
  return out;
}

function contentText(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    const parts = content.map((c) => (c && typeof c === 'object' && typeof (c as { text?: unknown }).text === 'string' ? (c as { text: string }).text : '')).filter(Boolean);
    return parts.length ? parts.join('\n') : undefined;
  }
  return undefined;
}

function applyInteractionUpdate(bytes: Uint8Array, s: ResponseState, d: CursorData): void {
  const a = d.agent;
  for (const f of flat(bytes)) {
    const kind = a.interactionUpdate[String(f.field)];
    switch (kind) {
      case 'text_delta':
        s.turns.text('assistant', textOf(flat(f.bytes), a.deltaText) ?? '');
        break;
      case 'thinking_delta':
        s.turns.thinking(textOf(flat(f.bytes), a.deltaText) ?? '');
        break;
      case 'token_delta': {
        const n = first(flat(f.bytes), a.tokenDeltaTokens)?.num;
        if (n !== undefined) {
          s.usage.output = (s.usage.output ?? 0) + n;
          s.sawTokens = true;
        }
        break;
      }
      case 'tool_call_started':
      case 'partial_tool_call':
      case 'tool_call_completed': {
        const uf = flat(f.bytes);
        const callId = textOf(uf, a.toolCallUpdate.callId);
        const call = toolCallOf(sub(uf, a.toolCallUpdate.toolCall), d);
        if (!call) {
          if (callId && kind !== 'tool_call_completed') s.turns.toolCall(callId, 'tool', undefined);
          break;
        }
        if (kind !== 'tool_call_completed' || !callId || !s.turns.findCall(callId)) s.turns.toolCall(callId, call.name, call.input);
        if (kind === 'tool_call_completed') s.turns.toolResult(callId, call.result ?? {}, call.isError);
        break;
      }
      case 'turn_ended':
        s.stopReason = 'turn_ended';
        break;
      default:
        break;
    }
  }
}

/** An MCP call is shown under the MCP tool's own name; the built-in kinds under theirs (shell, read…). */
function toolName(kind: string, input: unknown): string {
  if (kind !== 'mcp' || !input || typeof input !== 'object') return kind;
  const { tool_name: toolNameField, name } = input as { tool_name?: unknown; name?: unknown };
  return typeof toolNameField === 'string' && toolNameField ? toolNameField : typeof name === 'string' && name ? name : kind;
}

function toolCallOf(bytes: Uint8Array | undefined, d: CursorData): { name: string; input: unknown; result?: unknown; isError: boolean } | undefined {
  if (!bytes) return undefined;
  const spec = d.agent.toolCall;
  for (const f of flat(bytes)) {
    if (f.wire !== 2 || !f.bytes) continue;
    const name = spec.kinds[String(f.field)] ?? `tool_${f.field}`;
    const parts = flat(f.bytes);
    const args = sub(parts, spec.args);
    const result = sub(parts, spec.result);
    const input = args ? toObject(args, d.agent.args[name]) : {};
    const out: { name: string; input: unknown; result?: unknown; isError: boolean } = { name: toolName(name, input), input, isError: false };
    if (result) {
      const r = toObject(result, d.agent.results[name]);
      out.result = r;
      out.isError = ['error', 'rejected', 'permission_denied', 'tool_not_found', 'tool_error'].some((k) => k in r);
    }
    return out;
  }
  return undefined;
}

// ---- aiserver.v1 StreamUnifiedChat ------------------------------------------------------------

/** A repeated ConversationMessage field (text, type human/ai, thinking) into user and assistant turns. */
function applyConversation(fields: FlatField[], field: number, s: RequestState, d: CursorData): void {
  const u = d.unifiedChat.request;
  for (const m of fields.filter((x) => x.field === field && x.bytes)) {
    const mf = flat(m.bytes);
    const role = u.messageTypes[String(first(mf, u.messageType)?.num ?? 1)] === 'assistant' ? 'assistant' : 'user';
    const thinking = role === 'assistant' ? textAt(m.bytes, [u.messageThinking]) : undefined;
    if (thinking) s.turns.thinking(thinking);
    const text = textOf(mf, u.messageText);
    if (text) s.turns.text(role, text);
  }
}

function aiChatSpec(url: string, d: CursorData): AiChatRequestSpec | undefined {
  const method = /\/([A-Za-z_]\w*)\/?(?:[?#].*)?$/.exec(url)?.[1] ?? '';
  return d.aiChat.methods[method];
}

function applyAiChatRequest(bytes: Uint8Array, spec: AiChatRequestSpec, s: RequestState, d: CursorData): void {
  const fields = flat(bytes);
  if (spec.conversation) applyConversation(fields, spec.conversation, s, d);
  if (spec.model.length) s.model ??= textAt(bytes, [spec.model]);
  if (spec.conversationId) s.conversationId ??= textOf(fields, spec.conversationId) || undefined;
}

function applyAiChatResponse(bytes: Uint8Array, s: ResponseState, d: CursorData): void {
  const text = textOf(flat(bytes), d.aiChat.responseText);
  if (text) s.turns.text('assistant', text);
}

function applyUnifiedRequest(bytes: Uint8Array, s: RequestState, d: CursorData): void {
  const u = d.unifiedChat;
  const top = flat(bytes);
  const chat = sub(top, u.request.chatRequest);
  if (chat) {
    const cf = flat(chat);
    applyConversation(cf, u.request.conversation, s, d);
    s.model ??= textAt(chat, [u.request.model]);
    s.conversationId ??= textOf(cf, u.request.conversationId) || undefined;
    const tl = u.request.mcpTools.list;
    const holder = tl.length > 1 ? atPath(chat, tl.slice(0, -1))?.bytes : chat;
    for (const t of flat(holder).filter((x) => x.field === tl[tl.length - 1] && x.bytes)) {
      const tf = flat(t.bytes);
      const name = textOf(tf, u.request.mcpTools.name);
      if (!name) continue;
      const desc = textOf(tf, u.request.mcpTools.description);
      s.tools.push(desc ? { name, description: desc } : { name });
    }
  }
  const result = sub(top, u.request.toolResult);
  if (result) {
    const rf = flat(result);
    const id = textOf(rf, u.toolResult.callId);
    const tool = u.tools[String(first(rf, u.toolResult.tool)?.num ?? 0)];
    const names: NameMap = { ...u.toolResult.fields, [String(u.toolResult.error)]: 'error', [String(u.toolResult.callId)]: 'tool_call_id' };
    const output = toObject(result, names);
    delete output[String(u.toolResult.tool)];
    delete output.tool_call_id;
    if (tool) output.tool = tool;
    s.turns.toolResult(id, output, 'error' in output);
  }
}

function applyUnifiedResponse(bytes: Uint8Array, s: ResponseState, d: CursorData): void {
  const u = d.unifiedChat;
  const top = flat(bytes);
  const chat = sub(top, u.response.chatResponse);
  if (chat) {
    const thinking = textAt(chat, [u.response.thinking]);
    if (thinking) s.turns.thinking(thinking);
    const text = textOf(flat(chat), u.response.text);
    if (text) s.turns.text('assistant', text);
  }
  const call = sub(top, u.response.toolCall);
  if (call) {
    const cf = flat(call);
    const id = textOf(cf, u.toolCall.callId);
    const name = textOf(cf, u.toolCall.name) || u.tools[String(first(cf, u.toolCall.tool)?.num ?? 0)] || 'tool';
    const raw = textOf(cf, u.toolCall.rawArgs);
    s.turns.toolCall(id || undefined, name, raw !== undefined ? parseJsonMaybe(raw) : {});
  }
}

// ---- bodies ----------------------------------------------------------------------------------

interface Messages {
  payloads: Uint8Array[];
  errors: DecodeIssue[];
  endError?: string;
}

/** The message encoding of compressed envelopes (Connect streams, gRPC, gRPC-web). */
function messageEncoding(headers: HeaderList | undefined): string | undefined {
  return headerValue(headers, 'connect-content-encoding') ?? headerValue(headers, 'grpc-encoding');
}

function messagesOf(body: RecordBody | undefined, headers: HeaderList | undefined): Messages {
  const bytes = bodyBytes(body);
  if (bytes.length === 0) return { payloads: [], errors: [] };
  const contentType = headerValue(headers, 'content-type');
  const encoding = messageEncoding(headers);
  const decoded = decodeBinaryBody(bytes, { ...(contentType ? { contentType } : {}), ...(encoding ? { encoding } : {}) });
  const out: Messages = { payloads: decoded.messages.filter((m) => !m.error).map((m) => m.payload), errors: decoded.errors };
  if (decoded.end?.error) out.endError = `${decoded.end.error.code}${decoded.end.error.message ? `: ${decoded.end.error.message}` : ''}`;
  else if (decoded.status && decoded.status.code !== 0) out.endError = `${decoded.status.name}${decoded.status.message ? `: ${decoded.status.message}` : ''}`;
  return out;
}

function bidiAppendPayload(bytes: Uint8Array, d: CursorData): Uint8Array | undefined {
  const f = first(flat(bytes), d.agent.bidiAppend.data);
  if (!f?.bytes) return undefined;
  // The client message travels hex-encoded in a string field; older builds sent the bytes as is.
  const text = strictText(f.bytes);
  if (text !== undefined && /^[0-9a-fA-F]*$/.test(text) && text.length % 2 === 0) return parseHex(text).bytes;
  return f.bytes;
}

/** Which agent.v1 message type a body of this URL holds: client messages up, server messages down. */
export function cursorAgentSide(url: string, response: boolean): 'client' | 'server' | undefined {
  const route = routeOfUrl(url, cursorData());
  if (route === 'agent') return response ? 'server' : 'client';
  if (route === 'agentSse' && response) return 'server';
  return undefined;
}

/**
 * Names an agent.v1 message the way the Cursor sniffer does ("interaction_update.text_delta",
 * "exec_server_message.shell"), from the data table; undefined when the top field is unknown.
 */
export function describeCursorMessage(payload: Uint8Array, side: 'client' | 'server'): string | undefined {
  const d = cursorData();
  const a = d.agent;
  const top = flat(payload)[0];
  if (!top) return undefined;
  const kind = (side === 'server' ? a.serverMessage : a.clientMessage)[String(top.field)];
  if (!kind || !top.bytes) return kind;
  const inner = flat(top.bytes);
  if (kind === 'interaction_update') {
    const u = inner[0];
    const name = u ? a.interactionUpdate[String(u.field)] : undefined;
    return name ? `${kind}.${name}` : kind;
  }
  if (kind === 'exec_server_message' || kind === 'exec_client_message') {
    const spec = kind === 'exec_server_message' ? a.execServerMessage : a.execClientMessage;
    const k = inner.map((f) => spec.kinds[String(f.field)]).find(Boolean);
    return k ? `${kind}.${k}` : kind;
  }
  return kind;
}

/**
 * Merges a Cursor response stream (Connect envelopes, the SSE-of-base64 form, or gRPC-web) chunk by
 * chunk into the normalized response: what a live view shows while the stream is still running.
 */
export class CursorResponseStream {
  private readonly d = cursorData();
  private readonly route: Route;
  private readonly contentType: string | undefined;
  private readonly state: ResponseState = newResponseState();
  private decoder: { push(c: Uint8Array): StreamEvent[]; finish(): StreamEvent[] } | undefined;
  private readonly errors: DecodeIssue[] = [];
  private endError: string | undefined;

  private readonly encoding: string | undefined;

  /** `encoding`: the connect-content-encoding / grpc-encoding of compressed messages (default gzip). */
  constructor(opts: { url: string; contentType?: string; encoding?: string }) {
    this.encoding = opts.encoding;
    this.route = routeOfUrl(opts.url, this.d);
    this.contentType = opts.contentType;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.decoder ??= this.pickDecoder(chunk[0]!);
    this.handle(this.decoder.push(chunk));
  }

  finish(): LlmResponse {
    if (this.decoder) this.handle(this.decoder.finish());
    const out: LlmResponse = { turns: this.state.turns.turns };
    if (this.state.stopReason) out.stopReason = this.state.stopReason;
    if (this.state.sawTokens) out.usage = { ...this.state.usage };
    if (this.endError) out.error = this.endError;
    else if (this.errors.length > 0) out.error = this.errors[0]!.message;
    return out;
  }

  private pickDecoder(firstByte: number): { push(c: Uint8Array): StreamEvent[]; finish(): StreamEvent[] } {
    const format = formatOfContentType(this.contentType);
    if (format === 'grpc-web' || format === 'grpc-web-text') {
      const g = new GrpcWebDecoder({ text: format === 'grpc-web-text', ...(this.encoding ? { encoding: this.encoding } : {}) });
      return { push: (c) => g.push(c), finish: () => g.finish() };
    }
    if (format === 'protobuf') {
      // A unary response: the whole body is one message.
      const parts: Uint8Array[] = [];
      return {
        push: (c) => (parts.push(c), []),
        finish: () => {
          const payload = concatBytes(parts);
          return [{ type: 'message', frame: { offset: 0, flags: 0, length: payload.length, payload, compressed: false } }];
        },
      };
    }
    // Envelope flags are 0x00-0x03 or 0x80; a printable first byte is SSE text ("data: …").
    if (firstByte >= 0x20 && firstByte < 0x80) {
      const sse = new SseEnvelopeDecoder(this.encoding ? { encoding: this.encoding } : {});
      return { push: (c) => sse.push(c), finish: () => sse.finish() };
    }
    const c = new ConnectStreamDecoder(this.encoding ? { encoding: this.encoding } : {});
    return { push: (x) => c.push(x), finish: () => c.finish() };
  }

  private handle(events: StreamEvent[]): void {
    for (const ev of events) {
      if (ev.type === 'message') {
        if (ev.frame.error) continue;
        if (this.route === 'unifiedChat') applyUnifiedResponse(ev.frame.payload, this.state, this.d);
        else if (this.route === 'aiChat') applyAiChatResponse(ev.frame.payload, this.state, this.d);
        else if (this.route !== 'unknown') applyServerMessage(ev.frame.payload, this.state, this.d);
      } else if (ev.type === 'end') {
        const e = ev.end.error;
        if (e) this.endError = `${e.code}${e.message ? `: ${e.message}` : ''}`;
      } else if (ev.type === 'trailers') {
        if (ev.status && ev.status.code !== 0) this.endError = `${ev.status.name}${ev.status.message ? `: ${ev.status.message}` : ''}`;
      } else if (ev.type === 'error') {
        this.errors.push(ev.error);
      }
    }
  }
}

type StreamEvent = ConnectEvent | GrpcWebEvent | { type: 'done' };

export const cursorConnect: ApiFamily = {
  api: 'cursor.connect',

  parseRequest(record: CaptureRecord): { model?: string; stream: boolean; request: LlmRequest } {
    const d = cursorData();
    const route = routeOf(record, d);
    const s: RequestState = { turns: new Turns(), tools: [] };
    if (route === 'bidiAppend') {
      for (const p of messagesOf(record.request?.body, record.request?.headers).payloads) {
        const inner = bidiAppendPayload(p, d);
        if (inner) applyClientMessage(inner, s, d);
      }
    } else if (route === 'unifiedChat') {
      for (const p of messagesOf(record.request?.body, record.request?.headers).payloads) applyUnifiedRequest(p, s, d);
    } else if (route === 'aiChat') {
      const spec = aiChatSpec(record.request?.url ?? '', d);
      if (spec) for (const p of messagesOf(record.request?.body, record.request?.headers).payloads) applyAiChatRequest(p, spec, s, d);
    } else if (route === 'agent') {
      // The response says which exec request belongs to which model tool call.
      const down = messagesOf(record.response?.body, record.response?.headers).payloads;
      const scratch = newResponseState();
      for (const p of down) applyServerMessage(p, scratch, d);
      s.execToCall = scratch.execToCall;
      for (const p of messagesOf(record.request?.body, record.request?.headers).payloads) applyClientMessage(p, s, d);
      for (const p of down) promptFromServerMessage(p, s, d);
    }
    if (route === 'agentSse') {
      // With RunSSE the prompt is not in this request: the server echoes the user's message
      // (user_message_appended) and hands the system prompt to the client as a KV blob.
      for (const p of messagesOf(record.response?.body, record.response?.headers).payloads) promptFromServerMessage(p, s, d);
    }
    const request: LlmRequest = { turns: s.turns.turns, tools: s.tools };
    if (s.system) request.system = s.system;
    if (s.conversationId) request.conversationId = s.conversationId;
    const out: { model?: string; stream: boolean; request: LlmRequest } = { stream: route !== 'bidiAppend' && route !== 'unknown', request };
    if (s.model) out.model = s.model;
    return out;
  },

  parseResponse(record: CaptureRecord): LlmResponse & { model?: string } {
    const d = cursorData();
    const route = routeOf(record, d);
    const res = record.response;
    const out: LlmResponse = { turns: [] };
    if (!res) return out;
    const ct = headerValue(res.headers, 'content-type');
    if (res.status >= 400 || /json/i.test(ct ?? '')) {
      const err = parseConnectUnaryError(bodyBytes(res.body).toString('utf8'));
      if (err) out.error = `${err.code}${err.message ? `: ${err.message}` : ''}`;
      else if (res.status >= 400) out.error = `HTTP ${res.status}`;
      return out;
    }
    if (route === 'bidiAppend') return out;
    const encoding = messageEncoding(res.headers);
    const stream = new CursorResponseStream({ url: record.request?.url ?? '', ...(ct ? { contentType: ct } : {}), ...(encoding ? { encoding } : {}) });
    stream.push(bodyBytes(res.body));
    const merged = stream.finish();
    const trailerStatus = res.trailers?.find(([k]) => k.toLowerCase() === 'grpc-status')?.[1];
    if (!merged.error && trailerStatus && trailerStatus !== '0') {
      const message = res.trailers?.find(([k]) => k.toLowerCase() === 'grpc-message')?.[1];
      merged.error = `grpc-status ${trailerStatus}${message ? `: ${percentDecode(message)}` : ''}`;
    }
    return merged;
  },
};
