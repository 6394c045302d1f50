// Real agent captures from other tools (claude-trace, agent-system-dissect) imported into record v1
// and normalized: zero errors, and the conversations, tools and usage that are in the raw files.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import type { CaptureRecord } from '../../src/capture/record.js';
import { importFile } from '../../src/interop/import-file.js';
import { normalizeAll, normalizeExchange, ResponsesChain } from '../../src/llm/normalize.js';
import type { Block, LlmExchange } from '../../src/llm/types.js';
import { fixturesDir, makeRecord } from '../support/llm-records.js';

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function importRecords(file: string): Promise<CaptureRecord[]> {
  const records: CaptureRecord[] = [];
  const warnings: string[] = [];
  await importFile(path.join(fixturesDir, 'agent-captures', file), { onRecord: (r) => void records.push(r), onWarning: (w) => void warnings.push(w) });
  assert.deepEqual(warnings, []);
  return records;
}

function rawLines(file: string): Raw[] {
  return readFileSync(path.join(fixturesDir, 'agent-captures', file), 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Raw);
}

function texts(blocks: Block[]): string {
  return blocks.filter((b) => b.type === 'text').map((b) => (b as { text: string }).text).join('');
}

/** Usage read straight from the raw SSE text, independently of our parser. */
function sseUsage(raw: string): { input?: number; output?: number } {
  const out: { input?: number; output?: number } = {};
  for (const line of raw.split('\n')) {
    if (!line.startsWith('data:')) continue;
    const ev = JSON.parse(line.slice(5)) as Raw;
    if (ev.type === 'message_start') out.input = ev.message.usage.input_tokens;
    if (ev.type === 'message_delta') out.output = ev.usage.output_tokens;
  }
  return out;
}

for (const file of ['claude-trace--test-traffic.jsonl', 'claude-trace--test-chinese.jsonl']) {
  test(`claude-trace capture ${file}: every exchange normalizes with its conversation, tools and usage`, async () => {
    const records = await importRecords(file);
    const raws = rawLines(file);
    assert.equal(records.length, raws.length);
    const xs = normalizeAll(records);
    assert.equal(xs.length, raws.length, 'every exchange is an LLM call');
    let streamed = 0;
    let withTools = 0;
    xs.forEach((x, i) => {
      const raw = raws[i]!;
      const body = raw.request.body as Raw;
      assert.equal(x.response.error, undefined, `line ${i + 1}: ${x.response.error}`);
      assert.equal(x.detection.provider, 'anthropic');
      assert.equal(x.detection.api, 'anthropic.messages');
      assert.equal(x.model, body.model);
      assert.equal(x.request.turns.length, body.messages.length, `line ${i + 1} turns`);
      assert.deepEqual(x.request.turns.map((t) => t.role), body.messages.map((m: Raw) => m.role));
      assert.deepEqual(x.request.tools.map((t) => t.name), (body.tools ?? []).map((t: Raw) => t.name));
      if (body.tools?.length) withTools++;
      if (body.system) {
        const sys = typeof body.system === 'string' ? body.system : body.system.map((b: Raw) => b.text).join('\n');
        assert.equal(x.request.system, sys);
        assert.match(x.contextKey ?? '', /^[0-9a-f]{12}$/);
      }
      const resp = raw.response as Raw;
      if (typeof resp.body_raw === 'string' && resp.body_raw.includes('message_start')) {
        streamed++;
        assert.equal(x.stream, true);
        const u = sseUsage(resp.body_raw);
        assert.equal(x.response.usage?.input, u.input);
        assert.equal(x.response.usage?.output, u.output);
      } else {
        const b = resp.body as Raw;
        assert.equal(x.response.usage?.input, b.usage.input_tokens);
        assert.equal(x.response.usage?.output, b.usage.output_tokens);
        assert.equal(texts(x.response.turns.flatMap((t) => t.blocks)), b.content.filter((c: Raw) => c.type === 'text').map((c: Raw) => c.text).join(''));
        assert.equal(x.response.stopReason, b.stop_reason);
      }
      const rawContent = resp.body_raw ? /content_block_start/.test(resp.body_raw as string) : (resp.body as Raw).content.length > 0;
      assert.equal(x.response.turns.length > 0, rawContent, `line ${i + 1} has an answer exactly when the raw one has content`);
    });
    if (file.includes('traffic')) {
      assert.ok(streamed > 30, `streamed ${streamed}`);
      assert.ok(withTools > 10, `with tools ${withTools}`);
      assert.ok(xs.every((x) => x.detection.agent === 'claude-code'));
      // Tool use round trips appear as tool_call in answers and tool_result in later requests.
      const calls = xs.flatMap((x) => x.response.turns.flatMap((t) => t.blocks)).filter((b) => b.type === 'tool_call');
      const results = xs.flatMap((x) => x.request.turns.flatMap((t) => t.blocks)).filter((b) => b.type === 'tool_result');
      assert.ok(calls.length > 5 && results.length > 5, `${calls.length} calls, ${results.length} results`);
      const callIds = new Set(calls.map((c) => (c as { id?: string }).id));
      assert.ok(results.some((r) => callIds.has((r as { id?: string }).id)), 'a result answers a call seen earlier');
    } else {
      assert.match(texts(xs[0]!.request.turns[0]!.blocks), /你好/);
    }
  });
}

test('agent-system-dissect Codex sample: Responses streams with instructions, tools, function calls and cached/reasoning usage', async () => {
  const file = 'agent-system-dissect--codex-sample_traffic.jsonl';
  const records = await importRecords(file);
  const raws = rawLines(file);
  const xs = normalizeAll(records);
  assert.equal(xs.length, 3);
  xs.forEach((x, i) => {
    const raw = raws[i]!;
    assert.equal(x.response.error, undefined);
    assert.equal(x.detection.api, 'openai.responses');
    assert.equal(x.detection.agent, 'codex');
    assert.equal(x.request.system, raw.request.body.instructions);
    assert.deepEqual(x.request.tools, raw.request.body.tools.map((t: Raw) => ({ name: t.name, description: t.description })));
    assert.deepEqual(
      x.request.turns.map((t) => t.role),
      raw.request.body.input.map((m: Raw) => m.role),
    );
    const completed = raw.response.body.split('\n').filter((l: string) => l.startsWith('data:')).map((l: string) => JSON.parse(l.slice(5))).find((e: Raw) => e.type === 'response.completed');
    const u = completed.response.usage;
    assert.deepEqual(x.response.usage, { input: u.input_tokens, output: u.output_tokens, cacheRead: u.input_tokens_details.cached_tokens, reasoning: u.output_tokens_details.reasoning_tokens });
  });
  assert.match(texts(xs[0]!.response.turns[0]!.blocks), /def is_prime\(n\):/);
  const call = xs[2]!.response.turns[0]!.blocks[0]!;
  assert.deepEqual(call, { type: 'tool_call', id: 'call_002', name: 'shell', input: { command: 'python prime.py' } });
  // Cost: o4-mini is priced, cached tokens at the cached rate.
  assert.ok(xs[2]!.costUsd !== undefined && xs[2]!.costUsd > 0);
});

test('agent-system-dissect Codex conversation: a previous_response_id chain shows the whole conversation', () => {
  const doc = JSON.parse(readFileSync(path.join(fixturesDir, 'agent-captures/agent-system-dissect--codex-conversation-inspection.json'), 'utf8')) as Raw;
  const persistent = (doc.records as Raw[]).find((r) => r.approach === 'exec_persistent_resume')!;
  const turns = persistent.turns as Raw[];
  assert.equal(turns.length, 2);
  const chain = new ResponsesChain();
  const exchanges: LlmExchange[] = [];
  let prev: string | undefined;
  turns.forEach((t, i) => {
    const id = `resp_${persistent.thread_id}_${i}`;
    const rec = makeRecord({
      url: 'https://api.openai.com/v1/responses',
      requestHeaders: [['content-type', 'application/json'], ['originator', 'codex_exec']],
      requestBody: { model: 'gpt-5-codex', instructions: 'You are Codex.', input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: t.input }] }], ...(prev ? { previous_response_id: prev } : {}) },
      responseBody: { id, object: 'response', status: 'completed', model: 'gpt-5-codex', output: [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: t.actual_reply }] }], usage: { input_tokens: 100 + i, output_tokens: 3 } },
    });
    const x = normalizeExchange(rec, { chain });
    assert.ok(x);
    exchanges.push(x);
    prev = id;
  });
  const last = exchanges[1]!;
  assert.equal(last.detection.agent, 'codex');
  assert.equal(last.request.previousResponseId, `resp_${persistent.thread_id}_0`);
  assert.deepEqual(last.request.turns.map((t) => [t.role, texts(t.blocks)]), [
    ['user', turns[0]!.input],
    ['assistant', turns[0]!.actual_reply],
    ['user', turns[1]!.input],
  ]);
  assert.equal(texts(last.response.turns[0]!.blocks), persistent.proof.reference_code_from_turn_1);
  assert.equal(last.request.system, 'You are Codex.');
  // Without the chain the second request shows only what it sent.
  const alone = normalizeExchange(makeRecord({ url: 'https://api.openai.com/v1/responses', requestBody: { model: 'gpt-5-codex', input: turns[1]!.input, previous_response_id: 'resp_x' }, responseBody: { object: 'response', status: 'completed', output: [] } }));
  assert.equal(alone?.request.turns.length, 1);
});
