// A tiny CONNECT-only proxy for chaining tests: optional Basic auth, or a fixed refusal
// (407 / 502). It records every CONNECT it saw so tests can assert the chain was used.
import net from 'node:net';
import tls from 'node:tls';

export interface ChainProxy {
  url: string;
  port: number;
  connects: { authority: string; authorization?: string }[];
  close(): Promise<void>;
}

export interface ChainProxyOptions {
  /** user:pass required in Proxy-Authorization (else 407). */
  auth?: string;
  /** Answer every CONNECT with this status instead of tunnelling. */
  refuse?: 407 | 502 | 403;
  /** Serve the proxy itself over TLS (an https:// proxy URL). */
  tls?: { cert: string; key: string };
}

export async function startChainProxy(opts: ChainProxyOptions = {}): Promise<ChainProxy> {
  const connects: ChainProxy['connects'] = [];
  const sockets = new Set<net.Socket>();
  const onClient = (client: net.Socket) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      client.off('data', onData);
      const lines = head.subarray(0, end).toString('latin1').split('\r\n');
      const [method, authority] = lines[0]!.split(' ');
      const authorization = lines.find((l) => /^proxy-authorization:/i.test(l))?.replace(/^[^:]+:\s*/, '');
      connects.push({ authority: authority!, authorization });
      if (method !== 'CONNECT') return void client.end('HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n');
      if (opts.refuse === 407 || (opts.auth && authorization !== `Basic ${Buffer.from(opts.auth).toString('base64')}`)) {
        return void client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n');
      }
      if (opts.refuse) return void client.end(`HTTP/1.1 ${opts.refuse} Refused\r\nContent-Length: 0\r\n\r\n`);
      const i = authority!.lastIndexOf(':');
      const upstream = net.connect({ host: authority!.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(authority!.slice(i + 1)) });
      sockets.add(upstream);
      upstream.on('close', () => sockets.delete(upstream));
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      upstream.on('connect', () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        const rest = head.subarray(end + 4);
        if (rest.length) upstream.write(rest);
        client.pipe(upstream).pipe(client);
      });
    };
    client.on('data', onData);
  };
  const server = opts.tls ? tls.createServer(opts.tls, onClient) : net.createServer(onClient);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    connects,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
