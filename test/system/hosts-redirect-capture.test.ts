import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { startCaptureProxy } from '../../src/capture/capture-proxy.js';
import { readAllRecords } from '../../src/capture/reader.js';
import { parseMapRemote } from '../../src/engine/map-remote.js';
import { startCaptureModes } from '../../src/system/capture-modes.js';
import { parseSni } from '../../src/system/hosts-redirect-listener.js';
import { startFakeLlm as startFakeUpstream } from '../../src/fake-llm/server.js';

function curl(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn('curl', args);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('--hosts-redirect: the hosts block sends HOST to the :443 listener, TLS is intercepted with a cert for HOST, the block goes away on stop', async () => {
  const fake = await startFakeUpstream();
  const home = mkdtempSync(join(tmpdir(), 'agenttap-hr-'));
  const hostsFile = join(home, 'hosts');
  writeFileSync(hostsFile, '127.0.0.1 localhost\n');
  const saved = process.env['AGENTTAP_HOSTS_FILE'];
  process.env['AGENTTAP_HOSTS_FILE'] = hostsFile;
  const out = join(home, 'cap.jsonl');
  const host = 'api.redirect-test.example';
  const cap = await startCaptureProxy({ home, out, port: 0, host: '127.0.0.1', mapRemote: [parseMapRemote(`${host}=${fake.url}`)] });
  const printed: string[] = [];
  try {
    const modes = await startCaptureModes(cap.address!, { hostsRedirect: [host], redirectPort: 0, systemTimeoutMs: 0, dryRun: false }, { home, print: (l) => printed.push(l) });
    assert.match(readFileSync(hostsFile, 'utf8'), new RegExp(`^127\\.0\\.0\\.1 ${host.replace(/\./g, '\\.')}$`, 'm'));
    const port = modes.redirect!.port;
    // curl resolves HOST to the listener the way the hosts file would, and trusts only our CA.
    const r = await curl(['-sS', '--fail', '--connect-to', `${host}:443:127.0.0.1:${port}`, '--cacert', cap.ca.files.certPath, '-H', 'content-type: application/json', '-d', '{"model":"gpt-4o-mini","input":"hi"}', `https://${host}/v1/responses`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /"object":"response"/);
    await modes.stop();
    assert.equal(readFileSync(hostsFile, 'utf8'), '127.0.0.1 localhost\n');
    await cap.close();
    const recs = await readAllRecords(out);
    const rec = recs.find((x) => x.request?.url === `https://${host}/v1/responses`);
    assert.equal(rec?.response?.status, 200);
    assert.equal(rec?.server.host, host);
    assert.match(printed.join('\n'), /hosts file restored/);
  } finally {
    if (saved === undefined) delete process.env['AGENTTAP_HOSTS_FILE'];
    else process.env['AGENTTAP_HOSTS_FILE'] = saved;
    await cap.close();
    await fake.close();
  }
});

test('the SNI of a real TLS ClientHello is read', async () => {
  const net = await import('node:net');
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as import('node:net').AddressInfo).port;
  const first = new Promise<Buffer>((resolve) => server.once('connection', (s) => s.once('data', (d: Buffer) => { resolve(d); s.destroy(); })));
  const c = tls.connect({ host: '127.0.0.1', port, servername: 'api.anthropic.com', rejectUnauthorized: false });
  c.on('error', () => {});
  assert.equal(parseSni(await first), 'api.anthropic.com');
  c.destroy();
  server.close();
  assert.equal(parseSni(Buffer.from('GET / HTTP/1.1\r\n\r\n')), undefined);
});
