// An in-process capture proxy with the protocol modules plugged in (h2, WebSocket, passthrough,
// chaining), recording in memory; plus h2 test upstreams and a CONNECT helper for raw clients.
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { writeFileSync } from 'node:fs';
import { startCaptureProxy, type CaptureProxy, type CaptureProxyOptions } from '../../src/capture/capture-proxy.js';
import type { CaptureRecord } from '../../src/capture/record.js';
import { createProtocolSupport, type ProtocolSupport, type ProtocolSupportOptions } from '../../src/engine/protocol-support.js';
import { tempDir, type TempDir } from './temp-home.js';
import { upstreamTestCa } from './test-upstream.js';

export interface ProtocolProxy {
  cap: CaptureProxy;
  support: ProtocolSupport;
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  /** The proxy's CA PEM file (what clients trust). */
  caFile: string;
  caPem: string;
  home: TempDir;
  records: CaptureRecord[];
  logs: string[];
  /** Wait until `n` records (matching `filter`) exist. */
  waitFor(n: number, filter?: (r: CaptureRecord) => boolean, timeoutMs?: number): Promise<CaptureRecord[]>;
  close(): Promise<void>;
}

export async function startProtocolProxy(
  opts: { support?: Omit<ProtocolSupportOptions, 'home' | 'upstreamCa' | 'log'>; capture?: Partial<CaptureProxyOptions>; home?: TempDir; extraCa?: string[] } = {},
): Promise<ProtocolProxy> {
  const home = opts.home ?? tempDir('agenttap-proto-home-');
  const { ca: upstreamCa } = await upstreamTestCa();
  const logs: string[] = [];
  const support = createProtocolSupport({ env: {}, ...opts.support, home: home.dir, upstreamCa: [upstreamCa.certPem, ...(opts.extraCa ?? [])], log: (l) => logs.push(l) });
  const cap = await startCaptureProxy({
    out: false,
    port: 0,
    home: home.dir,
    keepSecrets: true,
    connector: support.connector,
    extensions: support.extensions,
    ...opts.capture,
  });
  support.bind(cap.proxy);
  const records: CaptureRecord[] = [];
  const waiters = new Set<() => void>();
  cap.recorder.on('record', (r) => {
    records.push(r);
    for (const w of waiters) w();
  });
  const caFile = home.file('proxy-ca.pem');
  writeFileSync(caFile, cap.ca.certPem);
  const port = cap.address!.port;
  return {
    cap,
    support,
    url: `http://127.0.0.1:${port}`,
    port,
    caFile,
    caPem: cap.ca.certPem,
    home,
    records,
    logs,
    waitFor(n, filter = () => true, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const got = records.filter(filter);
          if (got.length >= n) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(got);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${n} records; have ${records.length}: ${JSON.stringify(records.map((r) => [r.kind, r.request?.url ?? r.server.host, r.error?.message]))}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    async close() {
      await cap.close();
      home.cleanup();
    },
  };
}

/** Open a CONNECT tunnel through an HTTP proxy; resolves with the raw socket. */
export function connectTunnel(proxyPort: number, authority: string, headers: Record<string, string> = {}): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port: proxyPort });
    s.once('error', reject);
    let buf = Buffer.alloc(0);
    const onReadable = () => {
      let c: Buffer | null;
      while ((c = s.read() as Buffer | null) !== null) {
        buf = Buffer.concat([buf, c]);
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) continue;
        s.off('readable', onReadable);
        s.off('error', reject);
        const status = buf.subarray(0, buf.indexOf('\r\n')).toString();
        if (!/ 200 /.test(status)) return reject(new Error(`CONNECT failed: ${status}`));
        if (buf.length > end + 4) s.unshift(buf.subarray(end + 4));
        return resolve(s);
      }
    };
    s.on('readable', onReadable);
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    s.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${extra}\r\n`);
  });
}

/** TLS over a CONNECT tunnel, trusting `caPem`, offering `alpn`. */
export async function tlsThroughProxy(proxyPort: number, host: string, port: number, caPem: string, alpn: string[]): Promise<tls.TLSSocket> {
  const raw = await connectTunnel(proxyPort, `${host}:${port}`);
  return new Promise((resolve, reject) => {
    const s = tls.connect({ socket: raw, servername: net.isIP(host) ? undefined : host, ca: [caPem], ALPNProtocols: alpn, host });
    s.once('secureConnect', () => resolve(s));
    s.once('error', reject);
  });
}

/** An HTTP/2 client session to https://host:port through the proxy (CONNECT + our CA). */
export async function h2ThroughProxy(proxyPort: number, host: string, port: number, caPem: string): Promise<http2.ClientHttp2Session> {
  const s = await tlsThroughProxy(proxyPort, host, port, caPem, ['h2']);
  if (s.alpnProtocol !== 'h2') throw new Error(`proxy negotiated ${String(s.alpnProtocol)} instead of h2`);
  return http2.connect(`https://${host}:${port}`, { createConnection: () => s });
}

export interface H2Upstream {
  url: string;
  port: number;
  server: http2.Http2SecureServer;
  close(): Promise<void>;
}

/** An HTTPS upstream speaking h2 (and h1 when allowHTTP1), signed by the upstream test CA. */
export async function startH2Upstream(
  onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, rawHeaders: string[]) => void,
  opts: { allowHTTP1?: boolean } = {},
): Promise<H2Upstream> {
  const { ca } = await upstreamTestCa();
  const leaf = await ca.leafFor('127.0.0.1');
  const server = http2.createSecureServer({ cert: leaf.certPem, key: leaf.keyPem, allowHTTP1: opts.allowHTTP1 ?? false });
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, _flags: number, raw: unknown) => {
    stream.on('error', () => {});
    onStream(stream, headers, raw as unknown as string[]);
  });
  server.on('sessionError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** An HTTPS upstream offering h2 and http/1.1 (compat API handler serves both). */
export async function startDualUpstream(handler: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void): Promise<H2Upstream> {
  const { ca } = await upstreamTestCa();
  const leaf = await ca.leafFor('127.0.0.1');
  const server = http2.createSecureServer({ cert: leaf.certPem, key: leaf.keyPem, allowHTTP1: true }, handler);
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('sessionError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    server,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
