// The real agents, installed from npm into a cache (test/support/real-agents.ts), each run
// non-interactively through `agenttap run` in forward and reverse mode against the fake upstream,
// completing a tool-call round trip. Run with `npm run test:agents` (slow: real agent start-up).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readAllRecords } from '../../../src/capture/reader.js';
import type { CaptureRecord } from '../../../src/capture/record.js';
import { startFakeLlm, type FakeLlm } from '../../../src/fake-llm/server.js';
import { runCli } from '../../support/cli-process.js';
import { AGENTS, ensureAgent, type AgentPackage } from '../../support/real-agents.js';

const TLS_TROUBLE = /certificate|SSL routines|self[- ]signed|UNABLE_TO_VERIFY|unknown ca|TLS handshake/i;

interface AgentCase {
  agent: AgentPackage;
  target: string;
  /** Real host whose API the fake stands in for. */
  host: string;
  args: (prompt: string) => string[];
  env: (home: string, fakeUrl: string) => Record<string, string>;
  /** URL path of the model calls in the capture. */
  llmPath: RegExp;
  setup?: (home: string) => void;
  /** Codex 0.169 talks to the Responses API over a WebSocket; the capture must hold it as one. */
  websocket?: boolean;
}

const CASES: AgentCase[] = [
  {
    agent: AGENTS['claude-code'],
    target: 'claude-code',
    host: 'api.anthropic.com',
    // As root, --dangerously-skip-permissions needs IS_SANDBOX=1.
    args: (p) => ['-p', p, '--dangerously-skip-permissions'],
    env: () => ({ ANTHROPIC_API_KEY: 'sk-ant-test-agenttap-claude', IS_SANDBOX: '1', CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1' }),
    llmPath: /^https:\/\/api\.anthropic\.com\/v1\/messages(\?beta=true)?$/,
  },
  {
    agent: AGENTS.codex,
    target: 'codex',
    host: 'api.openai.com',
    args: (p) => ['exec', '--skip-git-repo-check', p],
    env: () => ({ OPENAI_API_KEY: 'sk-test-agenttap-codex' }),
    llmPath: /^(https|wss?|http):\/\/api\.openai\.com\/v1\/responses$/,
    websocket: true,
  },
  {
    agent: AGENTS['gemini-cli'],
    target: 'gemini-cli',
    host: 'generativelanguage.googleapis.com',
    args: (p) => ['-p', p, '--yolo'],
    env: () => ({ GEMINI_API_KEY: 'AIza-test-agenttap-gemini', GEMINI_CLI_TRUST_WORKSPACE: 'true' }),
    llmPath: /^https:\/\/generativelanguage\.googleapis\.com\/v1beta\/models\/[^/]+:(streamGenerateContent|generateContent)/,
    // API-key auth must be selected for GOOGLE_GEMINI_BASE_URL (reverse mode) to be used.
    setup: (home) => {
      mkdirSync(join(home, '.gemini'), { recursive: true });
      writeFileSync(join(home, '.gemini', 'settings.json'), JSON.stringify({ security: { auth: { selectedType: 'gemini-api-key' } }, privacy: { usageStatisticsEnabled: false } }));
    },
  },
  {
    agent: AGENTS.opencode,
    target: 'opencode',
    host: 'api.anthropic.com',
    args: (p) => ['run', '--model', 'anthropic/claude-sonnet-4-5', p],
    // Loopback only: no models.dev fetch, no self-update, and its plugin installs ask the fake
    // upstream (404) instead of the npm registry.
    env: (_home, fakeUrl) => ({
      ANTHROPIC_API_KEY: 'sk-ant-test-agenttap-opencode',
      NPM_CONFIG_REGISTRY: `${fakeUrl}/npm/`,
      OPENCODE_DISABLE_AUTOUPDATE: '1',
      OPENCODE_DISABLE_MODELS_FETCH: '1',
      OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
      OPENCODE_DISABLE_SHARE: '1',
    }),
    llmPath: /^https:\/\/api\.anthropic\.com\/v1\/messages$/,
  },
];

/** What the client sent: the request body, or a WebSocket's client messages (Codex's transport). */
function clientTexts(r: CaptureRecord): string[] {
  if (r.kind === 'websocket') return (r.ws ?? []).filter((m) => m.from === 'client' && m.text).map((m) => m.text!);
  return r.request?.body?.text ? [r.request.body.text] : [];
}

/** Model calls in a record: one per HTTP exchange, one per generating `response.create` on a WebSocket. */
function modelCalls(r: CaptureRecord): number {
  if (r.kind !== 'websocket') return 1;
  return clientTexts(r).filter((t) => t.includes('"response.create"') && !t.includes('"generate":false')).length;
}

async function runAgent(c: AgentCase, mode: 'forward' | 'reverse', fake: FakeLlm): Promise<{ recs: CaptureRecord[]; stdout: string; stderr: string }> {
  const bin = await ensureAgent(c.agent);
  const home = mkdtempSync(join(tmpdir(), `agenttap-agent-${c.target}-`));
  const work = join(home, 'work');
  mkdirSync(work);
  c.setup?.(home);
  const out = join(home, 'capture.jsonl');
  // Loopback only: in forward mode every other host the agent calls (telemetry, plugin lists)
  // is answered by the fake too (a 404), after the model API rule.
  const r = await runCli(['run', '--mode', mode, '--target', c.target, '--out', out, '--map-remote', `${c.host}=${fake.url}`, ...(mode === 'forward' ? ['--map-remote', `*=${fake.url}`] : []), '--', bin, ...c.args('Run `echo agenttap-tool-ok` and tell me what it printed.')], {
    cwd: work,
    env: { PATH: process.env['PATH'] ?? '', HOME: home, AGENTTAP_HOME: join(home, '.agenttap'), TERM: 'dumb', ...c.env(home, fake.url) },
    timeoutMs: 240_000,
  });
  assert.equal(r.code, 0, `${c.target} ${mode} exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return { recs: await readAllRecords(out), stdout: r.stdout, stderr: r.stderr };
}

for (const c of CASES) {
  for (const mode of ['forward', 'reverse'] as const) {
    test(`${c.target} (${c.agent.pkg}@${c.agent.version}) through agenttap run --mode ${mode}: tool round trip captured, no TLS errors`, async () => {
      const fake = await startFakeLlm();
      try {
        const { recs, stdout, stderr } = await runAgent(c, mode, fake);
        // The final answer quotes the tool's output: the agent ran the tool the fake asked for.
        assert.match(stdout, /agenttap-tool-ok/);
        assert.doesNotMatch(stderr, TLS_TROUBLE);
        const llm = recs.filter((r) => c.llmPath.test(r.request?.url ?? ''));
        const calls = llm.reduce((n, r) => n + modelCalls(r), 0);
        assert.ok(calls >= 2, `expected the tool call and the final answer as model calls, got ${calls}: ${recs.map((r) => r.request?.url).join(', ')}`);
        for (const r of llm) {
          assert.equal(r.mode, mode);
          assert.equal(r.labels?.['target'], c.target);
          assert.equal(r.error?.phase === 'tls', false);
        }
        assert.ok(llm.some((r) => clientTexts(r).some((t) => t.includes('agenttap-tool-ok'))), 'a request carries the tool result back to the model');
        assert.equal(recs.filter((r) => r.error?.phase === 'tls').length, 0);
        if (c.websocket) assert.ok(llm.some((r) => r.kind === 'websocket' && r.request?.url === 'wss://api.openai.com/v1/responses' && (r.ws ?? []).length > 2), 'the WebSocket transport is captured with its messages');
        assert.match(stderr, /agenttap: \d+ exchanges?.*\d+ LLM calls?/);
      } finally {
        await fake.close();
      }
    });
  }
}
