import type { Target } from './types.js';

// opencode (Bun) honours HTTPS_PROXY and NODE_EXTRA_CA_CERTS; its AI SDK providers read the
// providers' usual base-URL variables.
export const opencode: Target = {
  name: 'opencode',
  title: 'opencode',
  commands: ['opencode'],
  firstPartyHosts: ['opencode.ai', 'models.dev', 'api.anthropic.com', 'api.openai.com', 'openrouter.ai'],
  launch: true,
  upstreams: [
    { id: 'anthropic', url: 'https://api.anthropic.com', purpose: 'Anthropic provider', baseUrlEnv: { ANTHROPIC_BASE_URL: '/v1' } },
    { id: 'openai', url: 'https://api.openai.com', purpose: 'OpenAI provider', baseUrlEnv: { OPENAI_BASE_URL: '/v1' } },
  ],
  manualSteps: (ctx) =>
    ctx.mode === 'reverse'
      ? [
          `If a provider ignores the variables, set its base URL in opencode.json: "provider": {"anthropic": {"options": {"baseURL": "${ctx.listeners?.['anthropic'] ?? 'http://127.0.0.1:PORT'}/v1"}}}.`,
        ]
      : [],
};
