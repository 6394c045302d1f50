// Captures the analysis tests share: the real claude-trace and codex captures imported into
// record v1, and a built capture with two Claude Code sessions and an OpenAI client.
import { join } from 'node:path';
import { agenttap, fixtures, tempDir } from './analysis-cli.js';
import { claudeCodeSession, openaiChatRecord, writeCapture } from './analysis-records.js';

export function importedFixture(name: string): string {
  const out = join(tempDir(), `${name}.jsonl`);
  const r = agenttap(['import', join(fixtures, 'agent-captures', name), '-o', out]);
  if (r.code !== 0) throw new Error(r.stderr);
  return out;
}

export const T0 = Date.UTC(2026, 10, 23, 8, 0, 0);
export const SESSION_A = '1b2c3d4e-0000-4000-8000-00000000000a';
export const SESSION_B = '1b2c3d4e-0000-4000-8000-00000000000b';

/** Two interleaved Claude Code sessions (pids 4242, 4243) and one OpenAI client with a 10-minute gap. */
export function builtCapture(): string {
  const a = claudeCodeSession(T0, SESSION_A, 4242);
  const b = claudeCodeSession(T0 + 1000, SESSION_B, 4243);
  const q1 = [{ role: 'system' as const, content: 'You are terse.' }, { role: 'user' as const, content: 'List the files' }];
  const q2 = [...q1, { role: 'assistant' as const, content: null, tool_calls: [{ id: 'call_1', type: 'function' as const, function: { name: 'shell', arguments: '{"cmd":["ls"]}' } }] }, { role: 'tool' as const, content: 'a.py\nb.py', tool_call_id: 'call_1' }];
  const openai = [
    openaiChatRecord({ t: T0 + 2000, messages: q1, toolCall: { id: 'call_1', name: 'shell', arguments: { cmd: ['ls'] } }, usage: { prompt_tokens: 50, completion_tokens: 10 } }),
    openaiChatRecord({ t: T0 + 4000, messages: q2, answer: 'a.py and b.py', usage: { prompt_tokens: 80, completion_tokens: 6, cached: 40 } }),
    openaiChatRecord({ t: T0 + 5000, messages: [{ role: 'user', content: 'hello?' }], usage: { prompt_tokens: 5, completion_tokens: 0 }, status: 429 }),
    // Ten minutes later: a new session for the same client (gap > 300 s).
    openaiChatRecord({ t: T0 + 605_000, messages: [{ role: 'user', content: 'Another task' }], answer: 'Done.', usage: { prompt_tokens: 12, completion_tokens: 2 } }),
  ];
  const all = [...a, ...b, ...openai].sort((x, y) => Date.parse(x.startedAt) - Date.parse(y.startedAt));
  const file = join(tempDir(), 'built.jsonl');
  writeCapture(file, all);
  return file;
}

export const HOSTILE = '<script>window.__xss=1;alert(1)</script><img src=x onerror="window.__xss=2">';

/** A capture whose bodies try to break out of the report. */
export function hostileCapture(): { file: string; ids: string[] } {
  const records = [
    openaiChatRecord({ t: T0, messages: [{ role: 'user', content: `please summarize ${HOSTILE} | pipes | and \`\`\` fences` }], answer: `</pre></details>${HOSTILE}`, usage: { prompt_tokens: 10, completion_tokens: 5 } }),
    openaiChatRecord({ t: T0 + 1000, messages: [{ role: 'user', content: 'second' }], toolCall: { id: 'call_"><svg onload=alert(3)>', name: 'shell"><b>x', arguments: { cmd: [HOSTILE] } }, usage: { prompt_tokens: 3, completion_tokens: 2 } }),
  ];
  const file = join(tempDir(), 'hostile.jsonl');
  writeCapture(file, records);
  return { file, ids: records.map((r) => r.id) };
}

