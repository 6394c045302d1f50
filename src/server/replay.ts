// Replay: resend a recorded request through the live proxy, so the new exchange is recorded
// like any other. It carries `x-agenttap-replay-of: <id>` so the store links it to the original
// (record.replayOf). Redacted secrets are left out, so the upstream may refuse the replay;
// the new exchange then shows that answer.
import { ProxyAgent, request } from 'undici';
import { bodyBytes, type CaptureRecord } from '../capture/record.js';

const DROP = new Set([
  'host',
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
  'content-length',
  'content-encoding',
  'x-agenttap-replay-of',
]);

export interface ReplayTarget {
  /** The live proxy, e.g. http://127.0.0.1:8080 */
  proxyUrl: string;
  /** The agenttap CA (PEM), so the proxy's minted certificates are trusted. */
  caPem?: string;
}

export class ReplayError extends Error {
  constructor(
    readonly code: 'not-replayable' | 'failed',
    message: string,
  ) {
    super(message);
    this.name = 'ReplayError';
  }
}

export async function replayThroughProxy(record: CaptureRecord, target: ReplayTarget): Promise<{ status: number }> {
  const req = record.request;
  if (record.kind !== 'http' || !req) throw new ReplayError('not-replayable', 'only HTTP exchanges can be replayed');
  if (req.body?.truncated) throw new ReplayError('not-replayable', 'the request body was truncated when recorded; it cannot be resent');
  const headers: [string, string][] = [];
  // A redacted secret cannot be resent (and "…" is not a legal header byte): it is left out.
  for (const [k, v] of req.headers) if (!DROP.has(k.toLowerCase()) && !k.startsWith(':') && !v.startsWith('[REDACTED')) headers.push([k, v]);
  headers.push(['x-agenttap-replay-of', record.id]);
  const agent = new ProxyAgent({ uri: target.proxyUrl, ...(target.caPem ? { requestTls: { ca: target.caPem } } : {}) });
  try {
    const body = bodyBytes(req.body);
    const res = await request(req.url, {
      method: req.method as 'POST',
      headers: headers.flat(),
      ...(body.length > 0 || !['GET', 'HEAD'].includes(req.method) ? { body } : {}),
      dispatcher: agent,
    });
    await res.body.arrayBuffer();
    return { status: res.statusCode };
  } catch (e) {
    throw new ReplayError('failed', `replay failed: ${(e as Error).message}`);
  } finally {
    await agent.close().catch(() => {});
  }
}
