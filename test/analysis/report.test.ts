import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agenttap, assertHas, assertHasNot, tempDir } from '../support/analysis-cli.js';
import { builtCapture, hostileCapture, HOSTILE, importedFixture, SESSION_A } from '../support/analysis-fixtures.js';

test('Markdown report of the real claude-trace capture: totals, endpoints, payload keys, usage, the conversation log', () => {
  const file = importedFixture('claude-trace--test-traffic.jsonl');
  const r = agenttap(['report', file, '--format', 'md']);
  assert.equal(r.code, 0, r.stderr);
  const md = r.stdout;
  assertHas(md, /^# agenttap report/);
  assertHas(md, /- Total requests: 64 \(64 LLM turns, 0 errors\)/);
  assertHas(md, /- Tokens: 5853 input, 8225 output, 279790 cache read, 45598 cache write/);
  assertHas(md, /- Capture duration: 3m20s/);
  assertHas(md, /\| api\.anthropic\.com \| \/v1\/messages \| POST \| 64 \| 0 \|/);
  assertHas(md, /## Status codes\n\n\| status \| count \|\n\|---\|---\|\n\| 200 \| 64 \|/);
  assertHas(md, /\| `messages` \| 64 \| array \|/);
  assertHas(md, /\| `tools` \| 17 \| array \|/);
  assertHas(md, /\| `event: message_start` \| 46 \| sse \|/);
  assertHas(md, /\| claude-sonnet-4-20250514 \| 17 \| 0 \| 60 \| 7920 \| 279790 \| 45598 \|/);
  // The log: system prompt once, then referenced; tool calls with their JSON input; usage lines.
  // (the capture has two variants of the Claude Code system prompt: before and after compaction)
  assert.equal((md.match(/System prompt:\n\n```+\nYou are Claude Code, Anthropic's official CLI for Claude\./g) ?? []).length, 2);
  assert.ok((md.match(/System prompt: same as #\d+/g) ?? []).length >= 14);
  assertHas(md, /Tool call `TodoWrite` \(toolu\\_/);
  assertHas(md, /Tool call `Write` .*\n\n```+json\n\{\n  "file_path": "\/Users\/badlogic\/workspaces\/lemmy\/apps\/claude-tools\/weather\/index\.html"/);
  assertHas(md, /Stream events: message\\_start ×1, content\\_block\\_start ×\d+/);
  assertHas(md, /Usage: \d+ input \| \d+ cache read \| \d+ cache write \| \d+ output \| \d+ total/);
  assertHas(md, /#### Conversation .* \(continuation, 3 turns\) · continues /);
  assertHas(md, /\nauthorization: \[REDACTED …CTED\]\n/);
  assertHasNot(md, /sk-ant-/);
  // Each exchange appears once.
  assert.equal((md.match(/^##### #\d+ POST /gm) ?? []).length, 64);
});

test('Markdown report of the codex sample renders Responses streams: assembled text, reasoning, tool calls, usage', () => {
  const r = agenttap(['report', importedFixture('agent-system-dissect--codex-sample_traffic.jsonl')]);
  assert.equal(r.code, 0, r.stderr);
  assertHas(r.stdout, /- Total requests: 3/);
  assertHas(r.stdout, /Text:\n\n```+\nHere's a Python function that checks if a number is prime:/);
  assertHas(r.stdout, /Thinking:\n\n```+\nI'll write the prime function to a file and add some tests for it\./);
  assertHas(r.stdout, /"command": "python prime\.py"/);
  assertHas(r.stdout, /Usage: 245 input \| 89 output \| 334 total/);
  assertHas(r.stdout, /Stream events: response\.created ×1, response\.output\\_text\.delta ×3/);
  assertHas(r.stdout, /\nopenai-organization: \[REDACTED/);
});

test('HTML report: self-contained, no external URLs, every captured string escaped, notes shown', () => {
  const { file, ids } = hostileCapture();
  writeFileSync(`${file}.annotations.json`, JSON.stringify({ [ids[0]!]: { note: `check this <b>${HOSTILE}</b>`, at: '2026-11-23T09:00:00.000Z' } }));
  const out = join(tempDir(), 'r.html');
  const r = agenttap(['report', file, '--format', 'html', '-o', out]);
  assert.equal(r.code, 0, r.stderr);
  const html = readFileSync(out, 'utf8');
  assertHas(html, /^<!doctype html>/);
  assertHas(html, /Content-Security-Policy" content="default-src 'none'/);
  // Attributes of real tags only: captured text like "src=x" is escaped text, not a tag.
  const links = [...html.matchAll(/<[a-z][^>]*?\s(?:src|href|action|srcset|poster|data)\s*=\s*["']?([^"'\s>]*)/gi)];
  assert.ok(links.length > 0);
  for (const m of links) assert.match(m[1]!, /^#/, `only in-page links: ${m[0]}`);
  assertHasNot(html, /<link\b|@import|url\(/i);
  // One script block (ours) and no captured markup.
  assert.equal((html.match(/<script>/g) ?? []).length, 1);
  assertHasNot(html, /<img|<svg[^>]*onload|onerror=["']|<b>x/);
  assertHas(html, /&lt;script&gt;window\.__xss=1;alert\(1\)&lt;\/script&gt;/);
  assertHas(html, /&lt;\/pre&gt;&lt;\/details&gt;/);
  assertHas(html, /check this &lt;b&gt;/);
  assertHas(html, /<svg viewBox="0 0 860 180"/);
  const md = agenttap(['report', file]).stdout;
  assertHas(md, /> \*\*note\*\* \(2026-11-23T09:00:00\.000Z\): check this &lt;b&gt;&lt;script&gt;/);
  assertHas(md, /please summarize &lt;script&gt;.* \\\| pipes \\\|/);
  assertHas(md, /```+\n<\/pre><\/details><script>/, 'untrusted answer text sits inside a fence');
});

test('HTML report of a built capture: sessions, collapsible conversations, tool calls linked to results', () => {
  const out = join(tempDir(), 'b.html');
  assert.equal(agenttap(['report', builtCapture(), '--format', 'html', '-o', out]).code, 0);
  const html = readFileSync(out, 'utf8');
  assertHas(html, new RegExp(`Session 1: ${SESSION_A}`));
  assertHas(html, /<details class="conv" open><summary>Conversation [^<]+ <span class="tag">subagent<\/span>/);
  assertHas(html, /<div class="call" id="call-toolu_04Bash"><b>tool call<\/b> <code>Bash<\/code>.*<a class="pair" href="#result-toolu_04Bash">result ↓<\/a>/);
  assertHas(html, /<tr id="result-toolu_04Bash" class="msg user"><td>\d+<\/td><td>user<\/td><td>tool_result Bash<\/td><td><div class="cell"><a class="pair" href="#call-toolu_04Bash">call ↑<\/a> 3 passed in 0\.02s/);
  assertHas(html, /<figcaption>tokens per turn/);
  assertHas(html, /<figcaption>latency per turn/);
  assertHas(html, /Other exchanges \(2\)/, 'the two count_tokens calls are listed apart');
});
