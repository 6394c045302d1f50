// Detection names provider, api and agent with the reasons that fired — and does not call an
// ordinary /messages or /models API an LLM because its body has `model` and `messages`.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { CaptureRecord, HeaderList } from '../../src/capture/record.js';
import { detect } from '../../src/llm/detect.js';
import { compileRegistry, builtinRegistryData, readRegistryFile, RegistryError, type RegistryData } from '../../src/llm/registry.js';
import { normalizeExchange } from '../../src/llm/normalize.js';
import { fixture, makeRecord, repoRoot } from '../support/llm-records.js';

const json: HeaderList = [['content-type', 'application/json']];

test('the registry is versioned data: ≥60 providers, lower-case hyphenated ids, every rule with a unique id', () => {
  const data = JSON.parse(readFileSync(path.join(repoRoot, 'data/providers.json'), 'utf8')) as RegistryData;
  assert.match(data.version ?? '', /^\d{4}\.\d{2}\.\d{2}$/);
  assert.match(data.updated ?? '', /^\d{4}-\d{2}-\d{2}$/);
  assert.ok(data.providers!.length >= 60, `${data.providers!.length} providers`);
  for (const p of data.providers!) {
    assert.match(p.id, /^[a-z0-9]+(-[a-z0-9]+)*$/);
    assert.ok((p.hosts?.length ?? 0) + (p.hostPatterns?.length ?? 0) + (p.hostPorts?.length ?? 0) > 0, `${p.id} has hosts`);
  }
  for (const id of ['openai', 'anthropic', 'google', 'azure-openai', 'aws-bedrock', 'mistral', 'groq', 'deepseek', 'xai', 'openrouter', 'cursor', 'together', 'fireworks', 'cohere', 'perplexity', 'moonshot', 'zhipu', 'alibaba-dashscope', 'cerebras', 'github-copilot', 'github-models', 'ollama', 'lm-studio']) {
    assert.ok(data.providers!.some((p) => p.id === id), `provider ${id}`);
  }
  const ids = [...data.paths!, ...data.headers!, ...data.agents!, ...data.bodies!, ...data.streams!].map((r) => r.id);
  assert.equal(new Set(ids).size, ids.length, 'rule ids are unique');
  compileRegistry([data]);
});

test('an app with a /v1/messages endpoint and an LLM-looking body is not an LLM call', () => {
  const chat = makeRecord({
    url: 'https://api.chatapp.example/v1/messages',
    requestBody: { model: 'thread', messages: [{ role: 'user', content: 'hello team' }], max_tokens: 5 },
    responseBody: { ok: true, message_id: 'm1' },
  });
  const d = detect(chat);
  assert.equal(d.kind, 'unknown');
  assert.equal(d.api, undefined);
  assert.match(d.reasons.join('\n'), /looks like anthropic\.messages .* not a known provider/);
  assert.equal(normalizeExchange(chat), undefined);
  const mail = makeRecord({ url: 'https://mail.example.com/api/messages', requestBody: { messages: [] }, responseBody: [] });
  assert.equal(detect(mail).kind, 'unknown');
});

test('/models listings are never model calls: app on a provider host, unknown elsewhere', () => {
  const openaiModels = makeRecord({ method: 'GET', url: 'https://api.openai.com/v1/models', responseBody: { object: 'list', data: [{ id: 'gpt-4o' }] } });
  const d = detect(openaiModels);
  assert.equal(d.kind, 'app');
  assert.equal(d.provider, 'openai');
  assert.match(d.reasons.join('\n'), /not a model call \(path\.app\.models\)/);
  const other = makeRecord({ method: 'GET', url: 'https://cars.example.org/v1/models', responseBody: { models: ['a4', 'golf'] } });
  assert.equal(detect(other).kind, 'unknown');
  const gemini = makeRecord({ method: 'GET', url: 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash', responseBody: {} });
  assert.equal(detect(gemini).kind, 'app');
});

test('known provider hosts: the path names the api and the reasons say why', () => {
  const cases: [string, string, string][] = [
    ['https://api.anthropic.com/v1/messages?beta=true', 'anthropic', 'anthropic.messages'],
    ['https://api.anthropic.com/v1/messages/count_tokens', 'anthropic', 'anthropic.count_tokens'],
    ['https://api.openai.com/v1/chat/completions', 'openai', 'openai.chat'],
    ['https://api.openai.com/v1/responses', 'openai', 'openai.responses'],
    ['https://chatgpt.com/backend-api/codex/responses', 'openai', 'openai.responses'],
    ['https://api.openai.com/v1/embeddings', 'openai', 'openai.embeddings'],
    ['https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse', 'google', 'gemini.generate'],
    ['https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:countTokens', 'google', 'gemini.count_tokens'],
    ['https://cloudcode-pa.googleapis.com/v1internal:streamGenerateContent?alt=sse', 'google', 'gemini.generate'],
    ['https://us-east5-aiplatform.googleapis.com/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict', 'google', 'anthropic.messages'],
    ['https://my-res.openai.azure.com/openai/deployments/gpt4o/chat/completions?api-version=2024-10-21', 'azure-openai', 'openai.chat'],
    ['https://bedrock-runtime.us-east-1.amazonaws.com/model/anthropic.claude-3-5-sonnet-20241022-v2:0/invoke-with-response-stream', 'aws-bedrock', 'anthropic.messages'],
    ['https://api.groq.com/openai/v1/chat/completions', 'groq', 'openai.chat'],
    ['https://openrouter.ai/api/v1/chat/completions', 'openrouter', 'openai.chat'],
    ['https://dashscope.aliyuncs.com/compatible-mode/v1/chat/completions', 'alibaba-dashscope', 'openai.chat'],
    ['https://api.x.ai/v1/responses', 'xai', 'openai.responses'],
    ['https://api.githubcopilot.com/chat/completions', 'github-copilot', 'openai.chat'],
    ['http://localhost:11434/v1/chat/completions', 'ollama', 'openai.chat'],
    ['http://127.0.0.1:1234/v1/chat/completions', 'lm-studio', 'openai.chat'],
  ];
  for (const [url, provider, api] of cases) {
    const d = detect(makeRecord({ url, requestBody: {} }));
    assert.equal(d.kind, 'llm', url);
    assert.equal(d.provider, provider, url);
    assert.equal(d.api, api, url);
    assert.ok(d.reasons.some((r) => r.includes(`provider ${provider}`)) && d.reasons.some((r) => r.includes(`→ ${api}`)), url);
  }
});

test('Bedrock invoke of a Claude inference profile ARN is Anthropic Messages because of its body', () => {
  const d = detect(
    makeRecord({
      url: 'https://bedrock-runtime.us-west-2.amazonaws.com/model/arn%3Aaws%3Abedrock%3Aus-west-2%3A123%3Aapplication-inference-profile%2Fabc/invoke',
      requestBody: { anthropic_version: 'bedrock-2023-05-31', max_tokens: 10, messages: [] },
    }),
  );
  assert.equal(d.api, 'anthropic.messages');
  assert.match(d.reasons.join('\n'), /anthropic_version/);
  const llama = detect(makeRecord({ url: 'https://bedrock-runtime.us-west-2.amazonaws.com/model/meta.llama3-70b-instruct-v1:0/invoke', requestBody: { prompt: 'x' } }));
  assert.equal(llama.kind, 'llm');
  assert.equal(llama.api, 'bedrock.invoke');
});

test('unknown hosts: an API-specific header, a response signature, or a strong path plus body shape', () => {
  const withHeader = detect(makeRecord({ url: 'http://127.0.0.1:8000/v1/messages', requestHeaders: [...json, ['anthropic-version', '2023-06-01']], requestBody: { model: 'm', max_tokens: 1, messages: [] }, responseBody: { error: 'x' } }));
  assert.equal(withHeader.kind, 'llm');
  assert.equal(withHeader.api, 'anthropic.messages');
  assert.equal(withHeader.provider, undefined);
  assert.match(withHeader.reasons.join('\n'), /header\.anthropic-version/);

  const withStream = detect(makeRecord({ url: 'http://gateway.internal:9000/v1/messages', requestBody: { model: 'm', max_tokens: 1, messages: [] }, responseBody: fixture('anthropic/lib__fixtures__basic_response.txt') }));
  assert.equal(withStream.kind, 'llm');
  assert.match(withStream.reasons.join('\n'), /stream\.anthropic\.message_start/);

  const vllm = detect(makeRecord({ url: 'http://10.0.0.5:8000/v1/chat/completions', requestBody: { model: 'qwen', messages: [{ role: 'user', content: 'x' }] } }));
  assert.equal(vllm.kind, 'llm');
  assert.equal(vllm.api, 'openai.chat');
  assert.match(vllm.reasons.join('\n'), /body\.openai\.chat/);

  const notChat = detect(makeRecord({ url: 'http://10.0.0.5:8000/v1/chat/completions', requestBody: { text: 'autocomplete this' }, responseBody: '<html></html>', responseHeaders: [['content-type', 'text/html']] }));
  assert.equal(notChat.kind, 'unknown');

  const gem = detect(makeRecord({ url: 'http://127.0.0.1:7000/v1beta/models/gemini-2.5-flash:generateContent', requestBody: { contents: [{ role: 'user', parts: [{ text: 'x' }] }] } }));
  assert.equal(gem.api, 'gemini.generate');
});

test('Cursor: chat streams over Connect are llm cursor.connect, other aiserver calls are app', () => {
  const connect: HeaderList = [['content-type', 'application/connect+proto'], ['connect-protocol-version', '1'], ['x-cursor-client-version', '2.0.77']];
  const chat = detect(makeRecord({ url: 'https://api2.cursor.sh/aiserver.v1.ChatService/StreamUnifiedChatWithTools', requestHeaders: connect, requestBody: 'bin' }));
  assert.deepEqual([chat.kind, chat.provider, chat.api, chat.agent], ['llm', 'cursor', 'cursor.connect', 'cursor']);
  const agent = detect(makeRecord({ url: 'https://agent-gcpp-uswest.api5.cursor.sh/agent.v1.AgentService/Run', requestHeaders: connect }));
  assert.deepEqual([agent.kind, agent.provider, agent.api], ['llm', 'cursor', 'cursor.connect']);
  const models = detect(makeRecord({ url: 'https://api2.cursor.sh/aiserver.v1.AiService/AvailableModels', requestHeaders: [['content-type', 'application/proto']] }));
  assert.deepEqual([models.kind, models.provider], ['app', 'cursor']);
  // Cursor chat paths mean nothing on other hosts.
  assert.equal(detect(makeRecord({ url: 'https://example.com/aiserver.v1.ChatService/StreamUnifiedChatWithTools' })).kind, 'unknown');
});

test('agents and SDKs are named from their headers', () => {
  const cases: [HeaderList, string][] = [
    [[['user-agent', 'claude-cli/1.0.6 (external, cli)'], ['x-stainless-lang', 'js'], ['anthropic-version', '2023-06-01']], 'claude-code'],
    [[['x-claude-code-session-id', 'abc'], ['user-agent', 'Anthropic/JS 0.60.0']], 'claude-code'],
    [[['anthropic-beta', 'claude-code-20250219,oauth-2025-04-20'], ['user-agent', 'Anthropic/JS 0.60.0']], 'claude-code'],
    [[['originator', 'codex_cli_rs'], ['user-agent', 'codex_cli_rs/0.58.0 (Debian 12; x86_64) xterm']], 'codex'],
    [[['user-agent', 'GeminiCLI/0.1.5 (linux; x64)'], ['x-goog-api-client', 'gl-node/20.0.0']], 'gemini-cli'],
    [[['user-agent', 'opencode/0.3.110 ai-sdk/provider-utils/3.0.0']], 'opencode'],
    [[['copilot-integration-id', 'vscode-chat'], ['user-agent', 'GitHubCopilotChat/0.29.0']], 'copilot'],
    [[['x-title', 'Aider'], ['http-referer', 'https://aider.chat']], 'aider'],
    [[['user-agent', 'Anthropic/JS 0.60.0'], ['x-stainless-lang', 'js'], ['anthropic-version', '2023-06-01']], 'anthropic-sdk'],
    [[['user-agent', 'OpenAI/JS 6.0.0'], ['x-stainless-lang', 'js']], 'openai-sdk'],
    [[['user-agent', 'OpenAI/Python 1.99.0']], 'openai-sdk'],
    [[['x-stainless-lang', 'python'], ['x-stainless-package-version', '1.0.0']], 'openai-sdk'],
    [[['x-goog-api-client', 'google-genai-sdk/1.20.0 gl-node/v20.0.0']], 'google-genai-sdk'],
  ];
  for (const [headers, agent] of cases) {
    const d = detect(makeRecord({ url: 'https://api.anthropic.com/v1/messages', requestHeaders: headers }));
    assert.equal(d.agent, agent, JSON.stringify(headers));
    assert.ok(d.reasons.some((r) => r.includes(`agent ${agent}`)));
  }
  const labelled = detect(makeRecord({ url: 'https://api.openai.com/v1/responses', requestHeaders: json, labels: { target: 'codex' } }));
  assert.equal(labelled.agent, 'codex');
  assert.match(labelled.reasons.join('\n'), /label target=codex/);
});

test('tunnels: provider hosts are app traffic, content unseen', () => {
  const rec: CaptureRecord = { v: 1, id: 't1', kind: 'tunnel', mode: 'forward', startedAt: new Date().toISOString(), server: { host: 'api.openai.com', port: 443, tls: true }, tunnel: { bytesUp: 1, bytesDown: 2, durationMs: 3, reason: 'passthrough' }, error: null };
  assert.deepEqual([detect(rec).kind, detect(rec).provider], ['app', 'openai']);
  assert.equal(detect({ ...rec, server: { host: 'example.com', port: 443, tls: true } }).kind, 'unknown');
  assert.equal(normalizeExchange(rec), undefined);
});

test('user rules (--registry) add providers and paths without touching code, and bad files are named', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'agenttap-reg-'));
  const file = path.join(dir, 'rules.json');
  writeFileSync(file, JSON.stringify({ providers: [{ id: 'acme-llm', hosts: ['llm.acme.internal'] }], paths: [{ id: 'path.acme.generate', pattern: '^/generate$', api: 'openai.chat', providers: ['acme-llm'] }], agents: [{ id: 'agent.acme', header: 'user-agent', contains: 'acme-bot', agent: 'acme-bot' }] }));
  const reg = compileRegistry([readRegistryFile(file), builtinRegistryData()]);
  const rec = makeRecord({ url: 'https://llm.acme.internal/generate', requestHeaders: [...json, ['user-agent', 'acme-bot/1']], requestBody: { model: 'm', messages: [{ role: 'user', content: 'x' }] } });
  const d = detect(rec, reg);
  assert.deepEqual([d.kind, d.provider, d.api, d.agent], ['llm', 'acme-llm', 'openai.chat', 'acme-bot']);
  assert.match(d.reasons.join('\n'), /path\.acme\.generate/);
  assert.equal(detect(rec).kind, 'unknown', 'the built-in registry alone does not know it');
  writeFileSync(file, JSON.stringify({ paths: [{ id: 'bad', pattern: '([' }] }));
  assert.throws(() => readRegistryFile(file), (e: unknown) => e instanceof RegistryError && /bad regular expression/.test(e.message) && e.message.includes('bad'));
  writeFileSync(file, '{nope');
  assert.throws(() => readRegistryFile(file), /not valid JSON/);
});

test('the client process names the agent when no header does', () => {
  const rec = makeRecord({ url: 'https://api.anthropic.com/v1/messages', requestHeaders: json });
  rec.client = { ip: '127.0.0.1', port: 5000, pid: 4242, process: 'claude' };
  const d = detect(rec);
  assert.equal(d.agent, 'claude-code');
  assert.match(d.reasons.join('\n'), /client process claude → agent claude-code \(process\.claude\)/);
  rec.client.process = 'node';
  assert.equal(detect(rec).agent, undefined);
  rec.client.process = 'codex';
  rec.request!.headers.push(['user-agent', 'OpenAI/JS 6.0.0']);
  assert.equal(detect(rec).agent, 'openai-sdk', 'a header is more specific than the process');
});
