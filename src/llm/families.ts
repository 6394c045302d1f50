// Every API family the LLM layer understands, looked up by the api id detection names.
// To add a family: write src/llm/<family>.ts exporting an ApiFamily and list it here.
import { anthropicCountTokens, anthropicMessages } from './anthropic-messages.js';
import { bedrockConverse } from './bedrock-converse.js';
import { cursorConnect } from './cursor-connect.js';
import { geminiCountTokens, geminiGenerate } from './gemini.js';
import { openaiChat } from './openai-chat.js';
import { openaiCompletions } from './openai-completions.js';
import { openaiEmbeddings } from './openai-embeddings.js';
import { ollamaChat } from './ollama-chat.js';
import { openaiResponses } from './openai-responses.js';
import type { ApiFamily } from './types.js';

export const families: ApiFamily[] = [
  anthropicMessages,
  anthropicCountTokens,
  openaiChat,
  openaiResponses,
  openaiEmbeddings,
  geminiGenerate,
  geminiCountTokens,
  cursorConnect,
  bedrockConverse,
  ollamaChat,
  openaiCompletions,
];

export function familyFor(api: string | undefined): ApiFamily | undefined {
  if (!api) return undefined;
  for (const f of families) if (f.api === api) return f;
  return undefined;
}
