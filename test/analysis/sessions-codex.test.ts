import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { uuidv7 } from '../../src/capture/ids.js';
import type { CaptureRecord } from '../../src/capture/record.js';
import { agenttap, jsonLines, tempDir } from '../support/analysis-cli.js';
import { writeCapture } from '../support/analysis-records.js';

const T = Date.UTC(2026, 10, 23, 9, 0, 0);

/** A Codex-style Responses exchange: session_id header, previous_response_id chains, SSE response. */
function responses(t: number, sessionId: string, input: unknown[], responseId: string, text: string, previous?: string): CaptureRecord {
  const body = JSON.stringify({ model: 'gpt-5-codex', instructions: 'You are Codex, a coding agent.', input, stream: true, store: false, ...(previous ? { previous_response_id: previous } : {}) });
  const events = [
    { type: 'response.created', response: { id: responseId, model: 'gpt-5-codex' } },
    { type: 'response.output_item.added', output_index: 0, item: { type: 'message', role: 'assistant', content: [] } },
    { type: 'response.output_text.delta', output_index: 0, content_index: 0, delta: text },
    { type: 'response.completed', response: { id: responseId, model: 'gpt-5-codex', status: 'completed', output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text }] }], usage: { input_tokens: 100, output_tokens: 10, total_tokens: 110, input_tokens_details: { cached_tokens: 0 }, output_tokens_details: { reasoning_tokens: 4 } } } },
  ];
  const sse = events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join('');
  return {
    v: 1,
    id: uuidv7(t),
    kind: 'http',
    mode: 'forward',
    startedAt: new Date(t).toISOString(),
    client: { ip: '127.0.0.1', port: 40000, pid: 777, process: 'codex' },
    server: { host: 'api.openai.com', port: 443, tls: true },
    request: { method: 'POST', url: 'https://api.openai.com/v1/responses', httpVersion: '1.1', headers: [['content-type', 'application/json'], ['session_id', sessionId], ['originator', 'codex_cli_rs'], ['user-agent', 'codex_cli_rs/0.46.0']], body: { text: body, size: body.length } },
    response: { status: 200, httpVersion: '1.1', headers: [['content-type', 'text/event-stream']], body: { text: sse, size: sse.length } },
    timing: { ttfbMs: 100, totalMs: 800 },
    error: null,
  };
}

test('Codex: session_id headers split sessions of one process; previous_response_id chains keep one conversation', () => {
  const msg = (role: string, text: string) => ({ type: 'message', role, content: [{ type: role === 'user' ? 'input_text' : 'output_text', text }] });
  const records = [
    responses(T, 'sess-one', [msg('user', 'Add a README')], 'resp_1', 'Sure, writing README.md.'),
    responses(T + 1000, 'sess-two', [msg('user', 'Fix the build')], 'resp_9', 'Looking at the build.'),
    responses(T + 2000, 'sess-one', [msg('user', 'Also add a license')], 'resp_2', 'Adding LICENSE.', 'resp_1'),
    responses(T + 3000, 'sess-one', [msg('user', 'Thanks')], 'resp_3', 'You are welcome.', 'resp_2'),
  ];
  const file = join(tempDir(), 'codex.jsonl');
  writeCapture(file, records);
  const r = agenttap(['sessions', file, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const sessions = jsonLines<{ id: string; agent: string | null; requests: number; conversations: { id: string; turns: { exchangeId: string; prompt?: string }[] }[] }>(r.stdout);
  assert.deepEqual(sessions.map((s) => [s.id, s.requests]), [['sess-one', 3], ['sess-two', 1]]);
  const one = sessions[0]!;
  assert.equal(one.conversations.length, 1, 'the chain is one conversation');
  assert.deepEqual(one.conversations[0]!.turns.map((t) => t.prompt), ['Add a README', 'Also add a license', 'Thanks']);
  const timeline = jsonLines<{ kind: string; text?: string }>(agenttap(['timeline', file, '--session', 'sess-one', '--json']).stdout);
  assert.deepEqual(timeline.map((s) => s.kind), ['prompt', 'answer', 'prompt', 'answer', 'prompt', 'answer']);
  assert.equal(timeline[5]!.text, 'You are welcome.');
});
