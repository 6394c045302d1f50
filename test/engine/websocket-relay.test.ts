import { test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import http from 'node:http';
import type net from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { encodeFrame } from '../../src/protocols/websocket-frames.js';
import type { CaptureRecord } from '../../src/capture/record.js';
import { connectTunnel, startProtocolProxy, tlsThroughProxy, type ProtocolProxy } from '../support/protocol-proxy.js';
import { upstreamTestCa } from '../support/test-upstream.js';

interface WsUpstream {
  port: number;
  close(): Promise<void>;
}

/** An echo WebSocket server (wss or ws) with permessage-deflate on; "close-me" makes it close with 4001. */
async function startWsUpstream(tls: boolean): Promise<WsUpstream> {
  const { ca } = await upstreamTestCa();
  const leaf = await ca.leafFor('127.0.0.1');
  const server = tls ? https.createServer({ cert: leaf.certPem, key: leaf.keyPem }) : http.createServer();
  const wss = new WebSocketServer({ server, perMessageDeflate: { threshold: 0 } });
  wss.on('connection', (ws) => {
    ws.on('error', () => {});
    ws.on('message', (data, isBinary) => {
      if (!isBinary && data.toString() === 'close-me') return ws.close(4001, 'server says bye');
      ws.send(isBinary ? data : `echo:${data.toString()}`, { binary: isBinary });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A `ws` client whose connection is a CONNECT tunnel through the proxy (TLS with our CA for wss). */
function wsThroughProxy(p: ProtocolProxy, url: string, tls: boolean): WebSocket {
  const u = new URL(url);
  return new WebSocket(url, {
    perMessageDeflate: { threshold: 0 },
    createConnection: ((_opts: unknown, cb: (err: Error | null, s?: net.Socket) => void) => {
      const s = tls ? tlsThroughProxy(p.port, u.hostname, Number(u.port), p.caPem, ['http/1.1']) : connectTunnel(p.port, u.host);
      s.then((sock) => cb(null, sock), (e: Error) => cb(e));
      return undefined;
    }) as never,
  });
}

function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve) => ws.once('message', (data: Buffer, isBinary: boolean) => resolve({ data, isBinary })));
}

test('ws through CONNECT + TLS: text, binary and compressed messages recorded both ways with times and the close code', async () => {
  const up = await startWsUpstream(true);
  const p = await startProtocolProxy();
  try {
    const ws = wsThroughProxy(p, `wss://127.0.0.1:${up.port}/v1/responses?x=1`, true);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send('hello');
    assert.equal((await nextMessage(ws)).data.toString(), 'echo:hello');
    ws.send(Buffer.from([0, 1, 2, 255]), { binary: true });
    const bin = await nextMessage(ws);
    assert.equal(bin.isBinary, true);
    assert.deepEqual([...bin.data], [0, 1, 2, 255]);
    const big = JSON.stringify({ type: 'response.create', input: 'lorem ipsum '.repeat(2000) });
    ws.send(big);
    assert.equal((await nextMessage(ws)).data.toString(), `echo:${big}`);
    ws.close(4000, 'done');
    await new Promise((r) => ws.once('close', r));

    const [rec] = await p.waitFor(1);
    assert.equal(rec!.kind, 'websocket');
    assert.equal(rec!.request!.url, `wss://127.0.0.1:${up.port}/v1/responses?x=1`);
    assert.equal(rec!.response!.status, 101);
    assert.match(rec!.response!.headers.find(([k]) => k.toLowerCase() === 'sec-websocket-extensions')![1], /permessage-deflate/);
    const msgs = rec!.ws!;
    const summary = msgs.map((m) => [m.from, m.type, m.type === 'binary' ? m.base64 : m.text?.slice(0, 20)]);
    assert.deepEqual(summary, [
      ['client', 'text', 'hello'],
      ['server', 'text', 'echo:hello'],
      ['client', 'binary', Buffer.from([0, 1, 2, 255]).toString('base64')],
      ['server', 'binary', Buffer.from([0, 1, 2, 255]).toString('base64')],
      ['client', 'text', big.slice(0, 20)],
      ['server', 'text', `echo:${big}`.slice(0, 20)],
      ['client', 'close', 'done'],
      ['server', 'close', 'done'],
    ]);
    const bigMsg = msgs[4]!;
    assert.equal(bigMsg.text, big);
    assert.equal(bigMsg.size, Buffer.byteLength(big));
    assert.ok(bigMsg.wireSize! < bigMsg.size! / 5, 'the wire carried it compressed, the record inflated');
    for (let i = 1; i < msgs.length; i++) assert.ok(msgs[i]!.t >= msgs[i - 1]!.t, 'arrival times are in order');
    assert.deepEqual(rec!.wsClose, { code: 4000, reason: 'done', by: 'client' });
    assert.equal(rec!.error, null);
  } finally {
    await p.close();
    await up.close();
  }
});

test('plain ws inside a CONNECT tunnel: the server closing is recorded as the server close', async () => {
  const up = await startWsUpstream(false);
  const p = await startProtocolProxy();
  try {
    const ws = wsThroughProxy(p, `ws://127.0.0.1:${up.port}/socket`, false);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send('close-me');
    const [code, reason] = await new Promise<[number, string]>((r) => ws.once('close', (c: number, why: Buffer) => r([c, why.toString()])));
    assert.deepEqual([code, reason], [4001, 'server says bye']);
    const [rec] = await p.waitFor(1);
    assert.equal(rec!.request!.url, `ws://127.0.0.1:${up.port}/socket`);
    assert.deepEqual(rec!.wsClose, { code: 4001, reason: 'server says bye', by: 'server' });
    assert.deepEqual(rec!.ws!.map((m) => [m.from, m.type]), [['client', 'text'], ['server', 'close'], ['client', 'close']]);
  } finally {
    await p.close();
    await up.close();
  }
});

test('a client frame that violates the protocol: forwarded as sent, the server closes 1002, the record has the error', async () => {
  const up = await startWsUpstream(false);
  const p = await startProtocolProxy();
  try {
    const sock = await connectTunnel(p.port, `127.0.0.1:${up.port}`);
    sock.write(
      `GET /raw HTTP/1.1\r\nHost: 127.0.0.1:${up.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    let got = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
    await new Promise<void>((r) => {
      const check = () => (got.includes('\r\n\r\n') ? r() : setTimeout(check, 10));
      check();
    });
    assert.match(got.toString('latin1'), /^HTTP\/1\.1 101 /);
    got = Buffer.alloc(0);
    // Good masked frame first, then an unmasked one (clients must mask).
    sock.write(encodeFrame({ opcode: 1, payload: Buffer.from('fine'), mask: Buffer.from([1, 2, 3, 4]) }));
    sock.write(encodeFrame({ opcode: 1, payload: Buffer.from('not masked') }));
    await new Promise((r) => sock.once('close', r));
    // The server answered with a close frame 1002 (protocol error), as it would without us.
    const closeAt = got.indexOf(Buffer.from([0x88]));
    assert.ok(closeAt >= 0, 'server sent a close frame');
    assert.equal(got.readUInt16BE(closeAt + 2), 1002);
    const [rec] = await p.waitFor(1);
    assert.equal(rec!.error?.phase, 'protocol');
    assert.match(rec!.error!.message, /client sent an invalid WebSocket frame: unmasked frame from the client/);
    assert.equal(rec!.ws![0]!.text, 'fine');
    assert.ok(p.logs.some((l) => /invalid WebSocket frame/.test(l)));
    // Everyone else is still served.
    const ws = wsThroughProxy(p, `ws://127.0.0.1:${up.port}/after`, false);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.send('still here');
    assert.equal((await nextMessage(ws)).data.toString(), 'echo:still here');
    ws.close();
    const recs: CaptureRecord[] = await p.waitFor(2);
    assert.equal(recs[1]!.error, null);
  } finally {
    await p.close();
    await up.close();
  }
});
