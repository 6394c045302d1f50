import type { Target } from './types.js';

// Codex (Rust) honours HTTPS_PROXY and CODEX_CA_CERTIFICATE / SSL_CERT_FILE. It talks to the Responses
// API over HTTP (SSE) or over a WebSocket (wss://…/v1/responses). Since 0.169 it ignores
// OPENAI_BASE_URL: the base URL is a config key, passed with `-c`.
export const codex: Target = {
  name: 'codex',
  title: 'Codex CLI (OpenAI)',
  commands: ['codex'],
  firstPartyHosts: ['api.openai.com', 'chatgpt.com', 'auth.openai.com', 'ab.chatgpt.com'],
  launch: true,
  upstreams: [
    { id: 'openai', url: 'https://api.openai.com', purpose: 'Responses API (API key mode)', baseUrlEnv: { OPENAI_BASE_URL: '/v1' } },
    { id: 'chatgpt', url: 'https://chatgpt.com', purpose: 'ChatGPT backend (ChatGPT login mode)', baseUrlEnv: {} },
  ],
  reverseArgs: ['-c', 'openai_base_url="{openai}/v1"', '-c', 'chatgpt_base_url="{chatgpt}/backend-api/"'],
  manualSteps: (ctx) =>
    ctx.mode === 'reverse'
      ? ['agenttap passes -c openai_base_url=… and -c chatgpt_base_url=… to codex; a profile in ~/.codex/config.toml that sets its own base URL wins over them.']
      : [],
};
