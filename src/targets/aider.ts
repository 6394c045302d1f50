import type { Target } from './types.js';

// aider (Python, LiteLLM + httpx) honours HTTPS_PROXY and SSL_CERT_FILE / REQUESTS_CA_BUNDLE.
export const aider: Target = {
  name: 'aider',
  title: 'aider',
  commands: ['aider'],
  firstPartyHosts: ['api.openai.com', 'api.anthropic.com', 'generativelanguage.googleapis.com', 'openrouter.ai'],
  launch: true,
  upstreams: [
    { id: 'openai', url: 'https://api.openai.com', purpose: 'OpenAI models', baseUrlEnv: { OPENAI_API_BASE: '/v1', OPENAI_BASE_URL: '/v1' } },
    { id: 'anthropic', url: 'https://api.anthropic.com', purpose: 'Anthropic models', baseUrlEnv: { ANTHROPIC_API_BASE: '', ANTHROPIC_BASE_URL: '' } },
  ],
  // aider checks PyPI for updates on start; a capture run does not need that noise.
  env: { AIDER_CHECK_UPDATE: 'false' },
  manualSteps: () => [],
};
