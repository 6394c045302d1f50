// The bench relays' one job: bytes both ways between two sockets, either one's failure ending both.
import type net from 'node:net';

export function pipeBothWays(client: net.Socket, up: net.Socket): void {
  up.setNoDelay(true);
  client.pipe(up);
  up.pipe(client);
  client.on('error', () => up.destroy());
  up.on('error', () => client.destroy());
}
