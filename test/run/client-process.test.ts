import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { once } from 'node:events';
import { createClientProcessResolver, isInTree, parseLsof, parseProcNetTcp, pidAnnotator, processTree } from '../../src/engine/client-process.js';

test('the process holding a client connection is found by its socket (pid and name), and placed in its process tree', async () => {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  // A shell that starts a Node client: the connection belongs to a grandchild of this test.
  const child = spawn('/bin/sh', ['-c', `exec ${process.execPath} -e "const s=require('net').connect(${port},'127.0.0.1');s.on('data',()=>{});setTimeout(()=>s.end(),4000)"`], { stdio: 'ignore' });
  const [sock] = (await once(server, 'connection')) as [net.Socket];
  try {
    const resolver = createClientProcessResolver({ preferredPids: () => processTree(process.pid) });
    const found = await resolver.lookup(sock.remotePort!, port);
    if (process.platform === 'linux') {
      assert.equal(found?.pid, child.pid);
      assert.equal(found?.process, 'node');
      assert.ok(isInTree(resolver, found!.pid, process.pid));
      assert.equal(isInTree(resolver, found!.pid, child.pid! + 100000), false);
      assert.ok(processTree(process.pid).includes(child.pid!));
      // A port nobody uses is no one's.
      assert.equal(await resolver.lookup(1, port), undefined);
      // The annotator: within its sync budget the pid is there at start; beyond it (budget 0) the
      // lookup runs off the event loop and lands by the exchange's end.
      const sync = { client: { ip: '127.0.0.1', port: sock.remotePort! } as { ip: string; port: number; pid?: number; process?: string } };
      pidAnnotator(resolver, () => [port])(sync, 'start');
      assert.equal(sync.client.pid, child.pid);
      const annotateAsync = pidAnnotator(resolver, () => [port], { syncPerSecond: 0 });
      const rec = { client: { ip: '127.0.0.1', port: sock.remotePort! } as { ip: string; port: number; pid?: number; process?: string } };
      annotateAsync(rec, 'start');
      assert.equal(rec.client.pid, undefined);
      await new Promise((r) => setTimeout(r, 300));
      annotateAsync(rec, 'end');
      assert.equal(rec.client.pid, child.pid);
      assert.equal(rec.client.process, 'node');
    }
  } finally {
    sock.destroy();
    child.kill();
    server.close();
  }
});

test('/proc/net/tcp and lsof output are parsed', () => {
  const tcp = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 11111 1 0000000000000000 100 0 0 10 0',
    '   1: 0100007F:C350 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 22222 1 0000000000000000 20 4 30 10 -1',
  ].join('\n');
  assert.deepEqual(parseProcNetTcp(tcp), [
    { localPort: 8080, remotePort: 0, inode: 11111 },
    { localPort: 50000, remotePort: 8080, inode: 22222 },
  ]);
  const lsof = 'p4242\ncclaude\nf23\nn127.0.0.1:50000->127.0.0.1:8080\np4300\nccurl\nn127.0.0.1:50001->127.0.0.1:8080\n';
  assert.deepEqual(parseLsof(lsof, 50001, 8080), { pid: 4300, process: 'curl' });
  assert.equal(parseLsof(lsof, 50002, 8080), undefined);
});

test('agenttap proxy records which process each exchange came from', async () => {
  const { mkdtempSync, readFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { cliBin } = await import('../support/cli-process.js');
  const { startFakeLlm } = await import('../../src/fake-llm/server.js');
  const fake = await startFakeLlm();
  const home = mkdtempSync(join(tmpdir(), 'agenttap-pid-'));
  const out = join(home, 'cap.jsonl');
  const proxy = spawn(process.execPath, [cliBin, 'proxy', '--quiet', '--port', '0', '--out', out, '--map-remote', `api.openai.com=${fake.url}`], { env: { PATH: process.env['PATH'], HOME: home, AGENTTAP_HOME: join(home, '.agenttap') }, stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise<string>((resolve, reject) => {
      let text = '';
      proxy.stdout!.on('data', (d: Buffer) => {
        text += d.toString();
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(text);
        if (m) resolve(m[1]!);
      });
      proxy.on('exit', (c) => reject(new Error(`proxy exited ${c}: ${text}`)));
    });
    const code = await new Promise<number | null>((resolve) => {
      const c = spawn('curl', ['-sS', '-o', '/dev/null', '--proxy', url, '--cacert', join(home, '.agenttap', 'ca.pem'), '-H', 'content-type: application/json', '-d', '{"model":"gpt-4o-mini","input":"hi"}', 'https://api.openai.com/v1/responses'], { stdio: 'ignore' });
      c.on('close', resolve);
    });
    assert.equal(code, 0);
    const exited = new Promise((r) => proxy.on('exit', r));
    proxy.kill('SIGINT');
    await exited;
    const rec = JSON.parse(readFileSync(out, 'utf8').trim().split('\n').pop()!) as { client: { pid?: number; process?: string } };
    if (process.platform === 'linux') {
      assert.equal(rec.client.process, 'curl');
      assert.ok((rec.client.pid ?? 0) > 0);
    }
  } finally {
    proxy.kill('SIGKILL');
    await fake.close();
  }
});
