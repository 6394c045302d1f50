// Differential: every streamed fixture is fed to the official SDK (through a loopback replay
// server, so the SDK does its own HTTP + SSE parsing + accumulation) and to our normalizer, built
// from exactly the bytes that crossed the wire. Text, thinking, tool calls, stop reason and usage
// must be equal.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { normalizeExchange } from '../../src/llm/normalize.js';
import type { Block, LlmExchange } from '../../src/llm/types.js';
import { fixturesDir } from '../support/llm-records.js';
import { startReplayServer } from '../support/replay-server.js';

function blocks(x: LlmExchange): Block[] {
  return x.response.turns.flatMap((t) => t.blocks);
}
function ourText(x: LlmExchange, refusal = false): string {
  return blocks(x)
    .filter((b): b is Extract<Block, { type: 'text' }> => b.type === 'text' && (b.refusal === true) === refusal)
    .map((b) => b.text)
    .join('');
}
function ourThinking(x: LlmExchange): string {
  return blocks(x)
    .filter((b): b is Extract<Block, { type: 'thinking' }> => b.type === 'thinking')
    .map((b) => b.text)
    .join('');
}
function ourToolCalls(x: LlmExchange): { id?: string; name: string; input: unknown; server?: true }[] {
  return blocks(x)
    .filter((b): b is Extract<Block, { type: 'tool_call' }> => b.type === 'tool_call')
    .map((b) => ({ ...(b.id ? { id: b.id } : {}), name: b.name, input: b.input, ...(b.server ? { server: true as const } : {}) }));
}

function normalized(rec: Parameters<typeof normalizeExchange>[0]): LlmExchange {
  const x = normalizeExchange(rec);
  assert.ok(x, `not detected as LLM: ${JSON.stringify(rec.request?.url)}`);
  return x;
}

const anthropicFiles = readdirSync(path.join(fixturesDir, 'anthropic')).filter((f) => f.endsWith('.sse') || (f.endsWith('.txt') && !f.includes('proto')));

for (const file of anthropicFiles) {
  test(`Anthropic stream ${file} merges like MessageStream`, async () => {
    const sse = readFileSync(path.join(fixturesDir, 'anthropic', file), 'utf8');
    const server = await startReplayServer(() => ({ headers: { 'content-type': 'text/event-stream' }, body: sse }));
    try {
      const client = new Anthropic({ apiKey: 'test-key', baseURL: server.url, maxRetries: 0 });
      const stream = client.messages.stream({ model: 'claude-opus-4-1', max_tokens: 1024, messages: [{ role: 'user', content: 'hi' }] });
      const sdk = await stream.finalMessage();
      const x = normalized(server.record());
      assert.equal(x.detection.api, 'anthropic.messages');
      assert.equal(x.detection.agent, 'anthropic-sdk');
      const sdkText = sdk.content.filter((b) => b.type === 'text').map((b) => (b as { text: string }).text).join('');
      const sdkThinking = sdk.content.filter((b) => b.type === 'thinking').map((b) => (b as { thinking: string }).thinking).join('');
      const sdkTools = sdk.content
        .filter((b) => b.type === 'tool_use' || b.type === 'server_tool_use')
        .map((b) => {
          const t = b as { id: string; name: string; input: unknown; type: string };
          return { id: t.id, name: t.name, input: t.input, ...(t.type === 'server_tool_use' ? { server: true as const } : {}) };
        });
      // A refusal stop marks the last text block as the refusal.
      const ours = ourText(x) + ourText(x, true);
      assert.ok(sdkText.length > 0 || sdkTools.length > 0, 'fixture has content');
      assert.equal(ours, sdkText);
      assert.equal(ourThinking(x), sdkThinking);
      assert.deepEqual(ourToolCalls(x), sdkTools);
      assert.equal(x.response.stopReason, sdk.stop_reason);
      assert.deepEqual(x.response.usage, {
        input: sdk.usage.input_tokens,
        output: sdk.usage.output_tokens,
        ...(sdk.usage.cache_read_input_tokens != null ? { cacheRead: sdk.usage.cache_read_input_tokens } : {}),
        ...(sdk.usage.cache_creation_input_tokens != null ? { cacheWrite: sdk.usage.cache_creation_input_tokens } : {}),
        ...((sdk.usage as { output_tokens_details?: { thinking_tokens?: number } }).output_tokens_details?.thinking_tokens != null
          ? { reasoning: (sdk.usage as { output_tokens_details: { thinking_tokens: number } }).output_tokens_details.thinking_tokens }
          : {}),
      });
      assert.equal(x.response.error, undefined);
      if (sdk.stop_reason === 'refusal') assert.ok(blocks(x).some((b) => b.type === 'text' && b.refusal), 'refusal is marked');
    } finally {
      await server.close();
    }
  });
}

const openaiChatFiles = readdirSync(path.join(fixturesDir, 'openai')).filter((f) => f.startsWith('chat-completions--') && f.endsWith('.sse'));

for (const file of openaiChatFiles) {
  test(`OpenAI chat stream ${file} merges like ChatCompletionStream`, async () => {
    const sse = readFileSync(path.join(fixturesDir, 'openai', file), 'utf8');
    const server = await startReplayServer(() => ({ headers: { 'content-type': 'text/event-stream' }, body: sse }));
    try {
      const client = new OpenAI({ apiKey: 'test-key', baseURL: `${server.url}/v1`, maxRetries: 0 });
      const stream = client.chat.completions.stream({ model: 'gpt-4o', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hi' }], stream_options: { include_usage: true } });
      const sdk = await stream.finalChatCompletion();
      const x = normalized(server.record());
      assert.equal(x.detection.api, 'openai.chat');
      assert.equal(x.detection.agent, 'openai-sdk');
      assert.equal(x.request.system, 'be brief');
      const msg = sdk.choices[0]!.message;
      assert.equal(ourText(x), msg.content ?? '');
      assert.equal(ourText(x, true), msg.refusal ?? '');
      assert.deepEqual(
        ourToolCalls(x),
        (msg.tool_calls ?? []).map((t) => {
          const fn = (t as { id: string; function: { name: string; arguments: string } });
          return { id: fn.id, name: fn.function.name, input: JSON.parse(fn.function.arguments) };
        }),
      );
      assert.equal(x.response.stopReason, sdk.choices[0]!.finish_reason);
      const u = sdk.usage;
      if (u) {
        assert.equal(x.response.usage?.input, u.prompt_tokens);
        assert.equal(x.response.usage?.output, u.completion_tokens);
        assert.equal(x.response.usage?.cacheRead, u.prompt_tokens_details?.cached_tokens);
        assert.equal(x.response.usage?.reasoning, u.completion_tokens_details?.reasoning_tokens);
      } else assert.equal(x.response.usage, undefined);
      assert.equal(x.response.error, undefined);
    } finally {
      await server.close();
    }
  });
}

const responsesFiles = readdirSync(path.join(fixturesDir, 'openai')).filter((f) => f.startsWith('responses--') && f.endsWith('.sse'));

for (const file of responsesFiles) {
  test(`OpenAI Responses stream ${file} merges like ResponseStream`, async () => {
    const sse = readFileSync(path.join(fixturesDir, 'openai', file), 'utf8');
    const server = await startReplayServer(() => ({ headers: { 'content-type': 'text/event-stream' }, body: sse }));
    try {
      const client = new OpenAI({ apiKey: 'test-key', baseURL: `${server.url}/v1`, maxRetries: 0 });
      const stream = client.responses.stream({ model: 'o3', input: 'hi', instructions: 'think' });
      const sdk = await stream.finalResponse();
      const x = normalized(server.record());
      assert.equal(x.detection.api, 'openai.responses');
      assert.equal(x.request.system, 'think');
      assert.equal(ourText(x), sdk.output_text);
      const sdkThinking = sdk.output
        .filter((o) => o.type === 'reasoning')
        .flatMap((o) => {
          const r = o as { summary: { text: string }[]; content?: { text: string }[] };
          return [...r.summary.map((s) => s.text), ...(r.content ?? []).map((c) => c.text)];
        })
        .join('');
      assert.equal(ourThinking(x), sdkThinking);
      const sdkCalls = sdk.output.filter((o) => o.type === 'function_call').map((o) => {
        const f = o as { call_id: string; name: string; arguments: string };
        return { id: f.call_id, name: f.name, input: JSON.parse(f.arguments) };
      });
      assert.deepEqual(ourToolCalls(x), sdkCalls);
      assert.equal(x.response.stopReason, sdk.status);
      assert.equal(x.response.usage?.input, sdk.usage?.input_tokens);
      assert.equal(x.response.usage?.output, sdk.usage?.output_tokens);
      assert.equal(x.response.usage?.cacheRead, sdk.usage?.input_tokens_details.cached_tokens);
      assert.equal(x.response.usage?.reasoning, sdk.usage?.output_tokens_details.reasoning_tokens);
      assert.equal(x.response.error, undefined);
    } finally {
      await server.close();
    }
  });
}

interface Recording {
  interactions: { request: { url: string; bodySegments?: unknown[] }; response: { statusCode: number; headers: Record<string, string>; bodySegments?: unknown[] } }[];
}

const geminiFiles = readdirSync(path.join(fixturesDir, 'gemini')).filter((f) => f.endsWith('.json'));

for (const file of geminiFiles) {
  const rec = JSON.parse(readFileSync(path.join(fixturesDir, 'gemini', file), 'utf8')) as Recording;
  rec.interactions.forEach((it, i) => {
    const url = it.request.url;
    const isStream = url.includes(':streamGenerateContent');
    const isGenerate = url.includes(':generateContent');
    if (!isStream && !isGenerate) return;
    test(`Gemini ${file} #${i} merges like @google/genai`, async () => {
      const segs = it.response.bodySegments ?? [];
      const body = isStream ? segs.map((s) => `data: ${JSON.stringify(s)}\r\n\r\n`).join('') : JSON.stringify(segs[0] ?? {});
      const status = it.response.statusCode;
      const server = await startReplayServer(() => ({ status, headers: { 'content-type': isStream ? 'text/event-stream' : 'application/json' }, body }));
      try {
        const ai = new GoogleGenAI({ apiKey: 'test-key', httpOptions: { baseUrl: server.url } });
        const model = /models\/([^:/]+):/.exec(url)![1]!;
        const reqBody = (it.request.bodySegments?.[0] ?? {}) as { contents?: unknown; systemInstruction?: unknown };
        const contents = (reqBody.contents as never) ?? 'hi';
        const config = reqBody.systemInstruction ? { systemInstruction: reqBody.systemInstruction as never } : undefined;
        let sdkChunks: { text?: string; functionCalls?: { name?: string; args?: unknown }[]; candidates?: { finishReason?: string; content?: { parts?: { text?: string; thought?: boolean }[] } }[]; usageMetadata?: Record<string, number | undefined> }[] = [];
        let sdkError: unknown;
        const call = async (contents: never) => {
          sdkChunks = [];
          sdkError = undefined;
          try {
            if (isStream) {
              for await (const c of await ai.models.generateContentStream({ model, contents, ...(config ? { config } : {}) })) sdkChunks.push(c as never);
            } else sdkChunks = [(await ai.models.generateContent({ model, contents, ...(config ? { config } : {}) })) as never];
          } catch (e) {
            sdkError = e;
          }
        };
        await call(contents);
        // Some recorded requests are Vertex-only (partialArgs); the SDK in Gemini API mode refuses to
        // send them, so ask with a plain prompt — the response bytes are what is compared.
        if (server.seen.length === 0) await call('hi' as never);
        const x = normalized(server.record());
        assert.equal(x.detection.api, 'gemini.generate');
        assert.equal(x.model, model);
        if (sdkError) {
          assert.ok(status >= 400, `SDK failed on a ${status}: ${String(sdkError)}`);
          assert.match(x.response.error ?? '', /not found|NOT_FOUND|404/i);
          return;
        }
        const sdkText = sdkChunks.map((c) => (c.candidates?.[0]?.content?.parts ?? []).filter((p) => typeof p.text === 'string' && !p.thought).map((p) => p.text).join('')).join('');
        assert.equal(sdkText, sdkChunks.map((c) => c.text ?? '').join(''), 'SDK text getter agrees');
        const sdkThoughts = sdkChunks.map((c) => (c.candidates?.[0]?.content?.parts ?? []).filter((p) => p.thought && typeof p.text === 'string').map((p) => p.text).join('')).join('');
        assert.equal(ourText(x), sdkText);
        assert.equal(ourThinking(x), sdkThoughts);
        // The SDK leaves Vertex's streamed `partialArgs` as they came; we assemble them into the input.
        const assembled = (f: { args?: unknown; partialArgs?: { jsonPath: string; numberValue?: number; stringValue?: string }[] }) =>
          f.args ?? Object.fromEntries((f.partialArgs ?? []).map((p) => [p.jsonPath.replace('$.', ''), p.numberValue ?? p.stringValue]));
        const sdkCalls = sdkChunks.flatMap((c) => c.functionCalls ?? []).map((f) => ({ name: f.name ?? '', input: assembled(f as never) }));
        assert.deepEqual(ourToolCalls(x).map((t) => ({ name: t.name, input: t.input })), sdkCalls);
        const finish = sdkChunks.map((c) => c.candidates?.[0]?.finishReason).filter(Boolean).pop();
        assert.equal(x.response.stopReason, finish);
        const usage = sdkChunks.map((c) => c.usageMetadata).filter((u) => u && u.promptTokenCount !== undefined).pop();
        if (usage) {
          assert.equal(x.response.usage?.input, usage.promptTokenCount);
          assert.equal(x.response.usage?.output, usage.candidatesTokenCount ?? 0);
          assert.equal(x.response.usage?.reasoning, usage.thoughtsTokenCount);
          assert.equal(x.response.usage?.cacheRead, usage.cachedContentTokenCount);
        }
        if (segs.length > 0) assert.equal(x.response.error, undefined);
      } finally {
        await server.close();
      }
    });
  });
}
