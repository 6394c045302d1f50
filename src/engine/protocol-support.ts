// Plugs the protocol modules into the engine's seams (ProxyExtensions): HTTP/2 by ALPN and h2c
// prior knowledge, WebSocket upgrades, passthrough tunnels (configured and learned), and the
// chaining connector for --upstream-proxy / HTTPS_PROXY.
import { uuidv7 } from '../capture/ids.js';
import { H2Front, H2UpstreamPool, startsWithH2Preface } from './h2.js';
import { H1ToH2Bridge } from './h1-to-h2.js';
import { H2WireFront, H2WirePool } from './h2-wire.js';
import { isCertificateRejection, PassthroughPolicy } from './passthrough.js';
import type { ProxyExtensions, ProxyServer } from './proxy.js';
import { runTunnel } from './tunnel.js';
import { ChainingConnector, resolveUpstreamProxy, withoutSelf, type UpstreamProxySettings } from './upstream-proxy.js';
import type { UpstreamConnector } from './upstream.js';
import { handleWebSocketUpgrade } from './websocket.js';

export interface ProtocolSupportOptions {
  /** $AGENTTAP_HOME, where passthrough.json lives. */
  home?: string;
  /** --passthrough globs. */
  passthrough?: string[];
  /** Learn hosts whose clients reject our certificate (default true; --no-learn). */
  learn?: boolean;
  /** --upstream-proxy URL; without it HTTPS_PROXY / HTTP_PROXY from `env`. */
  upstreamProxy?: string;
  /** --no-proxy list (NO_PROXY from `env` is added). */
  noProxy?: string;
  env?: NodeJS.ProcessEnv;
  /** Offer h2 to intercepted clients (default true). */
  http2?: boolean;
  insecureUpstream?: boolean;
  upstreamCa?: string[];
  /** How upstreams are reached when not chained (e.g. a capture mode's connector). */
  base?: UpstreamConnector;
  /** WebSocket bytes kept per message in the record. */
  maxMessage?: number;
  /** Lines for the user (learned hosts, protocol violations, failed tunnels). */
  log?(line: string): void;
}

export interface ProtocolSupport {
  extensions: ProxyExtensions;
  connector: ChainingConnector;
  policy: PassthroughPolicy;
  /** Chaining settings in effect (after dropping a proxy that is this proxy itself). */
  readonly upstreamProxy: UpstreamProxySettings;
  /** Call once the proxy listens: enables learning rows and the self-loop guard. */
  bind(proxy: ProxyServer): void;
}

/** Throws UpstreamProxyError (code BAD_UPSTREAM_PROXY) for a bad --upstream-proxy / env URL. */
export function createProtocolSupport(opts: ProtocolSupportOptions = {}): ProtocolSupport {
  const env = opts.env ?? process.env;
  const log = opts.log;
  let settings: UpstreamProxySettings;
  try {
    settings = resolveUpstreamProxy({ flag: opts.upstreamProxy, noProxy: opts.noProxy, env });
  } catch (e) {
    // A bad flag is the caller's to report (the CLI checks it first); a bad environment value
    // must not stop the proxy: it goes direct and says why.
    if (opts.upstreamProxy) throw e;
    log?.(`agenttap: ignoring the proxy environment: ${(e as Error).message}`);
    settings = resolveUpstreamProxy({ noProxy: opts.noProxy, env: {} });
  }
  const connector = new ChainingConnector({ settings, insecure: opts.insecureUpstream, extraCa: opts.upstreamCa, base: opts.base });
  const pool = new H2UpstreamPool(connector);
  const wirePool = new H2WirePool(connector, pool);
  connector.onDestroy(() => {
    pool.destroy();
    wirePool.destroy();
  });
  const front = new H2Front({ pool, log });
  const wireFront = new H2WireFront(wirePool, pool, log);
  const policy = new PassthroughPolicy({ patterns: opts.passthrough, home: opts.home, learn: opts.learn });
  let bound: ProxyServer | undefined;

  const extensions: ProxyExtensions = {
    // http/1.0 last: clients that offer only it (curl --http1.0) would otherwise get a TLS alert.
    alpnProtocols: opts.http2 === false ? ['http/1.1', 'http/1.0'] : ['h2', 'http/1.1', 'http/1.0'],
    h2Upstream: new H1ToH2Bridge(pool, log),
    alpnConnection(protocol, socket, ctx, proxy) {
      if (protocol !== 'h2') return false;
      wireFront.route(socket, ctx, proxy, () => front.serve(socket, ctx, proxy));
      return true;
    },
    plainConnection(socket, first, ctx, proxy) {
      if (!startsWithH2Preface(first)) return false;
      // The session reads what is buffered on the socket (the preface we peeked) itself.
      socket.unshift(first);
      wireFront.route(socket, ctx, proxy, () => front.serve(socket, ctx, proxy));
      return true;
    },
    upgrade(req, socket, head, route, proxy) {
      return handleWebSocketUpgrade(req, socket, head, route, proxy, { keepBytes: opts.maxMessage, log });
    },
    routeConnect(target) {
      const reason = policy.match(target.host, target.port);
      return reason ? { action: 'tunnel', reason } : { action: 'intercept' };
    },
    tunnel(client, head, target, reason, proxy) {
      runTunnel(client, head, target, reason, proxy, { log });
    },
    onClientTlsError(target, err) {
      const why = isCertificateRejection(err);
      if (!why) return;
      const learned = policy.learn(target.host, why);
      const message = learned
        ? `client rejected our certificate (${why}): ${target.host} learned into passthrough.json, later connections are tunnelled without decryption`
        : `client rejected our certificate (${why})${policy.learnEnabled ? '' : ' (learning is off: --no-learn)'}`;
      log?.(`agenttap: ${target.host}:${target.port}: ${message}`);
      bound?.emit('tunnel', {
        id: uuidv7(),
        mode: 'forward',
        startedAt: new Date().toISOString(),
        client: { ip: '', port: 0 },
        server: { host: target.host, port: target.port, tls: true },
        tunnel: { bytesUp: 0, bytesDown: 0, durationMs: 0, reason: 'learned' },
        error: { phase: 'tls', code: (err as NodeJS.ErrnoException).code ?? 'TLS_ALERT', message },
      });
    },
  };

  return {
    extensions,
    connector,
    policy,
    get upstreamProxy() {
      return settings;
    },
    bind(proxy) {
      bound = proxy;
      if (settings.source !== 'env') return;
      const own = [proxy.address, ...proxy.reverseListeners].filter((a): a is NonNullable<typeof a> => !!a).map((a) => ({ host: a.host, port: a.port }));
      const next = withoutSelf(settings, own);
      if (next.source !== settings.source || next.https !== settings.https || next.http !== settings.http) {
        log?.('agenttap: ignoring HTTPS_PROXY/HTTP_PROXY that point at this proxy itself (it would loop)');
        settings = next;
        connector.setSettings(next);
      }
    },
  };
}
