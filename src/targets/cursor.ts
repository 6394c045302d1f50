import type { Target } from './types.js';

// Cursor is a desktop app agenttap does not start. Its chat runs over HTTP/2 Connect streams to
// *.cursor.sh, which only a forward proxy with TLS interception sees.
export const cursor: Target = {
  name: 'cursor',
  title: 'Cursor (desktop app, manual setup)',
  commands: ['cursor'],
  firstPartyHosts: ['api2.cursor.sh', 'api3.cursor.sh', 'api4.cursor.sh', 'repo42.cursor.sh', 'marketplace.cursorapi.com'],
  launch: false,
  upstreams: [],
  manualSteps: (ctx) => {
    const proxy = ctx.proxyUrl ?? 'http://127.0.0.1:8080';
    const ca = ctx.caFile ?? '~/.agenttap/ca.pem';
    return [
      'Keep this proxy running: agenttap proxy (or agenttap proxy --system to set the OS proxy).',
      `Trust the CA: agenttap ca --trust-instructions (the certificate is ${ca}).`,
      `In Cursor: Settings → search "proxy" → set "http.proxy": "${proxy}" and "http.proxySupport": "override" (settings.json), or start it from a shell with HTTPS_PROXY=${proxy} NODE_EXTRA_CA_CERTS=${ca} cursor .`,
      'HTTP/2: Cursor streams chat over HTTP/2 (Connect). agenttap speaks HTTP/2 on both legs; if Cursor still fails, set "cursor.general.disableHttp2": true to fall back to HTTP/1.1.',
      'Restart Cursor completely (all windows) after changing these settings.',
    ];
  },
};
