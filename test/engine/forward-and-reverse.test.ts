// The capture proxy in forward (CONNECT + TLS interception, plain absolute-form) and reverse
// mode, driven by curl and undici: what the client receives equals what the upstream sent, and
// the record keeps URL, headers (order, case, duplicates) and bodies exactly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import { ProxyAgent, request } from 'undici';
import { bodyText, headerValue } from '../../src/capture/record.js';
import { parseMapRemote } from '../../src/engine/map-remote.js';
import { startTestProxy } from '../support/proxy-harness.js';
import { curl } from '../support/run-tool.js';
import { startTestUpstream } from '../support/test-upstream.js';

function echoHandler(seen: http.IncomingMessage[]): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  return (req, res) => {
    seen.push(req);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.stringify({ method: req.method, url: req.url, got: Buffer.concat(chunks).toString() });
      // Duplicates and odd case must reach the client and the record as sent.
      res.writeHead(200, ['Content-Type', 'application/json', 'X-Dup', 'one', 'x-CASE-Kept', 'yes', 'X-Dup', 'two', 'Content-Length', String(Buffer.byteLength(body))] as unknown as http.OutgoingHttpHeaders);
      res.end(body);
    });
  };
}

test('curl through CONNECT to an IP-literal HTTPS upstream: bytes, headers and record are exact', async () => {
  const seen: http.IncomingMessage[] = [];
  const up = await startTestUpstream(echoHandler(seen));
  const p = await startTestProxy();
  try {
    // HTTP/1.1 on purpose: header case is only observable there (h2 lower-cases by definition).
    const r = await curl(['--http1.1', '-x', p.url, '--cacert', p.caFile, '-D', '-', '-H', 'X-Custom-Case: A', '-H', 'x-multi: 1', '-H', 'x-multi: 2', '--data-binary', 'ping-body', `${up.url}/v1/echo?x=1`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /X-Dup: one\r\nx-CASE-Kept: yes\r\nX-Dup: two\r\n/);
    assert.match(r.stdout, /"got":"ping-body"/);
    // Transparent: nothing of ours upstream.
    const h = seen[0]!.rawHeaders.map((x) => x.toLowerCase());
    assert.ok(!h.includes('via') && !h.some((x) => x.startsWith('x-forwarded')), `upstream saw ${seen[0]!.rawHeaders}`);
    assert.deepEqual(seen[0]!.headers['x-multi'], '1, 2');
    const [rec] = await p.waitForRecords(1);
    assert.equal(rec!.kind, 'http');
    assert.equal(rec!.mode, 'forward');
    assert.equal(rec!.request!.url, `${up.url}/v1/echo?x=1`);
    assert.equal(rec!.server.host, '127.0.0.1');
    assert.equal(rec!.server.port, up.port);
    assert.equal(rec!.server.tls, true);
    assert.deepEqual(rec!.request!.headers.filter(([k]) => k.toLowerCase() === 'x-multi'), [['x-multi', '1'], ['x-multi', '2']]);
    assert.ok(rec!.request!.headers.some(([k, v]) => k === 'X-Custom-Case' && v === 'A'));
    assert.equal(rec!.request!.body!.text, 'ping-body');
    assert.deepEqual(rec!.response!.headers.slice(0, 4), [['Content-Type', 'application/json'], ['X-Dup', 'one'], ['x-CASE-Kept', 'yes'], ['X-Dup', 'two']]);
    assert.equal(bodyText(rec!.response!.body), r.stdout.slice(r.stdout.indexOf('{')));
    assert.equal(rec!.error, null);
    assert.ok(rec!.timing!.ttfbMs! > 0 && rec!.timing!.totalMs! >= rec!.timing!.ttfbMs!);
    const file = await p.fileRecords();
    assert.deepEqual(file.map((x) => x.id), [rec!.id]);
  } finally {
    await p.close();
    await up.close();
  }
});

test('SSE through the forward proxy reaches the client event by event, before the upstream finishes', async () => {
  let release: (() => void)[] = [];
  const events = ['data: {"n":1}\n\n', 'data: {"n":2}\n\n', 'data: {"n":3}\n\n', 'data: [DONE]\n\n'];
  const up = await startTestUpstream(async (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    for (const e of events) {
      res.write(e);
      // The next event is only sent once the client saw this one: a buffering proxy deadlocks here.
      await new Promise<void>((r) => release.push(r));
    }
    res.end();
  });
  const p = await startTestProxy();
  const agent = new ProxyAgent({ uri: p.url, requestTls: { ca: p.caPem } });
  try {
    const res = await request(`${up.url}/v1/stream`, { dispatcher: agent, method: 'POST', body: '{"stream":true}' });
    assert.equal(res.statusCode, 200);
    let got = '';
    const received: string[] = [];
    for await (const chunk of res.body) {
      got += chunk.toString();
      while (got.includes('\n\n')) {
        const i = got.indexOf('\n\n') + 2;
        received.push(got.slice(0, i));
        got = got.slice(i);
        release.shift()?.();
      }
      if (received.length === events.length) release.forEach((r) => r());
    }
    assert.deepEqual(received, events);
    const [rec] = await p.waitForRecords(1);
    assert.equal(rec!.response!.body!.text, events.join(''));
    assert.equal(rec!.response!.chunks!.length, events.length);
    assert.deepEqual(rec!.response!.chunks!.map((c) => c[1]), events.map((e) => Buffer.byteLength(e)));
    const times = rec!.response!.chunks!.map((c) => c[0]);
    assert.deepEqual(times, [...times].sort((a, b) => a - b));
  } finally {
    release.forEach((r) => r());
    release = [];
    await agent.close();
    await p.close();
    await up.close();
  }
});

test('reverse listener forwards to the HTTPS upstream and records the upstream URL with the listener', async () => {
  const seen: http.IncomingMessage[] = [];
  const up = await startTestUpstream(echoHandler(seen));
  const p = await startTestProxy({ port: false, reverse: [{ port: 0, target: up.url }] });
  try {
    const listener = p.cp.reverseListeners[0]!;
    const r = await curl(['--data-binary', 'rev', `${listener.url}/v1/messages?beta=true`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).url, '/v1/messages?beta=true');
    assert.equal(seen[0]!.headers.host, `127.0.0.1:${up.port}`);
    const [rec] = await p.waitForRecords(1);
    assert.equal(rec!.mode, 'reverse');
    assert.equal(rec!.request!.url, `${up.url}/v1/messages?beta=true`);
    assert.equal(rec!.server.listener, listener.url);
    assert.equal(rec!.request!.body!.text, 'rev');
  } finally {
    await p.close();
    await up.close();
  }
});

test('--map-remote sends a named host to the local upstream, keeping the original URL and Host', async () => {
  const seen: http.IncomingMessage[] = [];
  const up = await startTestUpstream(echoHandler(seen));
  const p = await startTestProxy({ mapRemote: [parseMapRemote(`api.example.test=${up.url}`)] });
  try {
    const r = await curl(['-x', p.url, '--cacert', p.caFile, 'https://api.example.test/v1/models']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).url, '/v1/models');
    assert.equal(seen[0]!.headers.host, 'api.example.test');
    const [rec] = await p.waitForRecords(1);
    assert.equal(rec!.request!.url, 'https://api.example.test/v1/models');
    assert.equal(rec!.server.host, 'api.example.test');
    assert.equal(rec!.server.mappedTo, up.url);
  } finally {
    await p.close();
    await up.close();
  }
});

test('plain HTTP through the forward proxy (absolute-form) with hop-by-hop headers removed', async () => {
  const seen: http.IncomingMessage[] = [];
  const up = await startTestUpstream(echoHandler(seen), { tls: false });
  const p = await startTestProxy();
  try {
    const r = await curl(['-x', p.url, '-H', 'Proxy-Connection: keep-alive', '-H', 'Keep-Alive: timeout=5', `${up.url}/plain?q=1`]);
    assert.equal(r.code, 0, r.stderr);
    const names = seen[0]!.rawHeaders.filter((_, i) => i % 2 === 0).map((x) => x.toLowerCase());
    assert.ok(!names.includes('proxy-connection') && !names.includes('keep-alive'), names.join(','));
    const [rec] = await p.waitForRecords(1);
    assert.equal(rec!.request!.url, `${up.url}/plain?q=1`);
    assert.equal(rec!.server.tls, false);
    assert.equal(headerValue(rec!.response!.headers, 'x-dup'), 'one');
  } finally {
    await p.close();
    await up.close();
  }
});
