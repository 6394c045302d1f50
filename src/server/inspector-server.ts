// The inspector server: serves the built web UI and a small JSON + WebSocket API over one
// capture (a file, or a live proxy's recorder). Loopback only unless the user insists; every
// data request needs the random token printed at start; a strict CSP keeps untrusted bodies inert.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EventEmitter } from 'node:events';
import { WebSocketServer, WebSocket } from 'ws';
import type { CaptureRecord } from '../capture/record.js';
import type { RecordUpdate } from '../capture/recorder.js';
import { LivePartials } from './live-partials.js';
import { ExchangeStore } from './exchange-store.js';
import { loadLlmLayer } from '../analysis/llm-layer.js';
import { buildDetail, fullBody } from './exchange-detail.js';
import { harText } from './har-export.js';
import { SessionRecorder, SessionError } from './session-recorder.js';
import { replayThroughProxy, ReplayError } from './replay.js';
import { readAnnotations, writeAnnotation, type Annotations } from '../analysis/annotations.js';
import { EXCHANGE_ID_PATTERN, MAX_NOTE_LENGTH, STORE_PATTERN } from './path-params.js';
import type { ClientMessage, Row, ServerMessage, StoreInfo } from './protocol.js';

export interface LiveSource {
  /** The capture proxy's recorder: 'record' (finished CaptureRecord) and 'update' (RecordUpdate). */
  recorder: EventEmitter;
  /** The capture file the proxy writes, so evicted exchanges can be read back. */
  outFile?: string;
  /** With a rotating writer: the file records go to now (read-back follows it). */
  currentOutFile?: () => string | undefined;
  /** The proxy's own address (http://127.0.0.1:8080), for Replay. */
  proxyUrl?: string;
  caPem?: string;
}

export interface InspectorOptions {
  /** A capture file to open (file mode). */
  file?: string;
  live?: LiveSource;
  host?: string;
  port?: number;
  /** Allow a non-loopback host (the CLI's --ui-host, which prints a warning). */
  allowRemote?: boolean;
  /** Full records kept in memory (default 5000). */
  bufferSize?: number;
  /** $AGENTTAP_HOME: sessions are saved under <home>/sessions. */
  home: string;
  token?: string;
  /** Directory of the built UI (default: dist/ui of this package). */
  uiDir?: string;
  version?: string;
  /** Progress while a capture file is indexed. */
  onProgress?: (bytes: number) => void;
  /** Start serving before the capture file is indexed (the page shows progress). */
  background?: boolean;
}

export interface InspectorServer {
  url: string;
  port: number;
  host: string;
  token: string;
  store: ExchangeStore;
  /** Resolves when the capture file is indexed (at once unless `background`). */
  ready: Promise<void>;
  close(): Promise<void>;
}

export class InspectorError extends Error {
  constructor(
    readonly code: 'not-loopback' | 'port-in-use' | 'no-ui',
    message: string,
  ) {
    super(message);
    this.name = 'InspectorError';
  }
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);
export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function defaultUiDir(): string {
  // dist/src/server/inspector-server.js → dist/ui
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../ui');
}

interface StoreEntry {
  store: ExchangeStore;
  info: StoreInfo;
  annotations: Annotations;
  annotationsFile?: string;
}

interface Client {
  ws: WebSocket;
  store: string;
  watch?: string;
  detailTimer?: NodeJS.Timeout;
  detailPending?: boolean;
  detailBusy?: boolean;
}

export async function startInspector(options: InspectorOptions): Promise<InspectorServer> {
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackHost(host) && !options.allowRemote) {
    throw new InspectorError('not-loopback', `refusing to serve the inspector on ${host}: it shows every captured secret; pass --ui-host to allow it`);
  }
  const uiDir = options.uiDir ?? defaultUiDir();
  const indexHtml = await readFile(join(uiDir, 'index.html'), 'utf8').catch(() => {
    throw new InspectorError('no-ui', `the web UI is not built (${join(uiDir, 'index.html')} is missing): run npm run build`);
  });
  const token = options.token ?? randomBytes(24).toString('base64url');
  const tokenBuf = Buffer.from(token);
  const bufferSize = options.bufferSize ?? 5000;
  const llm = await loadLlmLayer();
  const version = options.version ?? '0';

  // --- stores -------------------------------------------------------------------------
  const mainFile = options.file ?? options.live?.outFile;
  const mainAnnotations: Annotations = mainFile ? readAnnotations(mainFile) : {};
  const main: StoreEntry = {
    store: new ExchangeStore({
      bufferSize,
      llm,
      ...(options.live?.currentOutFile ? { file: options.live.currentOutFile } : mainFile ? { file: mainFile } : {}),
      hasNote: (id) => id in mainAnnotations,
    }),
    info: {
      store: 'main',
      title: options.file ?? (options.live ? (options.live.outFile ? `→ ${options.live.outFile}` : 'in memory') : 'saved sessions only'),
      live: Boolean(options.live),
      ...(mainFile ? { file: mainFile } : {}),
      canReplay: Boolean(options.live?.proxyUrl),
    },
    annotations: mainAnnotations,
    ...(mainFile ? { annotationsFile: mainFile } : {}),
  };
  let fileSize = 0;
  let indexedBytes = 0;
  let indexing = false;
  let progressTimer: NodeJS.Timeout | undefined;
  const stores = new Map<string, StoreEntry>([['main', main]]);
  const sessions = new SessionRecorder(join(options.home, 'sessions'), main.store);

  async function storeEntry(name: string): Promise<StoreEntry> {
    if (!STORE_PATTERN.test(name)) throw new HttpError(400, 'bad store name');
    const known = stores.get(name);
    if (known) return known;
    const id = name.slice('session-'.length);
    let meta;
    try {
      meta = await sessions.metaOf(id);
    } catch {
      throw new HttpError(404, 'no such session');
    }
    const file = sessions.fileOf(id);
    const annotations = readAnnotations(file);
    const store = new ExchangeStore({ bufferSize, llm, file, hasNote: (x) => x in annotations });
    await store.loadFile();
    const entry: StoreEntry = { store, info: { store: name, title: meta.name, live: false, file, canReplay: false }, annotations, annotationsFile: file };
    // Keep a few reopened sessions; the oldest reopened one is dropped first.
    const sessionNames = [...stores.keys()].filter((k) => k !== 'main');
    if (sessionNames.length >= 4) stores.delete(sessionNames[0]!);
    stores.set(name, entry);
    wireStore(entry);
    return entry;
  }

  // --- WebSocket fan-out, batched so 200+ exchanges/s cost a few messages per second ----------
  const clients = new Set<Client>();
  const pending = new Map<string, { new: Map<number, Row>; update: Map<number, Row> }>();
  let flushTimer: NodeJS.Timeout | undefined;

  function send(c: Client, msg: ServerMessage): void {
    if (c.ws.readyState === WebSocket.OPEN) c.ws.send(JSON.stringify(msg));
  }

  function flush(): void {
    flushTimer = undefined;
    // The recording's count moves with the traffic.
    if (sessions.state && pending.has('main')) broadcastRecording();
    for (const [storeName, p] of pending) {
      const msg: ServerMessage = { type: 'batch', new: [...p.new.values()], update: [...p.update.values()] };
      const text = JSON.stringify(msg);
      for (const c of clients) if (c.store === storeName && c.ws.readyState === WebSocket.OPEN) c.ws.send(text);
    }
    pending.clear();
  }

  function queue(storeName: string, kind: 'new' | 'update', row: Row): void {
    let p = pending.get(storeName);
    if (!p) pending.set(storeName, (p = { new: new Map(), update: new Map() }));
    if (kind === 'update' && p.new.has(row.seq)) p.new.set(row.seq, row);
    else p[kind].set(row.seq, row);
    flushTimer ??= setTimeout(flush, 50);
    for (const c of clients) if (c.store === storeName && c.watch === row.id) scheduleDetail(c);
  }

  function scheduleDetail(c: Client): void {
    if (c.detailTimer || c.detailBusy) {
      c.detailPending = true;
      return;
    }
    // The whole detail is resent while a stream grows: 10 times a second for a small one, less
    // often when the conversation is big (a long agent history is megabytes per push).
    c.detailBusy = true;
    void pushDetail(c).then((bytes) => {
      c.detailBusy = false;
      if (!clients.has(c)) return;
      c.detailTimer = setTimeout(
        () => {
          c.detailTimer = undefined;
          if (c.detailPending) {
            c.detailPending = false;
            scheduleDetail(c);
          }
        },
        bytes > 1 << 20 ? 1000 : bytes > 256 << 10 ? 400 : 100,
      );
    });
  }

  async function pushDetail(c: Client): Promise<number> {
    const id = c.watch;
    if (!id) return 0;
    const entry = stores.get(c.store);
    if (!entry) return 0;
    const detail = await buildDetail(entry.store, llm, id, entry.annotations[id]).catch(() => undefined);
    if (!detail || c.watch !== id || c.ws.readyState !== WebSocket.OPEN) return 0;
    const text = JSON.stringify({ type: 'detail', id, detail } satisfies ServerMessage);
    c.ws.send(text);
    return text.length;
  }

  function wireStore(entry: StoreEntry): void {
    const name = entry.info.store;
    entry.store.on('new', (row) => queue(name, 'new', row));
    entry.store.on('update', (row) => queue(name, 'update', row));
    entry.store.on('clear', () => {
      pending.delete(name);
      for (const c of clients) if (c.store === name) send(c, { type: 'clear' });
    });
    entry.store.on('bad', (bad) => {
      for (const c of clients) if (c.store === name) send(c, { type: 'bad', bad });
    });
  }
  wireStore(main);

  // In-flight updates can come per chunk; each one re-normalizes the partial stream, so the
  // latest state of each exchange is built and applied at most every 100 ms.
  const partials = new Map<string, () => CaptureRecord>();
  let partialTimer: NodeJS.Timeout | undefined;
  const applyPartial = (build: () => CaptureRecord): void => {
    try {
      main.store.update(build());
    } catch {
      /* one odd record never takes the inspector down */
    }
  };
  const applyPartials = (): void => {
    partialTimer = undefined;
    const batch = [...partials.values()];
    partials.clear();
    for (const build of batch) applyPartial(build);
  };
  const live = new LivePartials((id, build) => {
    // The first sight of an exchange shows at once; later changes are coalesced.
    if (!main.store.rowById(id)) return applyPartial(build);
    partials.set(id, build);
    partialTimer ??= setTimeout(applyPartials, 100);
  });
  const onRecord = (record: CaptureRecord): void => {
    partials.delete(record.id);
    live.finish(record.id);
    try {
      main.store.add(record);
    } catch {
      /* as above */
    }
  };
  const onUpdate = (update: RecordUpdate): void => {
    try {
      live.apply(update);
    } catch {
      /* a malformed update costs only the live preview */
    }
  };
  options.live?.recorder.on('record', onRecord);
  options.live?.recorder.on('update', onUpdate);

  function progress(): { bytes: number; total: number; rows: number } | undefined {
    return indexing ? { bytes: indexedBytes, total: fileSize, rows: main.store.size } : undefined;
  }

  function broadcastProgress(): void {
    const p = progress();
    if (!p) return;
    const text = JSON.stringify({ type: 'progress', ...p } satisfies ServerMessage);
    for (const c of clients) if (c.store === 'main' && c.ws.readyState === WebSocket.OPEN) c.ws.send(text);
  }

  function snapshot(entry: StoreEntry): ServerMessage {
    const rows = entry.store.rowsBefore(undefined, bufferSize);
    const rec = entry === main ? sessions.state : undefined;
    const loading = entry === main ? progress() : undefined;
    return {
      type: 'snapshot',
      ...(loading ? { loading } : {}),
      info: entry.info,
      rows,
      older: entry.store.size - rows.length,
      total: entry.store.size,
      bad: entry.store.bad,
      ...(rec ? { recording: rec } : {}),
    };
  }

  function broadcastRecording(): void {
    const recording = sessions.state;
    for (const c of clients) send(c, { type: 'recording', ...(recording ? { recording } : {}) });
  }

  // --- HTTP ------------------------------------------------------------------------------
  function hasToken(req: IncomingMessage, url: URL): boolean {
    const auth = req.headers.authorization;
    const given = auth?.startsWith('Bearer ') ? auth.slice(7) : (url.searchParams.get('token') ?? '');
    const buf = Buffer.from(given);
    return buf.length === tokenBuf.length && timingSafeEqual(buf, tokenBuf);
  }

  let boundPort = 0;
  function hostAllowed(req: IncomingMessage): boolean {
    // DNS rebinding: a page on evil.example resolving to 127.0.0.1 must not reach us.
    const h = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    return isLoopbackHost(h) || h === host || Boolean(options.allowRemote);
  }

  function securityHeaders(res: ServerResponse): void {
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
  }

  function json(res: ServerResponse, status: number, value: unknown, extra: Record<string, string> = {}): void {
    const body = JSON.stringify(value);
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...extra });
    res.end(body);
  }

  function sendHar(res: ServerResponse, text: string, name: string): void {
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Disposition': `attachment; filename="${name}"`, 'Cache-Control': 'no-store' });
    res.end(text);
  }

  async function readJson(req: IncomingMessage, limit = 32 << 20): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      size += c.length;
      if (size > limit) throw new HttpError(413, 'request body too large');
      chunks.push(c);
    }
    if (size === 0) return {};
    try {
      const v = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
      return v as Record<string, unknown>;
    } catch {
      throw new HttpError(400, 'body must be a JSON object');
    }
  }

  async function recordsOf(entry: StoreEntry, ids: readonly string[]): Promise<CaptureRecord[]> {
    const out: CaptureRecord[] = [];
    for (const id of ids) {
      const r = await entry.store.get(id);
      if (r) out.push(r);
    }
    return out;
  }

  async function serveStatic(res: ServerResponse, path: string): Promise<void> {
    const rel = decodeURIComponent(path).replace(/^\/+/, '');
    const full = resolve(uiDir, rel);
    if (!full.startsWith(resolve(uiDir) + sep) || rel.includes('\0')) throw new HttpError(404, 'not found');
    const st = await stat(full).catch(() => undefined);
    if (!st?.isFile()) throw new HttpError(404, 'not found');
    res.writeHead(200, {
      'Content-Type': MIME[extname(full)] ?? 'application/octet-stream',
      'Content-Length': st.size,
      'Cache-Control': 'public, max-age=31536000, immutable',
    });
    createReadStream(full).pipe(res);
  }

  async function api(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const parts = url.pathname.split('/').filter(Boolean).slice(1); // drop "api"
    const method = req.method ?? 'GET';
    if (parts[0] === 'info' && method === 'GET') return json(res, 200, { version, info: main.info, recording: sessions.state ?? null });

    if (parts[0] === 'sessions') {
      if (parts.length === 1 && method === 'GET') return json(res, 200, await sessions.list());
      if (parts.length === 1 && method === 'POST') {
        const body = await readJson(req, 64 << 10);
        const rec = sessions.start(typeof body.name === 'string' ? body.name : '');
        broadcastRecording();
        return json(res, 200, rec);
      }
      if (parts.length === 2 && parts[1] === 'stop' && method === 'POST') {
        const meta = await sessions.stop();
        broadcastRecording();
        return json(res, 200, meta);
      }
      if (parts.length === 3 && method === 'GET' && (parts[2] === 'export.har' || parts[2] === 'export.jsonl')) {
        const id = parts[1]!;
        const file = sessions.fileOf(id);
        const meta = await sessions.metaOf(id);
        const safeName = meta.name.replace(/[^\w.-]+/g, '_').slice(0, 60) || 'session';
        if (parts[2] === 'export.jsonl') {
          res.writeHead(200, { 'Content-Type': 'application/x-ndjson', 'Content-Disposition': `attachment; filename="${safeName}.jsonl"`, 'Cache-Control': 'no-store' });
          createReadStream(file).pipe(res);
          return;
        }
        const entry = await storeEntry(`session-${id}`);
        const records = await recordsOf(entry, entry.store.allRows().map((r) => r.id));
        return sendHar(res, harText(records, llm), `${safeName}.har`);
      }
      throw new HttpError(404, 'not found');
    }

    if (parts[0] === 's' && parts[1]) {
      const entry = await storeEntry(parts[1]);
      const store = entry.store;
      const rest = parts.slice(2);
      if (rest[0] === 'rows' && rest.length === 1 && method === 'GET') {
        const before = url.searchParams.get('before');
        const limit = Math.min(50_000, Math.max(1, Number(url.searchParams.get('limit') ?? 5000) || 5000));
        const rows = store.rowsBefore(before === null ? undefined : Number(before), limit);
        return json(res, 200, { rows, first: store.firstSeq });
      }
      if (rest[0] === 'clear' && method === 'POST') {
        store.clear();
        return json(res, 200, { ok: true });
      }
      if (rest[0] === 'search' && method === 'GET') {
        const q = (url.searchParams.get('q') ?? '').slice(0, 1000);
        const seqs = await store.search(q);
        return json(res, 200, seqs ? { q, seqs } : { q, superseded: true, seqs: [] });
      }
      if (rest[0] === 'export.har' && method === 'POST') {
        const body = await readJson(req);
        const ids = Array.isArray(body.ids) ? body.ids.filter((x): x is string => typeof x === 'string' && EXCHANGE_ID_PATTERN.test(x)) : [];
        const records = await recordsOf(entry, ids);
        return sendHar(res, harText(records, llm), 'agenttap.har');
      }
      if (rest[0] === 'exchanges' && rest[1]) {
        const id = rest[1];
        if (!EXCHANGE_ID_PATTERN.test(id)) throw new HttpError(400, 'not an exchange id');
        if (rest.length === 2 && method === 'GET') {
          const detail = await buildDetail(store, llm, id, entry.annotations[id]);
          if (!detail) throw new HttpError(404, 'no such exchange');
          return json(res, 200, detail);
        }
        if (rest[2] === 'body' && (rest[3] === 'request' || rest[3] === 'response') && method === 'GET') {
          const record = await store.get(id);
          if (!record) throw new HttpError(404, 'no such exchange');
          return json(res, 200, fullBody(record, rest[3]));
        }
        if (rest[2] === 'annotation' && method === 'PUT') {
          if (!entry.annotationsFile) throw new HttpError(409, 'annotations need a capture file');
          if (!store.rowById(id)) throw new HttpError(404, 'no such exchange');
          const body = await readJson(req, 256 << 10);
          const note = typeof body.note === 'string' ? body.note : '';
          if (note.length > MAX_NOTE_LENGTH) throw new HttpError(413, `a note holds at most ${MAX_NOTE_LENGTH} characters`);
          const all = writeAnnotation(entry.annotationsFile, id, note);
          for (const k of Object.keys(entry.annotations)) delete entry.annotations[k];
          Object.assign(entry.annotations, all);
          store.touchNote(id, id in all);
          return json(res, 200, all[id] ?? null);
        }
        if (rest[2] === 'replay' && method === 'POST') {
          const live = options.live;
          if (!live?.proxyUrl || entry !== main) throw new HttpError(409, 'replay needs a live proxy (agenttap proxy --ui)');
          const record = await store.get(id);
          if (!record) throw new HttpError(404, 'no such exchange');
          const r = await replayThroughProxy(record, { proxyUrl: live.proxyUrl, ...(live.caPem ? { caPem: live.caPem } : {}) });
          return json(res, 200, r);
        }
      }
    }
    throw new HttpError(404, 'not found');
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    securityHeaders(res);
    if (!hostAllowed(req)) throw new HttpError(403, 'forbidden host');
    const url = new URL(req.url ?? '/', 'http://inspector.invalid');
    const path = url.pathname;
    // Code (scripts, styles) is public; everything that holds data needs the token.
    if (path.startsWith('/assets/') || path === '/favicon.svg') return serveStatic(res, path);
    if (!hasToken(req, url)) throw new HttpError(401, 'unauthorized: open the URL with the token agenttap printed');
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(indexHtml);
      return;
    }
    if (path.startsWith('/api/')) return api(req, res, url);
    throw new HttpError(404, 'not found');
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const status =
        e instanceof HttpError
          ? e.status
          : e instanceof SessionError
            ? e.code === 'bad-id'
              ? 400
              : e.code === 'not-found'
                ? 404
                : 409
            : e instanceof ReplayError
                ? e.code === 'not-replayable'
                  ? 409
                  : 502
                : 500;
      const message = status === 500 ? 'internal error' : (e as Error).message;
      if (!res.headersSent) json(res, status, { error: message });
      else res.destroy();
    });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 << 10 });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://inspector.invalid');
    const origin = req.headers.origin;
    const originOk = !origin || origin === `http://${req.headers.host}`;
    if (url.pathname !== '/api/ws' || !hostAllowed(req) || !originOk || !hasToken(req, url)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const storeName = url.searchParams.get('store') ?? 'main';
    wss.handleUpgrade(req, socket, head, (ws) => {
      const client: Client = { ws, store: storeName };
      clients.add(client);
      ws.on('close', () => {
        clients.delete(client);
        if (client.detailTimer) clearTimeout(client.detailTimer);
      });
      ws.on('error', () => ws.terminate());
      ws.on('message', (data) => {
        let msg: ClientMessage;
        try {
          msg = JSON.parse(String(data)) as ClientMessage;
        } catch {
          return;
        }
        if (msg.type === 'watch') {
          client.watch = typeof msg.id === 'string' && EXCHANGE_ID_PATTERN.test(msg.id) ? msg.id : undefined;
          if (client.watch) scheduleDetail(client);
        }
      });
      storeEntry(storeName)
        .then((entry) => send(client, snapshot(entry)))
        .catch(() => ws.close(1008, 'no such store'));
    });
  });

  // Indexing a big capture takes seconds: in the background, the page opens at once with the
  // rows read so far and a progress line, and gets the full snapshot when indexing ends.
  const ready: Promise<void> = options.file
    ? (async () => {
        fileSize = (await stat(options.file!)).size;
        indexing = true;
        progressTimer = setInterval(() => broadcastProgress(), 250);
        try {
          await main.store.loadFile((bytes) => {
            indexedBytes = bytes;
            options.onProgress?.(bytes);
          });
        } finally {
          indexing = false;
          clearInterval(progressTimer);
          for (const c of clients) if (c.store === 'main') send(c, snapshot(main));
        }
      })()
    : Promise.resolve();
  ready.catch(() => {});
  if (!options.background) await ready;
  await new Promise<void>((resolvePromise, reject) => {
    const onError = (e: NodeJS.ErrnoException): void => {
      reject(e.code === 'EADDRINUSE' ? new InspectorError('port-in-use', `port ${options.port} is in use: pass another --port (or 0 for any free port)`) : e);
    };
    server.once('error', onError);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', onError);
      resolvePromise();
    });
  });
  boundPort = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const base = `http://${urlHost}:${boundPort}/`;

  return {
    url: `${base}?token=${token}`,
    ready,
    port: boundPort,
    host,
    token,
    store: main.store,
    async close() {
      options.live?.recorder.off('record', onRecord);
      options.live?.recorder.off('update', onUpdate);
      sessions.dispose();
      if (progressTimer) clearInterval(progressTimer);
      if (flushTimer) clearTimeout(flushTimer);
      if (partialTimer) clearTimeout(partialTimer);
      live.clear();
      for (const c of clients) {
        if (c.detailTimer) clearTimeout(c.detailTimer);
        c.ws.terminate();
      }
      clients.clear();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
