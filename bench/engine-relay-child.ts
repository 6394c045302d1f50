// The floor for any proxy on this machine: a bare byte relay in its own process (plain listener →
// TLS upstream, no HTTP parsing, no recording). bench/engine.bench.ts measures it next to
// agenttap so the sequential-latency ratios can be read against what one more hop costs here.
import net from 'node:net';
import tls from 'node:tls';
import { pipeBothWays } from './relay-pipe.js';

const { port, caPem } = JSON.parse(process.argv[2]!) as { port: number; caPem: string };
const server = net.createServer({ noDelay: true }, (client) => {
  const up = tls.connect({ host: '127.0.0.1', port, ca: [caPem] });
  pipeBothWays(client, up);
});
server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as net.AddressInfo).port }));
process.on('message', () => process.exit(0));
process.on('disconnect', () => process.exit(0)); // the bench died: never outlive it
