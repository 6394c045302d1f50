import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agenttap, jsonLines, tempDir } from '../support/analysis-cli.js';
import { builtCapture, importedFixture, SESSION_A, SESSION_B, T0 } from '../support/analysis-fixtures.js';
import { claudeCodeSession, writeCapture } from '../support/analysis-records.js';

interface Turn {
  exchangeId: string;
  timestamp: string;
  host: string;
  path: string;
  model: string | null;
  messages: number;
  user: string | null;
  status: number | null;
  usage: Record<string, number> | null;
  toolCalls?: string[];
  purpose?: string;
}
interface Conv {
  id: string;
  kind: string;
  parent?: { conversation: string; tool?: string; toolCall?: string };
  compactedFrom?: string;
  turns: Turn[];
}
interface SessionOut {
  id: string;
  client: string;
  agent: string | null;
  start: string;
  end: string;
  models: string[];
  requests: number;
  usage: Record<string, number>;
  conversations: Conv[];
}

test('Claude Code sessions by session id, sub-agent from the Task tool, helper calls apart, count_tokens not a turn', () => {
  const r = agenttap(['sessions', builtCapture(), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const sessions = jsonLines<SessionOut>(r.stdout);
  for (const s of sessions) for (const k of ['id', 'client', 'agent', 'start', 'end', 'models', 'conversations']) assert.ok(k in s, k);
  const a = sessions.find((s) => s.id === SESSION_A)!;
  const b = sessions.find((s) => s.id === SESSION_B)!;
  assert.ok(a && b, 'both Claude Code sessions are found by their session id');
  assert.equal(a.agent, 'claude-code');
  assert.equal(a.requests, 8, 'count_tokens is an exchange of the session');
  assert.deepEqual(a.models.sort(), ['claude-3-5-haiku-20241022', 'claude-sonnet-4-20250514']);
  const main = a.conversations.find((c) => c.kind === 'main')!;
  assert.deepEqual(main.turns.map((t) => t.toolCalls ?? []), [['Read'], ['Task'], ['Edit'], ['Bash'], []]);
  assert.deepEqual(main.turns.map((t) => t.messages), [1, 3, 5, 7, 9]);
  for (const t of main.turns) {
    for (const k of ['exchangeId', 'timestamp', 'host', 'path', 'model', 'messages', 'user', 'status', 'usage']) assert.ok(k in t, k);
    assert.equal(t.host, 'api.anthropic.com');
    assert.equal(t.path, '/v1/messages');
    assert.equal(t.status, 200);
  }
  assert.equal(main.turns.some((t) => t.path.includes('count_tokens')), false);
  const sub = a.conversations.find((c) => c.kind === 'subagent')!;
  assert.equal(sub.parent!.conversation, main.id);
  assert.equal(sub.parent!.tool, 'Task');
  assert.equal(sub.parent!.toolCall, 'toolu_02Task');
  assert.equal(sub.turns.length, 1);
  const utility = a.conversations.find((c) => c.kind === 'utility')!;
  assert.equal(utility.turns[0]!.model, 'claude-3-5-haiku-20241022');
  // Usage adds up over the session's turns (Anthropic: input excludes cache reads/writes).
  assert.deepEqual(a.usage, { input: 40 + 12 + 30 + 300 + 40 + 25 + 20, output: 6 + 80 + 60 + 20 + 90 + 40 + 30, cacheRead: 9000 + 9120 + 9320 + 9420, cacheWrite: 9000 + 120 + 200 + 100 + 50, reasoning: 0 });
  assert.equal(b.conversations.length, 3);
  // The OpenAI client has no ids: continuity joins its two turns, the gap splits off the last call.
  const openai = sessions.filter((s) => s.client === '10.0.0.7');
  assert.equal(openai.length, 2);
  const chat = openai[0]!.conversations.find((c) => c.turns.length === 2)!;
  assert.ok(chat, 'the two OpenAI turns form one conversation');
  // The system message is the system prompt, not a turn.
  assert.deepEqual(chat.turns.map((t) => t.messages), [1, 3]);
  assert.equal(openai[0]!.requests, 3);
  assert.equal(openai[1]!.requests, 1);
});

test('a shorter --gap splits a client into more sessions; -o writes a JSON array', () => {
  const file = builtCapture();
  const narrow = jsonLines<SessionOut>(agenttap(['sessions', file, '--gap', '0.5', '--json']).stdout).filter((s) => s.client === '10.0.0.7');
  assert.ok(narrow.length >= 3, `got ${narrow.length}`);
  const out = join(tempDir(), 'sessions.json');
  const r = agenttap(['sessions', file, '-o', out]);
  assert.equal(r.code, 0, r.stderr);
  const arr = JSON.parse(readFileSync(out, 'utf8')) as SessionOut[];
  assert.ok(Array.isArray(arr) && arr.length === 4);
  const table = agenttap(['sessions', file]).stdout;
  assert.match(table, new RegExp(SESSION_A));
  assert.match(table, /claude-code/);
  assert.equal(agenttap(['sessions', file, '--gap', 'soon']).code, 2);
});

test('the real claude-trace capture: one session, compaction recognized, sonnet turns and totals', () => {
  const r = agenttap(['sessions', importedFixture('claude-trace--test-traffic.jsonl'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const sessions = jsonLines<SessionOut>(r.stdout);
  assert.equal(sessions.length, 1);
  const s = sessions[0]!;
  assert.equal(s.requests, 64);
  assert.equal(s.agent, 'claude-code');
  assert.deepEqual(s.usage, { input: 5853, output: 8225, cacheRead: 279790, cacheWrite: 45598, reasoning: 0 });
  const main = s.conversations.find((c) => c.kind === 'main' && c.turns.length > 5)!;
  const sonnet = main.turns.filter((t) => t.model === 'claude-sonnet-4-20250514');
  assert.equal(sonnet.length, 14);
  assert.equal(main.turns.at(-1)!.purpose, 'compaction');
  assert.deepEqual(main.turns.flatMap((t) => t.toolCalls ?? []), ['TodoWrite', 'LS', 'Bash', 'TodoWrite', 'Write', 'TodoWrite', 'TodoWrite', 'Edit', 'Edit', 'Edit', 'TodoWrite']);
  const cont = s.conversations.find((c) => c.kind === 'continuation')!;
  assert.equal(cont.compactedFrom, main.id);
  assert.deepEqual(cont.turns.map((t) => t.messages), [1, 3, 5]);
  assert.deepEqual(cont.turns.flatMap((t) => t.toolCalls ?? []), ['Bash']);
  const helpers = s.conversations.filter((c) => c.kind === 'utility');
  assert.ok(helpers.length >= 3, 'title, topic and file-path helpers are grouped by their system prompt');
  assert.equal(helpers.reduce((n, c) => n + c.turns.length, 0) + main.turns.length + cont.turns.length, 64);
});

test('sessions reports bad lines with their number, says when a capture is empty', () => {
  const dir = tempDir();
  const empty = join(dir, 'empty.jsonl');
  writeFileSync(empty, '');
  const e = agenttap(['sessions', empty]);
  assert.equal(e.code, 1);
  assert.match(e.stderr, /empty\.jsonl is empty: no records/);
  const broken = join(dir, 'broken.jsonl');
  writeFileSync(broken, `${readFileSync(builtCapture(), 'utf8').split('\n').slice(0, 3).join('\n')}\n{"v":1,"id":\n`);
  const b = agenttap(['sessions', broken, '--json']);
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stderr, /broken\.jsonl:4: malformed JSON/);
  const missing = agenttap(['sessions', join(dir, 'nope.jsonl')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope\.jsonl: no such file/);
});

test('labels.session (one agenttap run) is the session, whatever the client or the gap', () => {
  const first = claudeCodeSession(T0, SESSION_A, 4242);
  const later = claudeCodeSession(T0 + 3_600_000, SESSION_B, 5151);
  for (const r of [...first, ...later]) r.labels = { session: 'run-7', target: 'claude-code' };
  const file = join(tempDir(), 'run.jsonl');
  writeCapture(file, [...first, ...later]);
  const sessions = jsonLines<SessionOut>(agenttap(['sessions', file, '--json']).stdout);
  assert.deepEqual(sessions.map((s) => [s.id, s.requests]), [['run-7', 16]]);
  assert.equal(sessions[0]!.conversations.filter((c) => c.kind === 'main').length, 2);
});
