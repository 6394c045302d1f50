// Tunnels: CONNECTs we do not decrypt (passthrough globs, learned hosts, non-TLS bytes that are
// not HTTP). Bytes are piped both ways untouched and counted; one `tunnel` row is emitted when
// both sides have closed. --map-remote applies here too.
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import { uuidv7 } from '../capture/ids.js';
import type { RecordError, RecordServer, TunnelInfo } from '../capture/record.js';
import { findMapRemote } from './map-remote.js';
import type { ConnectTarget, ProxyServer, TunnelReason } from './proxy.js';

export interface TunnelOptions {
  log?(line: string): void;
}

export function runTunnel(client: net.Socket, head: Buffer, target: ConnectTarget, reason: TunnelReason, proxy: ProxyServer, opts: TunnelOptions = {}): void {
  const startedNow = Date.now();
  const t0 = performance.now();
  const id = uuidv7(startedNow);
  const rule = findMapRemote(proxy.options.mapRemote, target.host, target.port);
  const dest = rule ? { host: rule.host, port: rule.port } : target;
  const server: RecordServer = { host: target.host, port: target.port, tls: head.length > 0 ? head[0] === 0x16 : reason !== 'not-tls' };
  if (rule) server.mappedTo = rule.origin;
  const clientInfo = { ip: client.remoteAddress ?? '', port: client.remotePort ?? 0 };
  const info: TunnelInfo = { bytesUp: 0, bytesDown: 0, durationMs: 0, reason };
  let error: RecordError | null = null;
  let emitted = false;
  const emit = () => {
    if (emitted) return;
    emitted = true;
    info.durationMs = Math.round((performance.now() - t0) * 1000) / 1000;
    proxy.emit('tunnel', { id, mode: 'forward', startedAt: new Date(startedNow).toISOString(), client: clientInfo, server, tunnel: info, error });
    if (error) opts.log?.(`agenttap: tunnel ${target.host}:${target.port} (${reason}): ${error.message}`);
  };
  client.on('error', () => {});
  client.pause();
  const connect = proxy.connector.connect?.bind(proxy.connector);
  if (!connect) {
    error = { phase: 'upstream-connect', code: 'NO_CONNECTOR', message: 'this proxy cannot open raw upstream connections' };
    client.destroy();
    return emit();
  }
  let clientClosedEarly = false;
  client.once('close', () => (clientClosedEarly = true));
  connect({ host: dest.host, port: dest.port, tls: false }).then(
    (up) => {
      server.ip = up.remoteAddress;
      if (clientClosedEarly || client.destroyed) {
        up.destroy();
        error = { phase: 'client-abort', code: 'ECONNRESET', message: 'client closed the tunnel before the upstream connected' };
        return emit();
      }
      up.setNoDelay(true);
      let upError: NodeJS.ErrnoException | undefined;
      let clientError = false;
      let closed = 0;
      up.on('error', (e: NodeJS.ErrnoException) => (upError ??= e));
      client.on('error', () => (clientError = true));
      if (head.length) {
        info.bytesUp += head.length;
        up.write(head);
      }
      client.on('data', (c: Buffer) => {
        info.bytesUp += c.length;
        if (!up.write(c)) client.pause();
      });
      up.on('data', (c: Buffer) => {
        info.bytesDown += c.length;
        if (!client.write(c)) up.pause();
      });
      up.on('drain', () => client.resume());
      client.on('drain', () => up.resume());
      client.on('end', () => up.end());
      up.on('end', () => client.end());
      const onClose = (side: 'client' | 'upstream') => () => {
        if (side === 'client' && !up.destroyed && clientError) up.destroy();
        if (side === 'upstream' && !client.destroyed && upError) client.destroy();
        if (++closed < 2) return;
        if (upError) error = { phase: 'upstream-reset', code: upError.code ?? 'ECONNRESET', message: `upstream ${dest.host}:${dest.port} reset the tunnel: ${upError.message}` };
        else if (info.bytesDown === 0 && info.bytesUp > 0) error = { phase: 'upstream-reset', code: 'EMPTY_TUNNEL', message: `upstream ${dest.host}:${dest.port} closed the tunnel without sending a byte` };
        else if (clientError) error = { phase: 'client-abort', code: 'ECONNRESET', message: 'client reset the tunnel' };
        emit();
      };
      client.on('close', onClose('client'));
      up.on('close', onClose('upstream'));
      client.resume();
    },
    (e: NodeJS.ErrnoException) => {
      error = { phase: 'upstream-connect', code: e.code ?? 'ECONNREFUSED', message: `cannot open a tunnel to ${dest.host}:${dest.port}: ${e.message}` };
      // The client sees the connection drop, as it would have if the host were unreachable.
      client.destroy();
      emit();
    },
  );
}
