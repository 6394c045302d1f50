// An upstream connector that resolves names with a given `lookup`: --hosts-redirect points the
// hosts file at us, so the proxy must find the real upstream through DNS instead of getaddrinfo.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { ConnectPhases, UpstreamConnector, UpstreamTarget } from '../engine/upstream.js';
import { connectUpstreamSocket } from '../engine/upstream.js';

export type LookupFn = NonNullable<net.TcpNetConnectOpts['lookup']>;

export class LookupConnector implements UpstreamConnector {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;

  constructor(
    private readonly lookup: LookupFn,
    private readonly opts: { insecure?: boolean } = {},
  ) {
    const common = { keepAlive: true, maxSockets: 256, scheduling: 'lifo' as const, lookup };
    this.httpAgent = new http.Agent(common);
    this.httpsAgent = new https.Agent({ ...common, rejectUnauthorized: !opts.insecure });
  }

  agentFor(target: UpstreamTarget): http.Agent {
    return target.tls ? this.httpsAgent : this.httpAgent;
  }

  connect(target: UpstreamTarget, alpn?: readonly string[], phases?: ConnectPhases): Promise<net.Socket> {
    return connectUpstreamSocket(target, alpn, { rejectUnauthorized: !this.opts.insecure }, this.lookup, phases);
  }

  destroy(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
