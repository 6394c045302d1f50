// agenttap proxy: the capture proxy in the foreground, one line per finished exchange.
import type { Command } from 'commander';
import path from 'node:path';
import { startCaptureProxy, type CaptureProxy } from '../capture/capture-proxy.js';
import { CaptureWriterError } from '../capture/writer.js';
import { CertificateAuthorityError } from '../engine/cert-authority.js';
import { ProxyStartError } from '../engine/proxy.js';
import { ChainingConnector } from '../engine/upstream-proxy.js';
import { CliError } from './errors.js';
import { exchangeJson, exchangeLine } from './exchange-log.js';
import { addProxyOptions, parseProxyFlags, type ProxyFlags } from './proxy-options.js';
import { llmLogFields, llmLogSuffix } from '../llm/log-summary.js';
import { agenttapHome } from '../engine/home.js';
import { createClientProcessResolver, pidAnnotator } from '../engine/client-process.js';
import { startLiveInspector } from './ui.js';
import { isLoopbackHost } from '../server/inspector-server.js';
import {
  addCaptureModeOptions,
  captureModeConnector,
  handleCaptureModesEarly,
  parseCaptureModeFlags,
  startCaptureModesCli,
  type CaptureModeCliFlags,
} from './capture-mode-options.js';

/** Start errors become one actionable line with exit code 1. */
export async function startOrExplain(start: () => Promise<CaptureProxy>): Promise<CaptureProxy> {
  try {
    return await start();
  } catch (e) {
    if (e instanceof ProxyStartError || e instanceof CertificateAuthorityError || e instanceof CaptureWriterError) throw new CliError(e.message, 1, e.code);
    throw e;
  }
}

export function register(program: Command): void {
  const cmd = program
    .command('proxy')
    .description('run the capture proxy: HTTP(S)_PROXY forward proxy with TLS interception, plus --reverse listeners');
  addCaptureModeOptions(addProxyOptions(cmd)).action(async (flags: ProxyFlags & CaptureModeCliFlags) => {
    const parsed = parseProxyFlags(flags);
    // Capture modes (--system, --hosts-redirect, --revert, --dry-run): capture-mode-options.ts.
    const modeFlags = await parseCaptureModeFlags(flags, parsed.capture.insecureUpstream);
    const home = parsed.capture.home ?? agenttapHome();
    const say = (line: string) => process.stdout.write(line + '\n');
    if (await handleCaptureModesEarly(flags, modeFlags, home, typeof parsed.capture.port === 'number' && parsed.capture.port > 0 ? parsed.capture.port : 8080, say)) return;
    const connector = await captureModeConnector(modeFlags);
    if (connector) parsed.capture.connector = connector;
    // Which local process each exchange came from (pid + name), looked up from the socket.
    const listenPorts: number[] = [];
    const attribute = pidAnnotator(createClientProcessResolver(), () => listenPorts);
    const previousAnnotate = parsed.capture.annotate;
    let modes: Awaited<ReturnType<typeof startCaptureModesCli>> | undefined;
    parsed.capture.annotate = (r, phase) => {
      previousAnnotate?.(r, phase);
      modes?.annotate(r); // hosts-redirect: the real client, mode "transparent"
      attribute(r, phase);
    };
    const cp = await startOrExplain(() => startCaptureProxy(parsed.capture));
    if (cp.address) listenPorts.push(cp.address.port);
    // Listening beyond loopback makes an open, intercepting proxy for the whole network: say so.
    const host = parsed.capture.host ?? '127.0.0.1';
    if (!isLoopbackHost(host)) {
      process.stderr.write(`agenttap: warning: --host ${host} is not loopback: anyone who can reach it can use this proxy, and their traffic (and secrets, with --keep-secrets) lands in your capture\n`);
    }
    for (const l of cp.reverseListeners) listenPorts.push(l.port);
    const out = (line: string) => process.stdout.write(line + '\n');
    const file = cp.outFile ? path.resolve(cp.outFile) : undefined;
    if (parsed.json) {
      out(JSON.stringify({ type: 'listening', proxy: cp.address?.url, reverse: cp.reverseListeners.map((r) => ({ url: r.url, target: r.target })), out: file, ca: cp.ca.files.certPath }));
    } else {
      if (cp.address) out(`agenttap proxy listening on ${cp.address.url}  (HTTP_PROXY / HTTPS_PROXY)`);
      for (const r of cp.reverseListeners) out(`reverse ${r.url} → ${r.target}`);
      out(`capture: ${file}`);
      out(`CA: ${cp.ca.files.certPath}${cp.ca.created ? ' (new: trust it, see agenttap ca --trust-instructions)' : ''}`);
      // Chaining in effect (from --upstream-proxy or this process's HTTPS_PROXY / HTTP_PROXY).
      const chain = cp.proxy.connector instanceof ChainingConnector ? cp.proxy.connector.settings : undefined;
      if (chain && chain.source !== 'none') {
        const via = [...new Set([chain.https?.display, chain.http?.display].filter(Boolean))].join(', ');
        out(`upstream proxy: ${via} (${chain.source === 'flag' ? '--upstream-proxy' : 'HTTPS_PROXY/HTTP_PROXY'}${chain.noProxy.length ? `; not for ${chain.noProxy.join(',')}` : ''})`);
      }
    }
    // --ui: the web inspector on this proxy's live traffic.
    let inspector: Awaited<ReturnType<typeof startLiveInspector>>;
    try {
      inspector = await startLiveInspector(cp, flags, parsed.json);
    } catch (e) {
      await cp.close();
      throw e;
    }
    if (modeFlags.system || modeFlags.hostsRedirect.length) {
      try {
        modes = await startCaptureModesCli(modeFlags, cp.address ?? { host: '127.0.0.1', port: 8080 }, home, say);
        if (modes.redirect) listenPorts.push(modes.redirect.port);
      } catch (e) {
        await cp.close();
        throw e;
      }
    }
    if (!parsed.quiet) {
      // Model calls also show provider, model, tokens and cost.
      cp.recorder.on('record', (r) => {
        if (!parsed.json) return out(exchangeLine(r) + llmLogSuffix(r));
        const llm = llmLogFields(r);
        out(llm ? JSON.stringify({ ...(JSON.parse(exchangeJson(r)) as object), llm }) : exchangeJson(r));
      });
    }
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        const undo = modes ? modes.stop().catch((e: Error) => process.stderr.write(`agenttap: ${e.message}\n`)) : Promise.resolve();
        void undo.then(() => inspector?.close()).then(() => cp.close()).then(() => {
          const n = cp.recorder.count;
          const where = cp.outFile ? path.resolve(cp.outFile) : file;
          if (parsed.json) out(JSON.stringify({ type: 'closed', exchanges: n, out: where }));
          else process.stdout.write(`\ncapture: ${n} exchange${n === 1 ? '' : 's'} in ${where}\n`);
          resolve();
        });
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
  });
}
