// The demo's bundled agent: a tiny tool-using agent in plain Node that speaks the Anthropic
// Messages and OpenAI Chat Completions wire formats exactly as the official SDKs do (same paths,
// headers, bodies, SSE), through HTTPS_PROXY. It runs as its own process, like a real agent.
import { ProxyAgent, request, type Dispatcher } from 'undici';

export interface DemoAgentEnv {
  proxy: string;
  caPem: string;
  anthropicBase: string;
  openaiBase: string;
}

const WEATHER = 'sunny, 21°C, light wind';

function getWeather(args: { city?: string }): string {
  return `${args.city ?? 'somewhere'}: ${WEATHER}`;
}

/** Splits an SSE body into its data payloads (enough for the demo's own bookkeeping). */
function sseData(text: string): string[] {
  return text
    .split(/\r?\n\r?\n/)
    .map((block) => block.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n'))
    .filter(Boolean);
}

async function post(dispatcher: Dispatcher, url: string, headers: Record<string, string>, body: unknown): Promise<string> {
  const res = await request(url, { dispatcher, method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${url}: HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
  return text;
}

interface AnthropicBlock {
  type: string;
  text?: string;
  id?: string;
  name?: string;
  input?: unknown;
}

/** Rebuild the assistant content from Anthropic SSE, as the SDK's MessageStream does. */
function anthropicFromStream(text: string): { content: AnthropicBlock[]; stop: string } {
  const content: AnthropicBlock[] = [];
  const json: string[] = [];
  let stop = '';
  for (const d of sseData(text)) {
    const e = JSON.parse(d) as { type: string; index?: number; content_block?: AnthropicBlock; delta?: { type?: string; text?: string; partial_json?: string; stop_reason?: string } };
    if (e.type === 'content_block_start') {
      content[e.index!] = { ...e.content_block! };
      json[e.index!] = '';
    } else if (e.type === 'content_block_delta' && e.delta?.type === 'text_delta') content[e.index!]!.text = (content[e.index!]!.text ?? '') + e.delta.text;
    else if (e.type === 'content_block_delta' && e.delta?.type === 'input_json_delta') json[e.index!] += e.delta.partial_json ?? '';
    else if (e.type === 'content_block_stop' && content[e.index!]!.type === 'tool_use') content[e.index!]!.input = JSON.parse(json[e.index!] || '{}');
    else if (e.type === 'message_delta') stop = e.delta?.stop_reason ?? stop;
  }
  return { content, stop };
}

async function anthropicTurn(d: Dispatcher, env: DemoAgentEnv, stream: boolean, log: (s: string) => void): Promise<void> {
  const url = `${env.anthropicBase}/v1/messages`;
  const headers = { 'x-api-key': 'sk-ant-demo-not-a-real-key-0000', 'anthropic-version': '2023-06-01' };
  const tools = [{ name: 'get_weather', description: 'Current weather for a city', input_schema: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } }];
  const messages: { role: string; content: unknown }[] = [{ role: 'user', content: 'What is the weather in Paris?' }];
  const ask = async () => {
    const text = await post(d, url, headers, { model: 'claude-haiku-4-5', max_tokens: 512, stream, tools, messages });
    if (stream) return anthropicFromStream(text);
    const m = JSON.parse(text) as { content: AnthropicBlock[]; stop_reason: string };
    return { content: m.content, stop: m.stop_reason };
  };
  const first = await ask();
  const call = first.content.find((b) => b.type === 'tool_use');
  if (!call) throw new Error('anthropic: expected a tool call');
  const result = getWeather(call.input as { city?: string });
  log(`  anthropic${stream ? ' (stream)' : ''}: model asked for ${call.name}(${JSON.stringify(call.input)}) → ${result}`);
  messages.push({ role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: result }] });
  const second = await ask();
  log(`  anthropic${stream ? ' (stream)' : ''}: answer (${second.stop}): ${second.content.map((b) => b.text ?? '').join('')}`);
}

interface ChatDelta {
  content?: string | null;
  tool_calls?: { index: number; id?: string; function?: { name?: string; arguments?: string } }[];
}

async function openaiTurn(d: Dispatcher, env: DemoAgentEnv, stream: boolean, log: (s: string) => void): Promise<void> {
  const url = `${env.openaiBase}/v1/chat/completions`;
  const headers = { authorization: 'Bearer sk-demo-not-a-real-key-1111' };
  const tools = [{ type: 'function', function: { name: 'get_weather', description: 'Current weather for a city', parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] } } }];
  const messages: Record<string, unknown>[] = [{ role: 'user', content: 'What is the weather in Paris?' }];
  const ask = async () => {
    const text = await post(d, url, headers, { model: 'gpt-4.1-mini', stream, ...(stream ? { stream_options: { include_usage: true } } : {}), tools, messages });
    if (!stream) return (JSON.parse(text) as { choices: { message: { content: string | null; tool_calls?: { id: string; type: string; function: { name: string; arguments: string } }[] }; finish_reason: string }[] }).choices[0]!;
    let content = '';
    let finish = '';
    const calls: { id: string; type: string; function: { name: string; arguments: string } }[] = [];
    for (const data of sseData(text)) {
      if (data === '[DONE]') break;
      const c = JSON.parse(data) as { choices: { delta: ChatDelta; finish_reason: string | null }[] };
      const ch = c.choices[0];
      if (!ch) continue;
      content += ch.delta.content ?? '';
      for (const t of ch.delta.tool_calls ?? []) {
        calls[t.index] ??= { id: t.id ?? '', type: 'function', function: { name: '', arguments: '' } };
        if (t.function?.name) calls[t.index]!.function.name += t.function.name;
        calls[t.index]!.function.arguments += t.function?.arguments ?? '';
      }
      finish = ch.finish_reason ?? finish;
    }
    return { message: { content: content || null, ...(calls.length ? { tool_calls: calls } : {}) }, finish_reason: finish };
  };
  const first = await ask();
  const call = first.message.tool_calls?.[0];
  if (!call) throw new Error('openai: expected a tool call');
  const args = JSON.parse(call.function.arguments) as { city?: string };
  const result = getWeather(args);
  log(`  openai${stream ? ' (stream)' : ''}: model asked for ${call.function.name}(${call.function.arguments}) → ${result}`);
  messages.push({ role: 'assistant', content: first.message.content, tool_calls: first.message.tool_calls }, { role: 'tool', tool_call_id: call.id, content: result });
  const second = await ask();
  log(`  openai${stream ? ' (stream)' : ''}: answer (${second.finish_reason}): ${second.message.content}`);
}

/** Four tool round trips: Anthropic and OpenAI, each non-streaming then streaming. */
export async function runDemoAgent(env: DemoAgentEnv, log: (s: string) => void = (s) => process.stdout.write(s + '\n')): Promise<void> {
  const dispatcher = new ProxyAgent({ uri: env.proxy, requestTls: { ca: env.caPem } });
  try {
    for (const stream of [false, true]) {
      await anthropicTurn(dispatcher, env, stream, log);
      await openaiTurn(dispatcher, env, stream, log);
    }
  } finally {
    await dispatcher.close();
  }
}

// Run as a process: `node agent.js` with the demo's environment.
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/').split('/').pop()!) && process.env['AGENTTAP_DEMO_PROXY']) {
  const { readFileSync } = await import('node:fs');
  runDemoAgent({
    proxy: process.env['AGENTTAP_DEMO_PROXY']!,
    caPem: readFileSync(process.env['AGENTTAP_DEMO_CA']!, 'utf8'),
    anthropicBase: process.env['AGENTTAP_DEMO_ANTHROPIC']!,
    openaiBase: process.env['AGENTTAP_DEMO_OPENAI']!,
  }).catch((e: Error) => {
    process.stderr.write(`demo agent: ${e.message}\n`);
    process.exitCode = 1;
  });
}
