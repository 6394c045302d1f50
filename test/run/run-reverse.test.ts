import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readAllRecords } from '../../src/capture/reader.js';
import { startFakeLlm as startFakeUpstream } from '../../src/fake-llm/server.js';
import { repoRoot, runCli } from '../support/cli-process.js';

const sdk = (rel: string): string => pathToFileURL(join(repoRoot, 'node_modules', rel)).href;

function env(home: string): NodeJS.ProcessEnv {
  return { PATH: process.env['PATH'], HOME: home, AGENTTAP_HOME: join(home, '.agenttap') };
}

test('reverse mode: the official OpenAI and Google GenAI SDKs reach their upstream through per-upstream listeners set by base-URL variables', async () => {
  const fake = await startFakeUpstream();
  const home = mkdtempSync(join(tmpdir(), 'agenttap-rev-'));
  const out = join(home, 'cap.jsonl');
  const oai = join(home, 'oai.mjs');
  writeFileSync(
    oai,
    [
      `import OpenAI from ${JSON.stringify(sdk('openai/index.mjs'))};`,
      "const client = new OpenAI({ apiKey: 'sk-test-rev' });",
      "const stream = client.responses.stream({ model: 'gpt-4.1-mini', input: 'say hi' });",
      'const final = await stream.finalResponse();',
      "console.log('base', process.env.OPENAI_BASE_URL);",
      "console.log('text', final.output_text);",
    ].join('\n'),
  );
  const gem = join(home, 'gem.mjs');
  writeFileSync(
    gem,
    [
      `import { GoogleGenAI } from ${JSON.stringify(sdk('@google/genai/dist/node/index.mjs'))};`,
      "const ai = new GoogleGenAI({ apiKey: 'AIza-test-rev' });",
      "const r = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'say hi' });",
      "console.log('text', r.text);",
    ].join('\n'),
  );
  try {
    const a = await runCli(['run', '--mode', 'reverse', '--target', 'openai-sdk', '--out', out, '--map-remote', `api.openai.com=${fake.url}`, '--', process.execPath, oai], { env: env(home) });
    assert.equal(a.code, 0, a.stderr);
    assert.match(a.stdout, /^base http:\/\/127\.0\.0\.1:\d+\/v1$/m);
    assert.match(a.stdout, /text Hello from the agenttap fake upstream/);
    const g = await runCli(['run', '--mode', 'reverse', '--target', 'gemini-sdk', '--out', out, '--map-remote', `generativelanguage.googleapis.com=${fake.url}`, '--', process.execPath, gem], { env: env(home) });
    assert.equal(g.code, 0, g.stderr);
    assert.match(g.stdout, /text Hello from the agenttap fake upstream/);
    const recs = await readAllRecords(out);
    const r1 = recs.find((r) => r.request?.url === 'https://api.openai.com/v1/responses');
    assert.equal(r1?.mode, 'reverse');
    assert.match(r1?.server.listener ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(r1?.labels?.['target'], 'openai-sdk');
    assert.equal(r1?.client?.process, 'node');
    const r2 = recs.find((r) => r.request?.url === 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent');
    assert.equal(r2?.mode, 'reverse');
    assert.equal(r2?.labels?.['target'], 'gemini-sdk');
    assert.match(g.stderr, /1 LLM call/);
  } finally {
    await fake.close();
  }
});
