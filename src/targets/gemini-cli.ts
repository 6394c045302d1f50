import type { Target } from './types.js';

// Gemini CLI (Node) honours HTTPS_PROXY and NODE_EXTRA_CA_CERTS. GOOGLE_GEMINI_BASE_URL is used only
// with API-key auth; Google login goes to cloudcode-pa.googleapis.com (Code Assist) instead.
export const geminiCli: Target = {
  name: 'gemini-cli',
  title: 'Gemini CLI (Google)',
  commands: ['gemini', 'gemini-cli'],
  firstPartyHosts: ['generativelanguage.googleapis.com', 'cloudcode-pa.googleapis.com', 'oauth2.googleapis.com', 'play.googleapis.com'],
  launch: true,
  upstreams: [
    { id: 'gemini', url: 'https://generativelanguage.googleapis.com', purpose: 'Gemini API (API key auth)', baseUrlEnv: { GOOGLE_GEMINI_BASE_URL: '' } },
  ],
  manualSteps: (ctx) =>
    ctx.mode === 'reverse'
      ? [
          'Select API-key auth: ~/.gemini/settings.json → {"security":{"auth":{"selectedType":"gemini-api-key"}}} and set GEMINI_API_KEY; with Google login the CLI talks to cloudcode-pa.googleapis.com and ignores GOOGLE_GEMINI_BASE_URL (use forward mode for that).',
        ]
      : [],
};
