// How the engine reaches upstreams. The UpstreamConnector hands out pooled agents per target;
// the direct connector connects itself, a chained-proxy connector (upstream-proxy.ts) can be
// swapped in without the forwarding code knowing.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import tls from 'node:tls';
import type { RecordError } from '../capture/record.js';

export interface UpstreamTarget {
  host: string;
  port: number;
  tls: boolean;
}

export interface UpstreamConnector {
  /** A keep-alive agent for this target (shared across requests so connections are pooled). */
  agentFor(target: UpstreamTarget): http.Agent;
  /**
   * Open a raw connection (HTTP/1.1 wire forwarding, WebSocket upgrades, tunnels), resolved once
   * usable (TLS done when target.tls). `phases` learns when the TCP connection was up.
   */
  connect?(target: UpstreamTarget, alpn?: readonly string[], phases?: ConnectPhases): Promise<net.Socket>;
  destroy(): void;
}

/** When a connection's TCP leg was up (performance.now()), for connect vs TLS timing. */
export interface ConnectPhases {
  tcpAt?: number;
}

export interface DirectConnectorOptions {
  /** Skip upstream certificate verification (--insecure-upstream). */
  insecure?: boolean;
  /**
   * Extra trusted roots, added to Node's defaults. In production NODE_EXTRA_CA_CERTS does this;
   * tests use it to trust their own upstream CA in-process.
   */
  extraCa?: string[];
  maxSockets?: number;
}

export class DirectConnector implements UpstreamConnector {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly tlsOptions: tls.ConnectionOptions;

  constructor(opts: DirectConnectorOptions = {}) {
    // noDelay: SSE events are small writes; Nagle + delayed ACK would hold them up to 40 ms.
    const common = { keepAlive: true, keepAliveMsecs: 1000, noDelay: true, maxSockets: opts.maxSockets ?? 256, maxFreeSockets: 256, scheduling: 'lifo' as const };
    // One TLS context for every upstream connection. Passing `ca` instead would make the agent
    // stringify the whole root list into its pool key on every request and build a context per
    // connection (measured: most of the proxy's CPU). Node's default roots already include
    // NODE_EXTRA_CA_CERTS; `extraCa` adds test roots in-process.
    const secureContext = tls.createSecureContext(opts.extraCa?.length ? { ca: [...tls.rootCertificates, ...opts.extraCa] } : {});
    this.tlsOptions = { rejectUnauthorized: !opts.insecure, secureContext };
    this.httpAgent = new http.Agent(common);
    this.httpsAgent = new https.Agent({ ...common, ...this.tlsOptions });
  }

  agentFor(target: UpstreamTarget): http.Agent {
    return target.tls ? this.httpsAgent : this.httpAgent;
  }

  connect(target: UpstreamTarget, alpn?: readonly string[], phases?: ConnectPhases): Promise<net.Socket> {
    return connectUpstreamSocket(target, alpn, this.tlsOptions, undefined, phases);
  }

  destroy(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}

/** A raw upstream socket (TLS with SNI and ALPN when the target is TLS), resolved once usable. */
export function connectUpstreamSocket(
  target: UpstreamTarget,
  alpn: readonly string[] | undefined,
  tlsOptions: tls.ConnectionOptions,
  lookup?: net.LookupFunction,
  phases?: ConnectPhases,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s: net.Socket = target.tls
      ? tls.connect({ host: target.host, port: target.port, servername: serverName(target.host), ALPNProtocols: alpn as string[] | undefined, ...(lookup ? { lookup } : {}), ...tlsOptions })
      : net.connect({ host: target.host, port: target.port, ...(lookup ? { lookup } : {}) });
    // Every upstream write is a token or an event on its way to the agent: no Nagle delay.
    s.setNoDelay(true);
    if (phases) s.once('connect', () => (phases.tcpAt = performance.now()));
    s.once(target.tls ? 'secureConnect' : 'connect', () => {
      s.off('error', reject);
      resolve(s);
    });
    s.once('error', reject);
  });
}

/** SNI for a host: none for IP literals (RFC 6066 forbids them). */
export function serverName(host: string): string {
  return net.isIP(host) ? '' : host;
}

const TLS_CODES = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|HOSTNAME_MISMATCH|ERR_OSSL_)/;

/** Which phase an upstream error before the response head belongs to. */
export function upstreamFailure(err: NodeJS.ErrnoException, connected: boolean): RecordError {
  const code = err.code ?? 'UPSTREAM_ERROR';
  if (TLS_CODES.test(code) || /certificate|ssl|tls/i.test(err.message)) return { phase: 'tls', code, message: err.message };
  if (!connected) return { phase: 'upstream-connect', code, message: err.message };
  if (code === 'ETIMEDOUT') return { phase: 'timeout', code, message: err.message };
  return { phase: 'upstream-reset', code, message: err.message };
}

/** The short plain-text reason a client gets in our 502. */
export function badGatewayText(error: RecordError, target: UpstreamTarget): string {
  const where = `${target.tls ? 'https' : 'http'}://${net.isIPv6(target.host) ? `[${target.host}]` : target.host}:${target.port}`;
  switch (error.phase) {
    case 'tls':
      return `agenttap: upstream ${where} failed TLS verification: ${error.message}\n`;
    case 'upstream-connect':
      return `agenttap: cannot connect to upstream ${where}: ${error.message}\n`;
    default:
      return `agenttap: upstream ${where} failed: ${error.message}\n`;
  }
}
