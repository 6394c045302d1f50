// A fake upstream served over HTTPS with its own test CA (not the proxy's), so tests prove the
// proxy verifies upstream TLS and trusts only what it was told to (NODE_EXTRA_CA_CERTS or the
// in-process upstreamCa option).
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { writeFileSync } from 'node:fs';
import { loadOrCreateCA, type CertificateAuthority } from '../../src/engine/cert-authority.js';
import { tempDir } from './temp-home.js';

let testCa: Promise<{ ca: CertificateAuthority; caFile: string }> | undefined;

/** The upstream test CA (one per test process), and its PEM on disk for NODE_EXTRA_CA_CERTS. */
export function upstreamTestCa(): Promise<{ ca: CertificateAuthority; caFile: string }> {
  testCa ??= (async () => {
    const d = tempDir('agenttap-upstream-ca-');
    const ca = await loadOrCreateCA(d.dir);
    const caFile = d.file('upstream-ca.pem');
    writeFileSync(caFile, ca.certPem);
    process.once('exit', () => d.cleanup());
    return { ca, caFile };
  })();
  return testCa;
}

export interface TestUpstream {
  /** e.g. https://127.0.0.1:43123 */
  url: string;
  port: number;
  host: string;
  caPem: string;
  caFile: string;
  server: http.Server;
  close(): Promise<void>;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export interface TestUpstreamOptions {
  tls?: boolean;
  /** Certificate name (default 127.0.0.1, an IP SAN). */
  certHost?: string;
  /** Serve a certificate from a CA nobody trusts (for TLS failure tests). */
  untrusted?: boolean;
}

export async function startTestUpstream(handler: Handler, opts: TestUpstreamOptions = {}): Promise<TestUpstream> {
  const useTls = opts.tls ?? true;
  const { ca, caFile } = await upstreamTestCa();
  let server: http.Server;
  if (useTls) {
    let signer = ca;
    if (opts.untrusted) {
      const d = tempDir('agenttap-untrusted-ca-');
      signer = await loadOrCreateCA(d.dir);
      d.cleanup();
    }
    const leaf = await signer.leafFor(opts.certHost ?? '127.0.0.1');
    server = https.createServer({ cert: leaf.certPem, key: leaf.keyPem }, handler);
  } else server = http.createServer(handler);
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('secureConnection', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `${useTls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    host: '127.0.0.1',
    caPem: ca.certPem,
    caFile,
    server,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
