import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { extractReadableText, printableRuns } from '../../src/protocols/readable-text.js';
import { payloadDir } from '../support/cursor-protos.js';

function sample(part: string): Buffer {
  const name = readdirSync(payloadDir).find((f) => f.includes(part) && f.endsWith('.bin'))!;
  return readFileSync(path.join(payloadDir, name));
}

test('prompts and strings from a real Cursor NameTab body', () => {
  const t = extractReadableText(sample('AiService_NameTab'));
  assert.equal(t.source, 'protobuf');
  assert.deepEqual(t.prompts, ['Write a Python function that calculates the fibonacci sequence.']);
  assert.ok(t.strings.some((s) => s.text === 'gemini-3-pro'));
});

test('tool names from a real SubmitToolCallEvents body', () => {
  const t = extractReadableText(sample('SubmitToolCallEvents_1d09'));
  assert.ok(t.toolNames.includes('run_terminal_cmd'), t.toolNames.join(','));
  assert.ok(!t.toolNames.some((n) => n.startsWith('tool_call_session')), 'ids with long digit runs are not tools');
});

test('binary that is not protobuf: printable runs, known tool names, URLs', () => {
  const body = Buffer.concat([
    Buffer.from([0xff, 0x00, 0x13]),
    Buffer.from('You are a coding agent. Please use codebase_search before you edit files.'),
    Buffer.from([0x00, 0x9f, 0xc3]),
    Buffer.from('glob_file_search'),
    Buffer.from([0x01]),
    Buffer.from('see https://docs.cursor.com/agent/tools, then read_file'),
    Buffer.from([0xf0, 0x9f]),
    Buffer.from('ok'),
    Buffer.from('héllo wörld ünïcode text ✓'),
  ]);
  const t = extractReadableText(body);
  assert.equal(t.source, 'runs');
  assert.deepEqual(t.toolNames.sort(), ['codebase_search', 'glob_file_search', 'read_file']);
  assert.deepEqual(t.urls, ['https://docs.cursor.com/agent/tools']);
  assert.ok(t.prompts.includes('You are a coding agent. Please use codebase_search before you edit files.'));
  assert.ok(!t.strings.some((s) => s.text === 'ok'), 'runs shorter than 4 characters are dropped');
  const runs = printableRuns(body);
  assert.equal(runs[0]!.offset, 3);
  assert.ok(runs.some((r) => r.text.includes('héllo wörld ünïcode text ✓')));
});
