// List rows carry what the list and Stats show: LLM facts from the LLM layer, and a stream's
// time to first token taken from the chunk that carried the first content event.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rowOf, timeToFirstToken } from '../../src/server/row-summary.js';
import { loadLlmLayer, llmFactsOf } from '../../src/analysis/llm-layer.js';
import { anthropicRecord } from '../ui/capture-fixtures.js';
import type { CaptureRecord } from '../../src/capture/record.js';

function streamed(events: string[], chunkTimes: number[], split: number[]): CaptureRecord {
  const text = events.join('');
  const r = anthropicRecord(0, Date.parse('2026-11-23T09:00:00Z'), { stream: true });
  const sizes: number[] = [];
  let last = 0;
  for (const at of [...split, Buffer.byteLength(text)]) {
    sizes.push(at - last);
    last = at;
  }
  r.response!.body = { text, size: Buffer.byteLength(text) };
  r.response!.chunks = sizes.map((n, i) => [chunkTimes[i]!, n]);
  return r;
}

const ev = (name: string, data: unknown): string => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;

test('time to first token is the arrival of the chunk holding the first text delta', () => {
  const start = ev('message_start', { type: 'message_start', message: { id: 'm', model: 'claude-sonnet-4-5', usage: { input_tokens: 3 } } });
  const block = ev('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
  const delta = ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi' } });
  const stop = ev('message_stop', { type: 'message_stop' });
  const first = Buffer.byteLength(start + block);
  const r = streamed([start, block, delta, stop], [120, 870, 990], [first, first + Buffer.byteLength(delta)]);
  assert.equal(timeToFirstToken(r), 870);
  // An OpenAI chat stream: the role-only first delta is not content; the first "content" is.
  const role = `data: ${JSON.stringify({ choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] })}\n\n`;
  const tok = `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: 'Hel' } }] })}\n\n`;
  const o = streamed([role, tok, 'data: [DONE]\n\n'], [50, 400, 420], [Buffer.byteLength(role), Buffer.byteLength(role + tok)]);
  assert.equal(timeToFirstToken(o), 400);
  // A gzip body's chunks are wire bytes: no guess.
  o.response!.body!.contentEncoding = 'gzip';
  assert.equal(timeToFirstToken(o), undefined);
});

test('a row carries the LLM facts of an Anthropic exchange', async () => {
  const llm = await loadLlmLayer();
  const r = anthropicRecord(3, Date.parse('2026-11-23T09:00:00Z'), { stream: false, text: 'fine' });
  const row = rowOf(r, 7, llmFactsOf(llm, r), false);
  assert.equal(row.seq, 7);
  assert.equal(row.llm, true);
  assert.equal(row.provider, 'anthropic');
  assert.equal(row.api, 'anthropic.messages');
  assert.equal(row.model, 'claude-haiku-4-5');
  assert.equal(row.agent, 'claude-code');
  assert.equal(row.tin, 103);
  assert.equal(row.tout, 23);
  assert.match(row.ctx ?? '', /^[0-9a-f]{8,}$/);
  assert.equal(row.state, 'done');
  assert.equal(row.host, 'api.anthropic.com');
  assert.equal(row.path, '/v1/messages');
});
