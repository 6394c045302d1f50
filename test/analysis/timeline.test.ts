import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agenttap, jsonLines } from '../support/analysis-cli.js';
import { builtCapture, importedFixture, SESSION_A } from '../support/analysis-fixtures.js';

interface Step {
  session: string;
  step: number;
  kind: string;
  timestamp: string;
  tool?: string;
  text?: string;
  thinking?: string;
  files?: string[];
  commands?: string[];
  output?: string;
  usage?: Record<string, number>;
  durationMs?: number;
  subagent?: boolean;
  model?: string;
}

test('timeline of a Claude Code session: prompt, thinking, tool calls with files and commands, results, sub-agent, answer', () => {
  const r = agenttap(['timeline', builtCapture(), '--session', SESSION_A, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const steps = jsonLines<Step>(r.stdout);
  assert.deepEqual(steps.map((s) => s.step), steps.map((_, i) => i + 1));
  for (const s of steps) {
    assert.equal(s.session, SESSION_A);
    assert.ok(!Number.isNaN(Date.parse(s.timestamp)));
  }
  const shape = steps.map((s) => `${s.subagent ? 'sub:' : ''}${s.kind}${s.tool ? ` ${s.tool}` : ''}`);
  assert.deepEqual(shape, [
    'prompt',
    'model',
    'tool_call Read',
    'tool_result Read',
    'model',
    'tool_call Task',
    'sub:prompt',
    'sub:answer',
    'tool_result Task',
    'model',
    'tool_call Edit',
    'tool_result Edit',
    'model',
    'tool_call Bash',
    'tool_result Bash',
    'answer',
  ]);
  assert.equal(steps[0]!.text, 'Fix the failing test in calc.py and tell me what was wrong.');
  assert.match(steps[1]!.thinking!, /read calc\.py first/);
  assert.deepEqual(steps[1]!.usage, { input: 12, output: 80, cacheRead: 0, cacheWrite: 9000 });
  assert.equal(steps[1]!.durationMs, 2500);
  assert.deepEqual(steps[2]!.files, ['/repo/calc.py']);
  assert.match(steps[3]!.output!, /return a - b/);
  assert.deepEqual(steps[13]!.commands, ['python -m pytest -q']);
  assert.equal(steps[14]!.output, '3 passed in 0.02s');
  assert.match(steps.at(-1)!.text!, /All 3 tests pass now/);
  const text = agenttap(['timeline', builtCapture(), '--session', SESSION_A]).stdout;
  assert.match(text, /tool_call +Bash .*python -m pytest -q/);
  assert.match(text, /touches: \$ python -m pytest -q/);
  assert.match(text, /answer: Fixed: add\(\) subtracted/);
  const unknown = agenttap(['timeline', builtCapture(), '--session', 'nope']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /no session "nope"/);
});

test('timeline of the real claude-trace capture follows the tool calls in order, across compaction', () => {
  const r = agenttap(['timeline', importedFixture('claude-trace--test-traffic.jsonl'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const steps = jsonLines<Step>(r.stdout);
  assert.equal(steps[0]!.kind, 'prompt');
  assert.match(steps[0]!.text!, /create a folder weather and generate a single page \.html app/);
  assert.deepEqual(
    steps.filter((s) => s.kind === 'tool_call').map((s) => s.tool),
    ['TodoWrite', 'LS', 'Bash', 'TodoWrite', 'Write', 'TodoWrite', 'TodoWrite', 'Edit', 'Edit', 'Edit', 'TodoWrite', 'Bash'],
  );
  const write = steps.find((s) => s.kind === 'tool_call' && s.tool === 'Write')!;
  assert.ok(write.files![0]!.endsWith('weather/index.html'), write.files![0]);
  assert.ok(steps.some((s) => s.kind === 'prompt' && /please delete the weather folder/.test(s.text ?? '')));
  assert.equal(steps.filter((s) => s.model === 'claude-3-5-haiku-20241022').length, 0, 'helper calls stay out of the trace');
  assert.ok(steps.filter((s) => s.kind === 'tool_result').length >= 11);
});

test('timeline of the codex sample: Responses prompts, tool calls and the first answer', () => {
  const r = agenttap(['timeline', importedFixture('agent-system-dissect--codex-sample_traffic.jsonl'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const steps = jsonLines<Step>(r.stdout);
  assert.equal(steps[0]!.kind, 'prompt');
  assert.equal(steps[0]!.text, 'Write a Python function that checks if a number is prime.');
  assert.ok(steps.some((s) => s.kind === 'answer' && /def is_prime/.test(s.text ?? '')));
  // The sample's abbreviated stream names its tools only in function_call_arguments.done; the
  // arguments say what they touch either way.
  const calls = steps.filter((s) => s.kind === 'tool_call');
  assert.equal(calls.length, 2);
  assert.deepEqual(calls[0]!.files, ['prime.py']);
  assert.deepEqual(calls[1]!.commands, ['python prime.py']);
  assert.ok(steps.some((s) => s.kind === 'prompt' && s.text === 'Run the tests to make sure they pass.'));
  assert.match(steps.find((s) => s.kind === 'model' && s.thinking)!.thinking!, /write the prime function to a file/);
});
