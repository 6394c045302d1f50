// The normalized LLM exchange (DESIGN.md section 7): what every API family maps into and what
// analysis, reports and the UI read. Plain data only: no sockets, no files.
import type { CaptureRecord } from '../capture/record.js';

export type DetectionKind = 'llm' | 'app' | 'unknown';

export interface Detection {
  kind: DetectionKind;
  provider?: string;
  /** e.g. anthropic.messages, openai.chat, openai.responses, gemini.generate, cursor.connect */
  api?: string;
  /** e.g. claude-code, codex, gemini-cli, cursor, opencode, copilot, aider, openai-sdk */
  agent?: string;
  /** Why: one entry per rule that fired ("host api.anthropic.com → anthropic"). */
  reasons: string[];
}

export type Block =
  | { type: 'text'; text: string; refusal?: true }
  | { type: 'thinking'; text: string }
  | { type: 'tool_call'; id?: string; name: string; input: unknown; server?: true }
  | { type: 'tool_result'; id?: string; output: unknown; isError?: boolean }
  | { type: 'image'; mediaType?: string }
  | { type: 'other'; raw: unknown };

export type Role = 'system' | 'user' | 'assistant' | 'tool';

export interface Turn {
  role: Role;
  blocks: Block[];
}

export interface Usage {
  input?: number;
  output?: number;
  cacheRead?: number;
  cacheWrite?: number;
  reasoning?: number;
}

export interface ToolSpec {
  name: string;
  description?: string;
}

export interface LlmRequest {
  system?: string;
  /** OpenAI Responses: the response this request continues (it then sends only new items). */
  previousResponseId?: string;
  /** The client's conversation id when the API sends one (Cursor's conversation_id). */
  conversationId?: string;
  turns: Turn[];
  tools: ToolSpec[];
}

export interface LlmResponse {
  /** The provider's response/message id when it gives one (chains previous_response_id). */
  id?: string;
  turns: Turn[];
  stopReason?: string;
  usage?: Usage;
  error?: string;
}

export interface LlmExchange {
  id: string;
  detection: Detection;
  model?: string;
  stream: boolean;
  request: LlmRequest;
  response: LlmResponse;
  costUsd?: number;
  /** Short SHA-256 of the system prompt, for grouping exchanges by context. */
  contextKey?: string;
}

/** What one API family module (llm/anthropic-messages.ts, llm/openai-chat.ts, …) provides. */
export interface ApiFamily {
  /** The api id this family parses (matches Detection.api). */
  api: string;
  /** Parses the request side (model, system, turns, tools, whether it asked to stream). */
  parseRequest(record: CaptureRecord): { model?: string; stream: boolean; request: LlmRequest };
  /** Parses the response side, merging a stream the same way the provider's SDK does. */
  parseResponse(record: CaptureRecord): LlmResponse & { model?: string };
}
