import type { Target } from './types.js';

// Programs built on one official SDK (Python or TypeScript): the SDK reads its base-URL variable.

export const openaiSdk: Target = {
  name: 'openai-sdk',
  title: 'A program using the OpenAI SDK (Python or Node)',
  commands: [],
  firstPartyHosts: ['api.openai.com'],
  launch: true,
  upstreams: [{ id: 'openai', url: 'https://api.openai.com', purpose: 'OpenAI API', baseUrlEnv: { OPENAI_BASE_URL: '/v1' } }],
  manualSteps: () => [],
};

export const anthropicSdk: Target = {
  name: 'anthropic-sdk',
  title: 'A program using the Anthropic SDK (Python or Node)',
  commands: [],
  firstPartyHosts: ['api.anthropic.com'],
  launch: true,
  upstreams: [{ id: 'anthropic', url: 'https://api.anthropic.com', purpose: 'Anthropic API', baseUrlEnv: { ANTHROPIC_BASE_URL: '' } }],
  manualSteps: () => [],
};

export const geminiSdk: Target = {
  name: 'gemini-sdk',
  title: 'A program using the Google GenAI SDK (Python or Node)',
  commands: [],
  firstPartyHosts: ['generativelanguage.googleapis.com'],
  launch: true,
  upstreams: [
    { id: 'gemini', url: 'https://generativelanguage.googleapis.com', purpose: 'Gemini API', baseUrlEnv: { GOOGLE_GEMINI_BASE_URL: '' } },
  ],
  manualSteps: () => [],
};
