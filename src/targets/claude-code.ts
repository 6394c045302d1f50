import type { Target } from './types.js';

// Claude Code ships as a native (Bun) binary: it honours HTTPS_PROXY and NODE_EXTRA_CA_CERTS,
// and ANTHROPIC_BASE_URL for a custom endpoint.
export const claudeCode: Target = {
  name: 'claude-code',
  title: 'Claude Code (Anthropic)',
  commands: ['claude', 'claude-code'],
  firstPartyHosts: ['api.anthropic.com', 'statsig.anthropic.com', 'claude.ai', 'console.anthropic.com', 'platform.claude.com', 'mcp-proxy.anthropic.com'],
  launch: true,
  upstreams: [
    { id: 'anthropic', url: 'https://api.anthropic.com', purpose: 'Messages API', baseUrlEnv: { ANTHROPIC_BASE_URL: '' } },
  ],
  manualSteps: (ctx) =>
    ctx.mode === 'reverse'
      ? ['Reverse mode sees only the model API; OAuth (claude.ai login) and telemetry go direct. Use forward mode to see them.']
      : [],
};
