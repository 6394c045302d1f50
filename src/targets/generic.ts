import type { Target } from './types.js';

// Any program: forward mode through HTTPS_PROXY + CA variables; reverse mode sets the base-URL
// variables of the three big SDKs.
export const generic: Target = {
  name: 'generic',
  title: 'Any program (forward proxy + CA variables)',
  commands: [],
  firstPartyHosts: [],
  launch: true,
  upstreams: [
    { id: 'openai', url: 'https://api.openai.com', purpose: 'OpenAI SDKs', baseUrlEnv: { OPENAI_BASE_URL: '/v1' } },
    { id: 'anthropic', url: 'https://api.anthropic.com', purpose: 'Anthropic SDKs', baseUrlEnv: { ANTHROPIC_BASE_URL: '' } },
    { id: 'gemini', url: 'https://generativelanguage.googleapis.com', purpose: 'Google GenAI SDKs', baseUrlEnv: { GOOGLE_GEMINI_BASE_URL: '' } },
  ],
  manualSteps: () => [],
};
