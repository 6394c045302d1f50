// End to end: a Connect bidi agent stream over real HTTP/2 (Node's http2 client and server) through
// the capture proxy (CONNECT + TLS interception, --map-remote for api2.cursor.sh), then the record
// normalized by the Cursor family. The client answers the server's exec request mid-stream, as
// Cursor does, so both directions interleave on one h2 stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { parseMapRemote } from '../../src/engine/map-remote.js';
import { ConnectStreamDecoder, encodeConnectEndStream, encodeConnectMessage } from '../../src/protocols/connect-envelope.js';
import { CursorResponseStream } from '../../src/llm/cursor-connect.js';
import { normalizeExchange } from '../../src/llm/normalize.js';
import { h2ThroughProxy, startH2Upstream, startProtocolProxy } from '../support/protocol-proxy.js';
import { agentType, encode } from '../support/cursor-protos.js';

const RUN = '/agent.v1.AgentService/Run';

test('a Cursor agent turn over a bidi h2 Connect stream is captured and normalized', async () => {
  const Client = agentType('AgentClientMessage');
  const Server = agentType('AgentServerMessage');
  const send = (stream: http2.ServerHttp2Stream, value: Record<string, unknown>) => stream.write(encodeConnectMessage(encode(Server, value)));
  const shell = { command: 'cat package.json', cwd: '/work/app' };

  const up = await startH2Upstream((stream, headers) => {
    if (headers[':path'] !== RUN) {
      stream.respond({ ':status': 404 });
      stream.end();
      return;
    }
    stream.respond({ ':status': 200, 'content-type': 'application/connect+proto' });
    const dec = new ConnectStreamDecoder();
    stream.on('data', (chunk: Buffer) => {
      for (const ev of dec.push(chunk)) {
        if (ev.type !== 'message') continue;
        const msg = Client.toObject(Client.decode(ev.frame.payload)) as Record<string, Record<string, unknown>>;
        if (msg.run_request) {
          send(stream, { interaction_update: { thinking_delta: { text: 'Read the manifest first.' } } });
          send(stream, { interaction_update: { text_delta: { text: 'Let me look at package.json.' } } });
          send(stream, { interaction_update: { tool_call_started: { call_id: 'toolu_01', tool_call: { shell_tool_call: { args: shell } } } } });
          send(stream, { exec_server_message: { id: 1, shell } });
        } else if (msg.exec_client_message) {
          const output = (msg.exec_client_message.shell as { output: string }).output;
          send(stream, { interaction_update: { tool_call_completed: { call_id: 'toolu_01', tool_call: { shell_tool_call: { args: shell, result: { output } } } } } });
          send(stream, { interaction_update: { text_delta: { text: 'The package is named "demo-app".' } } });
          send(stream, { interaction_update: { token_delta: { tokens: 17 } } });
          send(stream, { interaction_update: { turn_ended: {} } });
          stream.end(encodeConnectEndStream({}));
        }
      }
    });
  });
  const p = await startProtocolProxy({ capture: { mapRemote: [parseMapRemote(`api2.cursor.sh=${up.url}`)] } });
  const session = await h2ThroughProxy(p.port, 'api2.cursor.sh', 443, p.caPem);
  try {
    const req = session.request({
      ':method': 'POST',
      ':path': RUN,
      'content-type': 'application/connect+proto',
      'connect-protocol-version': '1',
      'user-agent': 'connect-es/1.6.1',
      'x-cursor-client-version': '2.0.77',
    });
    req.write(encodeConnectMessage(encode(Client, { run_request: { user_message: { text: 'What is this package called?' }, model: 'claude-4.5-sonnet', conversation_id: 'conv-e2e' } })));
    // The client side: merge the stream live, and run the exec request when it arrives.
    const live = new CursorResponseStream({ url: `https://api2.cursor.sh${RUN}`, contentType: 'application/connect+proto' });
    const dec = new ConnectStreamDecoder();
    const done = new Promise<void>((resolve, reject) => {
      req.on('data', (chunk: Buffer) => {
        live.push(chunk);
        for (const ev of dec.push(chunk)) {
          if (ev.type === 'message' && (Server.toObject(Server.decode(ev.frame.payload)) as Record<string, unknown>).exec_server_message) {
            req.end(encodeConnectMessage(encode(Client, { exec_client_message: { id: 1, shell: { output: '{"name":"demo-app"}', exit_code: 0 } } })));
          }
        }
      });
      req.on('end', resolve);
      req.on('error', reject);
    });
    await done;
    const seen = live.finish();
    assert.equal(seen.stopReason, 'turn_ended');

    const [rec] = await p.waitFor(1);
    assert.ok(rec);
    // Node's http2 client sends ":authority: api2.cursor.sh:443"; the record keeps what the client asked for.
    assert.match(rec.request!.url, /^https:\/\/api2\.cursor\.sh(:443)?\/agent\.v1\.AgentService\/Run$/);
    assert.equal(rec.request!.httpVersion, '2');
    assert.equal(rec.request!.chunks!.length, 2, 'two client messages, sent at different times');
    assert.ok(rec.response!.chunks![0]![0] < rec.request!.chunks![1]![0], 'the server spoke before the client sent its second message');
    const x = normalizeExchange(rec);
    assert.ok(x);
    assert.equal(x.detection.api, 'cursor.connect');
    assert.equal(x.detection.agent, 'cursor');
    assert.equal(x.model, 'claude-4.5-sonnet');
    assert.equal(x.request.conversationId, 'conv-e2e');
    assert.deepEqual(x.request.turns, [
      { role: 'user', blocks: [{ type: 'text', text: 'What is this package called?' }] },
      { role: 'tool', blocks: [{ type: 'tool_result', id: 'toolu_01', output: { output: '{"name":"demo-app"}' } }] },
    ]);
    assert.deepEqual(x.response.turns, [
      {
        role: 'assistant',
        blocks: [
          { type: 'thinking', text: 'Read the manifest first.' },
          { type: 'text', text: 'Let me look at package.json.' },
          { type: 'tool_call', id: 'toolu_01', name: 'shell', input: shell },
        ],
      },
      { role: 'tool', blocks: [{ type: 'tool_result', id: 'toolu_01', output: { output: '{"name":"demo-app"}' } }] },
      { role: 'assistant', blocks: [{ type: 'text', text: 'The package is named "demo-app".' }] },
    ]);
    assert.deepEqual(x.response.usage, { output: 17 });
    assert.equal(x.response.stopReason, 'turn_ended');
    assert.deepEqual(seen.turns, x.response.turns, 'the live merge on the client equals the merge of the record');
  } finally {
    session.close();
    await p.close();
    await up.close();
  }
});
