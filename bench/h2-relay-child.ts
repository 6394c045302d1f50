// The floor for an intercepting h2 proxy on this machine: TLS terminated on both legs and the
// decrypted bytes piped through unchanged (no h2 parsing, no recording), in its own process.
// bench/h2.bench.ts measures it next to agenttap so its sequential ratio can be read against it.
import net from 'node:net';
import tls from 'node:tls';
import { pipeBothWays } from './relay-pipe.js';

const { port, caPem, certPem, keyPem } = JSON.parse(process.argv[2]!) as { port: number; caPem: string; certPem: string; keyPem: string };
const server = tls.createServer({ cert: certPem, key: keyPem, ALPNProtocols: ['h2'] }, (client) => {
  client.setNoDelay(true);
  const up = tls.connect({ host: '127.0.0.1', port, ca: [caPem], ALPNProtocols: ['h2'] });
  pipeBothWays(client, up);
});
server.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as net.AddressInfo).port }));
process.on('message', () => process.exit(0));
process.on('disconnect', () => process.exit(0)); // the bench died: never outlive it
