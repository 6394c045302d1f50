// Composes CA + engine + recorder + writer into the capture proxy that `agenttap proxy`, `run`,
// `demo` and the live UI start.
import { agenttapHome } from '../engine/home.js';
import { loadOrCreateCA, type CertificateAuthority } from '../engine/cert-authority.js';
import type { MapRemoteRule } from '../engine/map-remote.js';
import { startProxy, type ListenerAddress, type ProxyExtensions, type ProxyServer, type ReverseListener, type ReverseSpec } from '../engine/proxy.js';
import type { UpstreamConnector } from '../engine/upstream.js';
import { createProtocolSupport, type ProtocolSupportOptions } from '../engine/protocol-support.js';
import type { CaptureRecord } from './record.js';
import { Recorder, type RecorderOptions } from './recorder.js';
import { capYoungGeneration } from './release-memory.js';
import { CaptureWriter, localDate } from './writer.js';

export interface CaptureProxyOptions extends RecorderOptions {
  /** $AGENTTAP_HOME (CA lives there). Default: agenttapHome(). */
  home?: string;
  /** Forward listener port (0 = ephemeral, false = none). Default 8080. */
  port?: number | false;
  host?: string;
  /** Capture file. Default ./agenttap-<date>.jsonl; `false` = record in memory only (events, no file). */
  out?: string | false;
  rotate?: 'daily';
  reverse?: ReverseSpec[];
  mapRemote?: MapRemoteRule[];
  insecureUpstream?: boolean;
  /** Extra upstream roots, in-process (tests); the CLI relies on NODE_EXTRA_CA_CERTS. */
  upstreamCa?: string[];
  connector?: UpstreamConnector;
  extensions?: ProxyExtensions;
  /** HTTP/1.1 on raw sockets (default true); false = Node's http server for every request (engine/proxy.ts). */
  wire?: boolean;
  /** Don't record at all (benchmarks: the engine alone). */
  record?: boolean;
  /** A CA already loaded (saves the disk read when the caller has one). */
  ca?: CertificateAuthority;
  /**
   * HTTP/2, WebSocket, passthrough tunnels and proxy chaining (engine/protocol-support.ts),
   * on by default; `false` keeps the HTTP/1.1 core alone. Ignored when `extensions` is given.
   */
  protocols?: Omit<ProtocolSupportOptions, 'home' | 'insecureUpstream' | 'upstreamCa' | 'base'> | false;
}

export interface CaptureProxy {
  proxy: ProxyServer;
  recorder: Recorder;
  writer?: CaptureWriter;
  ca: CertificateAuthority;
  /** The capture file records currently go to (undefined with out: false). */
  readonly outFile: string | undefined;
  /** The forward listener. */
  address?: ListenerAddress;
  reverseListeners: ReverseListener[];
  /** Stop listening, let in-flight records finish, flush and close the file. */
  close(): Promise<void>;
}

export function defaultOutFile(now = new Date()): string {
  return `agenttap-${localDate(now)}.jsonl`;
}

export async function startCaptureProxy(opts: CaptureProxyOptions = {}): Promise<CaptureProxy> {
  // Order: the cheap checks that fail with a clear message come first.
  const writer = opts.out === false || opts.record === false ? undefined : new CaptureWriter({ file: opts.out ?? defaultOutFile(), rotate: opts.rotate });
  let ca: CertificateAuthority;
  try {
    ca = opts.ca ?? (await loadOrCreateCA(opts.home ?? agenttapHome()));
  } catch (e) {
    await writer?.close();
    throw e;
  }
  const recorder = new Recorder(opts);
  const support =
    opts.protocols === false || opts.extensions
      ? undefined
      : createProtocolSupport({ maxMessage: opts.maxBody, ...opts.protocols, home: opts.home ?? agenttapHome(), insecureUpstream: opts.insecureUpstream, upstreamCa: opts.upstreamCa, base: opts.connector });
  let proxy: ProxyServer;
  try {
    proxy = await startProxy({
      ca,
      port: opts.port,
      host: opts.host,
      reverse: opts.reverse,
      mapRemote: opts.mapRemote,
      insecureUpstream: opts.insecureUpstream,
      upstreamCa: opts.upstreamCa,
      connector: support?.connector ?? opts.connector,
      extensions: support?.extensions ?? opts.extensions,
      wire: opts.wire,
    });
  } catch (e) {
    await writer?.close();
    throw e;
  }
  support?.bind(proxy);
  capYoungGeneration(); // a long-running proxy: see release-memory.ts
  if (opts.record !== false) recorder.attach(proxy);
  if (writer) recorder.on('record', (r: CaptureRecord) => writer.write(r));
  let closing: Promise<void> | undefined;
  return {
    proxy,
    recorder,
    writer,
    ca,
    get outFile() {
      return writer?.currentFile;
    },
    address: proxy.address,
    reverseListeners: proxy.reverseListeners,
    close() {
      closing ??= (async () => {
        await proxy.close();
        await recorder.flush();
        await writer?.close();
      })();
      return closing;
    },
  };
}
