// LLM layer throughput: normalize 10,000 recorded streaming exchanges (Anthropic Messages and
// OpenAI Chat/Responses SSE of a few KB, as capture-file lines) — detection, stream merging,
// usage and cost — next to JSON.parse alone on the same lines (the floor). Target: within 3×.
import type { CaptureRecord } from '../src/capture/record.js';
import { normalizeExchange, ResponsesChain } from '../src/llm/normalize.js';
import type { BenchModule, BenchResult } from './types.js';

const WORDS = 'the quick brown fox jumps over a lazy dog while agents call tools and read files in the repository'.split(' ');

function words(n: number, seed: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(WORDS[(i * 7 + seed) % WORDS.length]! + (i % 9 === 0 ? '.' : ''));
  return out;
}

function anthropicStream(seed: number): string {
  const ev = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  let s = ev('message_start', { message: { id: `msg_${seed}`, type: 'message', role: 'assistant', model: 'claude-sonnet-4-5-20250929', content: [], stop_reason: null, usage: { input_tokens: 1200 + seed % 50, cache_read_input_tokens: 30000, cache_creation_input_tokens: 120, output_tokens: 1 } } });
  s += ev('content_block_start', { index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } });
  for (const w of words(15, seed)) s += ev('content_block_delta', { index: 0, delta: { type: 'thinking_delta', thinking: `${w} ` } });
  s += ev('content_block_delta', { index: 0, delta: { type: 'signature_delta', signature: 'EqQBCkYIBxgCKkBsig' } });
  s += ev('content_block_stop', { index: 0 });
  s += ev('content_block_start', { index: 1, content_block: { type: 'text', text: '' } });
  for (const w of words(25, seed + 1)) s += ev('content_block_delta', { index: 1, delta: { type: 'text_delta', text: `${w} ` } });
  s += ev('content_block_stop', { index: 1 });
  s += ev('content_block_start', { index: 2, content_block: { type: 'tool_use', id: `toolu_${seed}`, name: 'Bash', input: {} } });
  for (const part of ['{"comm', 'and": "ls', ' -la src', '", "descr', 'iption": "list"}']) s += ev('content_block_delta', { index: 2, delta: { type: 'input_json_delta', partial_json: part } });
  s += ev('content_block_stop', { index: 2 });
  s += ev('message_delta', { delta: { stop_reason: 'tool_use', stop_sequence: null }, usage: { output_tokens: 180 } });
  s += ev('message_stop', {});
  return s;
}

function openaiChatStream(seed: number): string {
  const chunk = (delta: object, finish: string | null = null) => `data: ${JSON.stringify({ id: `chatcmpl-${seed}`, object: 'chat.completion.chunk', created: 1723031664, model: 'gpt-4o-2024-08-06', system_fingerprint: 'fp_845eaabc1f', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
  let s = chunk({ role: 'assistant', content: '' });
  for (const w of words(45, seed)) s += chunk({ content: `${w} ` });
  s += chunk({ tool_calls: [{ index: 0, id: `call_${seed}`, type: 'function', function: { name: 'read_file', arguments: '' } }] });
  for (const part of ['{"pa', 'th": "src/', 'index.ts"}']) s += chunk({ tool_calls: [{ index: 0, function: { arguments: part } }] });
  s += chunk({}, 'tool_calls');
  s += `data: ${JSON.stringify({ id: `chatcmpl-${seed}`, object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 2400, completion_tokens: 90, prompt_tokens_details: { cached_tokens: 2048 } } })}\n\ndata: [DONE]\n\n`;
  return s;
}

function responsesStream(seed: number): string {
  const ev = (type: string, data: object, n: number) => `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: n, ...data })}\n\n`;
  let n = 0;
  let s = ev('response.created', { response: { id: `resp_${seed}`, object: 'response', status: 'in_progress', model: 'gpt-5-codex', output: [] } }, n++);
  s += ev('response.output_item.added', { output_index: 0, item: { id: 'msg_1', type: 'message', role: 'assistant', status: 'in_progress', content: [] } }, n++);
  s += ev('response.content_part.added', { output_index: 0, item_id: 'msg_1', content_index: 0, part: { type: 'output_text', text: '', annotations: [] } }, n++);
  const ws = words(40, seed);
  for (const w of ws) s += ev('response.output_text.delta', { output_index: 0, item_id: 'msg_1', content_index: 0, delta: `${w} ` }, n++);
  const text = ws.map((w) => `${w} `).join('');
  s += ev('response.completed', { response: { id: `resp_${seed}`, object: 'response', status: 'completed', model: 'gpt-5-codex', output: [{ id: 'msg_1', type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text, annotations: [] }] }], usage: { input_tokens: 5000, output_tokens: 60, input_tokens_details: { cached_tokens: 4096 }, output_tokens_details: { reasoning_tokens: 0 } } } }, n++);
  return s;
}

export function recordLine(i: number): string {
  const kind = i % 3;
  const id = `0193f1c2-${String(i).padStart(4, '0').slice(-4)}-7000-8000-${String(i).padStart(12, '0')}`;
  const history = [{ role: 'user', content: 'Please look at the repository and fix the failing test in src/index.ts.' }, { role: 'assistant', content: 'Looking at it now.' }];
  let url: string;
  let reqBody: object;
  let resp: string;
  let reqHeaders: [string, string][];
  if (kind === 0) {
    url = 'https://api.anthropic.com/v1/messages?beta=true';
    reqHeaders = [['content-type', 'application/json'], ['anthropic-version', '2023-06-01'], ['user-agent', 'claude-cli/2.0.14 (external, cli)'], ['x-api-key', '[REDACTED …a1b2]']];
    reqBody = { model: 'claude-sonnet-4-5-20250929', max_tokens: 32000, stream: true, system: [{ type: 'text', text: 'You are Claude Code, an interactive CLI tool.' }], tools: [{ name: 'Bash', description: 'Run a shell command', input_schema: { type: 'object' } }], messages: history };
    resp = anthropicStream(i);
  } else if (kind === 1) {
    url = 'https://api.openai.com/v1/chat/completions';
    reqHeaders = [['content-type', 'application/json'], ['user-agent', 'OpenAI/JS 6.0.0'], ['authorization', '[REDACTED …c3d4]']];
    reqBody = { model: 'gpt-4o', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'system', content: 'You are a coding agent.' }, ...history], tools: [{ type: 'function', function: { name: 'read_file', description: 'Read a file' } }] };
    resp = openaiChatStream(i);
  } else {
    url = 'https://chatgpt.com/backend-api/codex/responses';
    reqHeaders = [['content-type', 'application/json'], ['originator', 'codex_cli_rs'], ['authorization', '[REDACTED …e5f6]']];
    reqBody = { model: 'gpt-5-codex', stream: true, instructions: 'You are Codex.', input: history.map((m) => ({ type: 'message', role: m.role, content: [{ type: m.role === 'user' ? 'input_text' : 'output_text', text: m.content }] })), tools: [{ type: 'function', name: 'shell', description: 'Run a command' }] };
    resp = responsesStream(i);
  }
  const reqText = JSON.stringify(reqBody);
  const record: CaptureRecord = {
    v: 1,
    id,
    kind: 'http',
    mode: 'forward',
    startedAt: new Date(Date.UTC(2026, 10, 23, 8, 0, 0, i)).toISOString(),
    client: { ip: '127.0.0.1', port: 50000 + (i % 1000), pid: 4242, process: 'node' },
    server: { host: new URL(url).hostname, port: 443, tls: true, alpn: 'h2' },
    request: { method: 'POST', url, httpVersion: '2', headers: reqHeaders, body: { text: reqText, size: reqText.length } },
    response: { status: 200, httpVersion: '2', headers: [['content-type', 'text/event-stream']], body: { text: resp, size: resp.length }, chunks: Array.from({ length: 40 }, (_, k) => [400 + k * 12.5, 120] as [number, number]) },
    timing: { connectMs: 1.2, tlsMs: 8.4, ttfbMs: 400, totalMs: 900 },
    error: null,
  };
  return JSON.stringify(record);
}

/** CPU time (user + system, ms) rather than wall time: on a shared machine, being descheduled is not our cost. */
function time(fn: () => void): number {
  const c0 = process.cpuUsage();
  fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
}

const bench: BenchModule = {
  title: 'LLM layer: normalize recorded streaming exchanges',
  async run(ctx) {
    const n = ctx.quick ? 2000 : 10_000;
    const lines = Array.from({ length: n }, (_, i) => recordLine(i));
    const bytes = lines.reduce((a, l) => a + Buffer.byteLength(l), 0);
    ctx.log(`${n} exchanges (Anthropic Messages, OpenAI Chat, OpenAI Responses SSE), ${(bytes / n / 1024).toFixed(1)} KB per line, ${(bytes / 1024 / 1024).toFixed(1)} MB`);
    let sink = 0;
    const floorRun = () => {
      for (const l of lines) sink += (JSON.parse(l) as CaptureRecord).id.length;
    };
    const oursRun = () => {
      const chain = new ResponsesChain();
      for (const l of lines) {
        const x = normalizeExchange(JSON.parse(l) as CaptureRecord, { chain });
        sink += x?.response.usage?.output ?? 0;
      }
    };
    // Warm up both paths, then alternate them (the machine may be shared: a pair sees the same
    // load) and take the medians.
    floorRun();
    oursRun();
    const floors: number[] = [];
    const ourTimes: number[] = [];
    for (let i = 0; i < 5; i++) {
      floors.push(time(floorRun));
      ourTimes.push(time(oursRun));
    }
    const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
    const floor = median(floors);
    const ours = median(ourTimes);
    if (sink === 0) throw new Error('nothing normalized');
    const mb = bytes / 1024 / 1024;
    const ratio = ours / floor;
    const results: BenchResult[] = [
      { metric: 'normalize: exchanges per CPU second', value: n / (ours / 1000), unit: 'exch/s', baseline: n / (floor / 1000), ratio: floor / ours },
      { metric: 'normalize: throughput per CPU second', value: mb / (ours / 1000), unit: 'MB/s', baseline: mb / (floor / 1000) },
      { metric: 'normalize CPU time vs JSON.parse alone (floor)', value: ours, unit: 'ms', baseline: floor, ratio, target: '≤ 3.0×', pass: ratio <= 3 },
    ];
    return results;
  },
};

export default bench;
