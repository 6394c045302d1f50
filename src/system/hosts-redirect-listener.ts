// The :443 side of --hosts-redirect. A client sent to 127.0.0.1 by the hosts file opens TLS as if
// it were talking to the real host; we read the SNI from its ClientHello and hand the untouched
// bytes to the capture proxy as a CONNECT to that host, so the engine's usual TLS interception
// (a leaf certificate minted for the SNI) and recording apply unchanged.
import net from 'node:net';

/** The server_name from a TLS ClientHello, or undefined (not TLS, no SNI, or incomplete). Pure. */
export function parseSni(buf: Buffer): string | undefined {
  // TLS record: type 22 (handshake), version (2), length (2); handshake: type 1 (ClientHello), length (3).
  if (buf.length < 43 || buf[0] !== 0x16 || buf[5] !== 0x01) return undefined;
  let p = 5 + 4 + 2 + 32; // handshake header, client_version, random
  if (p >= buf.length) return undefined;
  p += 1 + buf[p]!; // session id
  if (p + 2 > buf.length) return undefined;
  p += 2 + buf.readUInt16BE(p); // cipher suites
  if (p + 1 > buf.length) return undefined;
  p += 1 + buf[p]!; // compression methods
  if (p + 2 > buf.length) return undefined;
  const end = Math.min(buf.length, p + 2 + buf.readUInt16BE(p));
  p += 2;
  while (p + 4 <= end) {
    const type = buf.readUInt16BE(p);
    const len = buf.readUInt16BE(p + 2);
    p += 4;
    if (type === 0 && p + 5 <= end) {
      // server_name_list length (2), name_type (1), name length (2), name
      const nameLen = buf.readUInt16BE(p + 3);
      if (buf[p + 2] === 0 && p + 5 + nameLen <= end) return buf.subarray(p + 5, p + 5 + nameLen).toString('ascii').toLowerCase();
      return undefined;
    }
    p += len;
  }
  return undefined;
}

export interface RedirectListener {
  port: number;
  /**
   * The client behind one of our connections into the proxy (by that connection's local port):
   * the proxy sees us as its client, the record should show the real one.
   */
  originOf(localPort: number): { ip: string; port: number } | undefined;
  close(): Promise<void>;
}

export interface RedirectListenerOptions {
  /** Hosts redirected to us; connections for other names are refused (we would loop). */
  hosts: readonly string[];
  /** The capture proxy's forward listener. */
  proxy: { host: string; port: number };
  listenHost?: string;
  /** 443 in real use; tests pass 0. */
  port: number;
}

export class RedirectListenError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

export function startRedirectListener(o: RedirectListenerOptions): Promise<RedirectListener> {
  const allowed = new Set(o.hosts.map((h) => h.toLowerCase()));
  const sockets = new Set<net.Socket>();
  const origins = new Map<number, { ip: string; port: number }>();
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const sni = parseSni(head);
      // ClientHellos fit in a few KB; give up on anything that never becomes one.
      if (!sni && head.length < 16_384 && (head.length < 5 || head.length < 5 + head.readUInt16BE(3))) return;
      client.off('data', onData);
      client.pause();
      const host = sni ?? (allowed.size === 1 ? [...allowed][0] : undefined);
      if (!host || !allowed.has(host)) {
        client.destroy();
        return;
      }
      const up = net.connect(o.proxy.port, o.proxy.host);
      sockets.add(up);
      up.on('close', () => sockets.delete(up));
      up.on('error', () => client.destroy());
      up.once('connect', () => {
        const lp = up.localPort;
        if (lp) {
          origins.set(lp, { ip: client.remoteAddress ?? '127.0.0.1', port: client.remotePort ?? 0 });
          up.once('close', () => origins.delete(lp));
        }
        up.write(`CONNECT ${host}:443 HTTP/1.1\r\nHost: ${host}:443\r\n\r\n`);
      });
      let reply = Buffer.alloc(0);
      const onReply = (c: Buffer): void => {
        reply = Buffer.concat([reply, c]);
        const i = reply.indexOf('\r\n\r\n');
        if (i < 0) return;
        up.off('data', onReply);
        if (!/^HTTP\/1\.[01] 200/.test(reply.toString('latin1', 0, 16))) {
          client.destroy();
          up.destroy();
          return;
        }
        const rest = reply.subarray(i + 4);
        if (rest.length) client.write(rest);
        up.write(head);
        client.pipe(up);
        up.pipe(client);
        client.resume();
      };
      up.on('data', onReply);
    };
    client.on('data', onData);
  });
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EACCES') reject(new RedirectListenError(`listening on port ${o.port} needs root (or CAP_NET_BIND_SERVICE): run with sudo`, 'port-needs-root'));
      else if (e.code === 'EADDRINUSE') reject(new RedirectListenError(`port ${o.port} is in use: stop the other server on it first`, 'port-in-use'));
      else reject(e);
    });
    server.listen(o.port, o.listenHost ?? '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({
        port,
        originOf: (lp) => origins.get(lp),
        close: () =>
          new Promise<void>((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}
