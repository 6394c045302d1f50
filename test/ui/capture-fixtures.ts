// Generated capture files for the inspector's tests and benchmark: realistic Anthropic and OpenAI
// exchanges (streamed and not), some non-LLM traffic and errors, written as record v1 JSONL.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { uuidv7 } from '../../src/capture/ids.js';
import type { CaptureRecord } from '../../src/capture/record.js';

const SYSTEMS = ['You are Claude Code, an interactive CLI tool.', 'You are a helpful assistant.', 'You summarise logs.'];
const MODELS = ['claude-sonnet-4-5', 'claude-haiku-4-5', 'gpt-4o-mini', 'gpt-4.1'];

function sseAnthropic(text: string, model: string, tin: number, tout: number): string {
  const ev = (name: string, data: unknown): string => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
  const parts = text.match(/.{1,12}/g) ?? [''];
  return (
    ev('message_start', { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', model, content: [], stop_reason: null, usage: { input_tokens: tin, output_tokens: 1 } } }) +
    ev('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }) +
    parts.map((p) => ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: p } })).join('') +
    ev('content_block_stop', { type: 'content_block_stop', index: 0 }) +
    ev('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: tout } }) +
    ev('message_stop', { type: 'message_stop' })
  );
}

export function anthropicRecord(i: number, startMs: number, opts: { text?: string; body?: string; stream?: boolean } = {}): CaptureRecord {
  const model = MODELS[i % 2]!;
  const system = SYSTEMS[i % SYSTEMS.length]!;
  const text = opts.text ?? `Answer number ${i}: the quick brown fox.`;
  const tin = 100 + (i % 50);
  const tout = 20 + (i % 30);
  const stream = opts.stream ?? i % 2 === 0;
  const reqBody = JSON.stringify({ model, max_tokens: 1024, stream, system, messages: [{ role: 'user', content: opts.body ?? `question ${i} needle${i}` }] });
  const resBody = stream
    ? sseAnthropic(text, model, tin, tout)
    : JSON.stringify({ id: `msg_${i}`, type: 'message', role: 'assistant', model, content: [{ type: 'text', text }], stop_reason: 'end_turn', usage: { input_tokens: tin, output_tokens: tout } });
  return {
    v: 1,
    id: uuidv7(startMs),
    kind: 'http',
    mode: 'forward',
    startedAt: new Date(startMs).toISOString(),
    client: { ip: '127.0.0.1', port: 40000 + (i % 1000) },
    server: { host: 'api.anthropic.com', port: 443, tls: true, alpn: 'h2' },
    request: {
      method: 'POST',
      url: 'https://api.anthropic.com/v1/messages',
      httpVersion: '2',
      headers: [['content-type', 'application/json'], ['x-api-key', '[REDACTED …a1b2]'], ['anthropic-version', '2023-06-01'], ['user-agent', 'claude-cli/1.0.6 (external, cli)']],
      body: { text: reqBody, size: Buffer.byteLength(reqBody) },
    },
    response: {
      status: i % 97 === 5 ? 529 : 200,
      httpVersion: '2',
      headers: [['content-type', stream ? 'text/event-stream' : 'application/json']],
      body: { text: resBody, size: Buffer.byteLength(resBody) },
      chunks: [[300 + (i % 40), 200], [340, 120], [420, 160]],
    },
    timing: { connectMs: 1.5, tlsMs: 7.5, ttfbMs: 300 + (i % 40), totalMs: 420 + (i % 300) },
    error: null,
    labels: { session: `s${Math.floor(i / 1000)}` },
  };
}

export function openaiRecord(i: number, startMs: number): CaptureRecord {
  const model = MODELS[2 + (i % 2)]!;
  const reqBody = JSON.stringify({ model, messages: [{ role: 'system', content: SYSTEMS[1] }, { role: 'user', content: `openai question ${i}` }] });
  const resBody = JSON.stringify({
    id: `chatcmpl-${i}`,
    object: 'chat.completion',
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: `openai answer ${i}` }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 50 + (i % 20), completion_tokens: 10 + (i % 10), total_tokens: 60 + (i % 30) },
  });
  return {
    v: 1,
    id: uuidv7(startMs),
    kind: 'http',
    mode: 'forward',
    startedAt: new Date(startMs).toISOString(),
    server: { host: 'api.openai.com', port: 443, tls: true },
    request: {
      method: 'POST',
      url: 'https://api.openai.com/v1/chat/completions',
      httpVersion: '1.1',
      headers: [['content-type', 'application/json'], ['authorization', '[REDACTED …wxyz]'], ['user-agent', 'OpenAI/JS 6.0.0']],
      body: { text: reqBody, size: Buffer.byteLength(reqBody) },
    },
    response: { status: 200, httpVersion: '1.1', headers: [['content-type', 'application/json']], body: { text: resBody, size: Buffer.byteLength(resBody) } },
    timing: { ttfbMs: 200, totalMs: 230 + (i % 100) },
    error: null,
  };
}

export function appRecord(i: number, startMs: number): CaptureRecord {
  const body = JSON.stringify({ ok: true, i });
  return {
    v: 1,
    id: uuidv7(startMs),
    kind: 'http',
    mode: 'forward',
    startedAt: new Date(startMs).toISOString(),
    server: { host: 'registry.example.test', port: 443, tls: true },
    request: { method: 'GET', url: `https://registry.example.test/pkg/${i}`, httpVersion: '1.1', headers: [['accept', 'application/json']] },
    response: { status: i % 100 === 9 ? 404 : 200, httpVersion: '1.1', headers: [['content-type', 'application/json']], body: { text: body, size: body.length } },
    timing: { ttfbMs: 20, totalMs: 25 },
    error: null,
  };
}

/** Writes `count` mixed exchanges (70% Anthropic, 20% OpenAI, 10% other) to `file`. */
export async function writeCapture(file: string, count: number, extraLines: string[] = []): Promise<void> {
  const out = createWriteStream(file);
  const t0 = Date.parse('2026-11-23T08:00:00.000Z');
  let buf: string[] = [];
  for (let i = 0; i < count; i++) {
    const t = t0 + i * 37;
    const k = i % 10;
    const rec = k < 7 ? anthropicRecord(i, t) : k < 9 ? openaiRecord(i, t) : appRecord(i, t);
    buf.push(JSON.stringify(rec));
    if (buf.length >= 1000) {
      if (!out.write(buf.join('\n') + '\n')) await once(out, 'drain');
      buf = [];
    }
  }
  buf.push(...extraLines);
  if (buf.length) out.write(buf.join('\n') + '\n');
  out.end();
  await once(out, 'finish');
}

/** What writeCapture(file, count) contains, counted from the same rules (for assertions). */
export function captureCounts(count: number): { anthropic: number; openai: number; other: number; status4xx: number; status5xx: number } {
  const c = { anthropic: 0, openai: 0, other: 0, status4xx: 0, status5xx: 0 };
  for (let i = 0; i < count; i++) {
    const k = i % 10;
    const rec = k < 7 ? anthropicRecord(i, 0) : k < 9 ? openaiRecord(i, 0) : appRecord(i, 0);
    if (k < 7) c.anthropic++;
    else if (k < 9) c.openai++;
    else c.other++;
    const st = rec.response?.status ?? 0;
    if (st >= 400 && st < 500) c.status4xx++;
    if (st >= 500) c.status5xx++;
  }
  return c;
}
