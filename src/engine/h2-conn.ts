// One HTTP/2 connection on a raw socket (RFC 9113), either role: frames in and out, HPACK,
// SETTINGS, PING, GOAWAY, stream states and flow control both ways. It knows nothing of
// proxying: h2-wire.ts pairs a client-facing stream with an upstream one through the callbacks.
//
// Flow control is end to end: a peer's DATA is credited back (WINDOW_UPDATE) only when the
// consumer says the bytes went on (`consumed`), so a slow reader on one leg slows the writer on
// the other instead of filling the proxy's memory.
import type net from 'node:net';
import { performance } from 'node:perf_hooks';
import {
  CLIENT_PREFACE,
  DEFAULT_MAX_FRAME,
  FLAG,
  FRAME,
  FRAME_HEADER,
  FrameReader,
  frameHeader,
  goawayFrame,
  H2_ERROR,
  H2ConnectionError,
  parseSettings,
  rstStreamFrame,
  SETTING,
  SETTINGS_ACK,
  settingsFrame,
  unpad,
  windowUpdateFrame,
} from './h2-frame.js';
import { HpackDecoder, HpackEncoder, HpackError } from './hpack.js';

/** What we advertise: wide windows so big bodies are not throttled on loopback. */
const STREAM_WINDOW = 4 * 1024 * 1024;
const CONNECTION_WINDOW = 16 * 1024 * 1024;
const MAX_CONCURRENT = 1000;
/**
 * Streams a client may reset per second before it is told ENHANCE_YOUR_CALM: each one costs an
 * upstream stream, so rapid open-and-reset (CVE-2023-44487) would be amplified otherwise.
 */
const MAX_RESETS_PER_SECOND = 500;
/** Unread bytes past which PING and SETTINGS answers are a flood. */
const CONTROL_FLOOD_BYTES = 16 * 1024 * 1024;
/** Socket bytes queued past which credits wait for 'drain' (backpressure to the other leg). */
const SOCKET_HIGH_WATER = 1024 * 1024;
/** Writes of one tick up to this size go out as one buffer (one TLS record run, one syscall). */
const JOIN_LIMIT = 64 * 1024;

export type H2Role = 'server' | 'client';

/** Why a stream ended without a clean end on both sides. */
export interface StreamReset {
  code: number;
  /** 'peer' sent RST_STREAM; 'goaway' refused or cut by GOAWAY; 'connection' lost or broke. */
  by: 'peer' | 'local' | 'goaway' | 'connection';
  /** The connection error when by is 'connection' and there was one. */
  error?: Error;
}

export class H2Stream {
  sendWindow: number;
  /** Peer bytes still allowed on this stream before we credit more. */
  private recvWindow = STREAM_WINDOW;
  private unacked = 0;
  localEnded = false;
  remoteEnded = false;
  closed = false;
  /** Final (non-1xx) response head seen (client role) / sent (server role). */
  headersDone = false;
  private queue: Buffer[] = [];
  private queuedEnd = false;
  private queuedTrailers: readonly string[] | undefined;
  private queuedNeverIndex: readonly string[] | undefined;
  queuedBytes = 0;
  /**
   * Names the peer sent as never-indexed literals in its last header block: a relay must send
   * them on the same way (RFC 7541 6.2.3), so a secret never enters a compression table.
   */
  neverIndexed: readonly string[] | undefined;

  /** Request head (server role) or response heads incl. 1xx (client role). */
  onHeaders?: (headers: string[], endStream: boolean) => void;
  onData?: (chunk: Buffer, endStream: boolean) => void;
  /** Trailers (always with END_STREAM). */
  onTrailers?: (headers: string[]) => void;
  /** Our DATA bytes that went onto the socket (for crediting the other leg). */
  onSent?: (n: number) => void;
  /** Closed: cleanly (reset undefined) or not. */
  onClose?: (reset: StreamReset | undefined) => void;

  constructor(
    readonly conn: H2Connection,
    readonly id: number,
  ) {
    this.sendWindow = conn.peerInitialWindow;
  }

  sendHeaders(headers: readonly string[], endStream: boolean, neverIndex?: readonly string[]): void {
    if (this.closed || this.localEnded) return;
    this.conn.writeHeaders(this.id, headers, endStream, neverIndex);
    if (endStream) this.endLocal();
  }

  /** DATA (split by window and frame size; the rest waits for WINDOW_UPDATE). */
  sendData(chunk: Buffer, endStream = false): void {
    if (this.closed || this.localEnded) return;
    if (this.queue.length || this.queuedTrailers) {
      if (chunk.length) this.queue.push(chunk);
      this.queuedBytes += chunk.length;
      if (endStream) this.queuedEnd = true;
      return;
    }
    const rest = this.conn.writeData(this, chunk, endStream);
    if (rest === undefined) {
      if (endStream) this.endLocal();
      return;
    }
    if (rest.length) this.queue.push(rest);
    this.queuedBytes += rest.length;
    if (endStream) this.queuedEnd = true;
    this.conn.blocked.add(this);
  }

  end(): void {
    this.sendData(EMPTY, true);
  }

  /** Trailers end the stream; after any queued DATA. */
  sendTrailers(headers: readonly string[], neverIndex?: readonly string[]): void {
    if (this.closed || this.localEnded) return;
    if (this.queue.length || this.queuedEnd) {
      this.queuedTrailers = headers;
      this.queuedNeverIndex = neverIndex;
      return;
    }
    this.sendHeaders(headers, true, neverIndex);
  }

  /** Window opened: send what waits. */
  flush(): void {
    while (this.queue.length) {
      const chunk = this.queue[0]!;
      const last = this.queue.length === 1;
      const endNow = last && this.queuedEnd && !this.queuedTrailers;
      const rest = this.conn.writeData(this, chunk, endNow);
      if (rest !== undefined) {
        this.queuedBytes -= chunk.length - rest.length;
        this.queue[0] = rest;
        return;
      }
      this.queuedBytes -= chunk.length;
      this.queue.shift();
      if (endNow) {
        this.queuedEnd = false;
        this.endLocal();
        return;
      }
    }
    if (this.queuedTrailers) {
      const t = this.queuedTrailers;
      this.queuedTrailers = undefined;
      this.queuedEnd = false;
      this.sendHeaders(t, true, this.queuedNeverIndex);
    } else if (this.queuedEnd) {
      this.queuedEnd = false;
      if (this.conn.writeData(this, EMPTY, true) === undefined) this.endLocal();
    }
  }

  get hasQueued(): boolean {
    return this.queue.length > 0 || this.queuedEnd || this.queuedTrailers !== undefined;
  }

  /** The consumer passed on `n` bytes of this stream's DATA: the peer may send that much more. */
  consumed(n: number): void {
    if (n <= 0) return;
    this.conn.creditConnection(n);
    if (this.closed || this.remoteEnded) return;
    this.unacked += n;
    if (this.unacked >= STREAM_WINDOW / 2) {
      this.recvWindow += this.unacked;
      this.conn.write(windowUpdateFrame(this.id, this.unacked));
      this.unacked = 0;
    }
  }

  /** Accounts a DATA frame against our window; false when the peer overran it. */
  takeRecv(n: number): boolean {
    if (n > this.recvWindow) return false;
    this.recvWindow -= n;
    return true;
  }

  /** RST_STREAM with `code` (ours); the stream is closed at once. */
  reset(code: number): void {
    if (this.closed) return;
    this.conn.write(rstStreamFrame(this.id, code));
    this.close({ code, by: 'local' });
  }

  endLocal(): void {
    this.localEnded = true;
    if (this.remoteEnded) this.close(undefined);
  }

  endRemote(): void {
    this.remoteEnded = true;
    if (this.localEnded) this.close(undefined);
  }

  close(reset: StreamReset | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.conn.forget(this);
    this.onClose?.(reset);
  }
}

const EMPTY = Buffer.alloc(0);
export const RESOLVED = Promise.resolve();

export interface H2ConnectionOptions {
  role: H2Role;
  /** A new peer stream (server role): its request head. */
  onStream?(stream: H2Stream, headers: string[], endStream: boolean): void;
  /** A connection error we detected (GOAWAY sent) or the peer's GOAWAY with an error code. */
  onError?(err: H2ConnectionError, byPeer: boolean): void;
  /** The socket is gone; every stream has been closed before this. */
  onClose?(): void;
  /** Stream slots opened up (client role: a stream closed or MAX_CONCURRENT_STREAMS grew). */
  onCapacity?(): void;
  /** The peer sent GOAWAY (no new streams on this connection). */
  onGoaway?(lastStreamId: number, code: number): void;
}

export class H2Connection {
  readonly streams = new Map<number, H2Stream>();
  readonly blocked = new Set<H2Stream>();
  private readonly reader: FrameReader;
  private readonly decoder = new HpackDecoder();
  private readonly encoder = new HpackEncoder();
  private out: Buffer[] = [];
  private outBytes = 0;
  private flushScheduled = false;
  private congested = false;
  /** Credits of DATA sent while the socket was backed up: [stream, bytes] pairs. */
  private deferred: Array<H2Stream | number> = [];
  private sendWindow = 65_535;
  private recvWindow = CONNECTION_WINDOW;
  private unackedConn = 0;
  peerInitialWindow = 65_535;
  private peerMaxFrame = DEFAULT_MAX_FRAME;
  /** The peer's MAX_CONCURRENT_STREAMS (unlimited until its SETTINGS say otherwise, RFC 9113 6.5.2). */
  peerMaxStreams = Number.MAX_SAFE_INTEGER;
  private nextId = 1;
  private lastPeerId = 0;
  private prefaceLeft: number;
  private sawSettings = false;
  /** A header block in CONTINUATION frames: its stream, flags and fragments so far. */
  private headerBlock: { sid: number; flags: number; parts: Buffer[]; size: number } | undefined;
  private resetsWindowStart = 0;
  private resetsInWindow = 0;
  goawaySent = false;
  goawayReceived = false;
  peerEnded = false;
  dead = false;
  private readonly onFrame = (type: number, flags: number, sid: number, payload: Buffer) => this.frame(type, flags, sid, payload);

  constructor(
    readonly socket: net.Socket,
    private readonly opts: H2ConnectionOptions,
  ) {
    this.reader = new FrameReader(this.onFrame);
    this.prefaceLeft = opts.role === 'server' ? CLIENT_PREFACE.length : 0;
    if (opts.role === 'client') this.write(CLIENT_PREFACE);
    const ours: Array<[number, number]> = [
      [SETTING.MAX_CONCURRENT_STREAMS, MAX_CONCURRENT],
      [SETTING.INITIAL_WINDOW_SIZE, STREAM_WINDOW],
    ];
    if (opts.role === 'client') ours.unshift([SETTING.ENABLE_PUSH, 0]);
    this.write(settingsFrame(ours));
    this.write(windowUpdateFrame(0, CONNECTION_WINDOW - 65_535));
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    socket.on('drain', () => this.drained());
    socket.on('error', () => {});
    // The peer closed its side: nothing new can be answered here.
    socket.on('end', () => (this.peerEnded = true));
    socket.on('close', () => this.closed());
    // The socket may come paused (peeked for the h2c preface, or waiting for a probe).
    socket.resume();
  }

  get role(): H2Role {
    return this.opts.role;
  }

  get activeStreams(): number {
    return this.streams.size;
  }

  /** Room for one more stream of ours (client role). */
  canOpen(): boolean {
    // One stream before the peer's SETTINGS (a first request is not held up); more only once its
    // MAX_CONCURRENT_STREAMS is known, so none is opened just to be refused.
    const limit = this.sawSettings ? this.peerMaxStreams : 1;
    return !this.dead && !this.peerEnded && !this.goawayReceived && !this.goawaySent && this.streams.size < limit && this.nextId < 0x7fffffff;
  }

  /** A new stream of ours (client role) with its request head sent. */
  open(headers: readonly string[], endStream: boolean, neverIndex?: readonly string[]): H2Stream {
    const id = this.nextId;
    this.nextId += 2;
    const s = new H2Stream(this, id);
    this.streams.set(id, s);
    s.sendHeaders(headers, endStream, neverIndex);
    return s;
  }

  // ---- output ----

  write(buf: Buffer): void {
    if (this.dead) return;
    this.out.push(buf);
    this.outBytes += buf.length;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // A bare promise job: queueMicrotask() would wrap each one in an AsyncResource.
      RESOLVED.then(this.flushOut);
    }
  }

  /** The frame being handled is not the last of its read (more frames of it will follow). */
  get midRead(): boolean {
    return this.reader.more;
  }

  /** Write what is queued now instead of at the end of the turn (the last frame of a read). */
  flushNow(): void {
    if (this.out.length) this.flushOut();
  }

  private readonly flushOut = (): void => {
    this.flushScheduled = false;
    const out = this.out;
    if (!out.length || this.dead) return;
    this.out = [];
    const bytes = this.outBytes;
    this.outBytes = 0;
    if (out.length === 1) this.socket.write(out[0]!);
    else if (bytes <= JOIN_LIMIT) this.socket.write(Buffer.concat(out, bytes));
    else {
      this.socket.cork();
      for (const b of out) this.socket.write(b);
      this.socket.uncork();
    }
    if (this.socket.writableLength > SOCKET_HIGH_WATER) this.congested = true;
  };

  writeHeaders(sid: number, headers: readonly string[], endStream: boolean, neverIndex?: readonly string[]): void {
    const block = this.encoder.encode(headers, neverIndex);
    const max = this.peerMaxFrame;
    const es = endStream ? FLAG.END_STREAM : 0;
    if (block.length <= max) {
      this.write(frameHeader(block.length, FRAME.HEADERS, es | FLAG.END_HEADERS, sid));
      if (block.length) this.write(block);
      return;
    }
    for (let off = 0; off < block.length; off += max) {
      const part = block.subarray(off, Math.min(off + max, block.length));
      const last = off + max >= block.length;
      const type = off === 0 ? FRAME.HEADERS : FRAME.CONTINUATION;
      this.write(frameHeader(part.length, type, (off === 0 ? es : 0) | (last ? FLAG.END_HEADERS : 0), sid));
      this.write(part);
    }
  }

  /**
   * As much of `chunk` as the windows allow, in frames of at most the peer's frame size.
   * Returns undefined when all of it (and END_STREAM) went, else the part that has to wait.
   */
  writeData(stream: H2Stream, chunk: Buffer, endStream: boolean): Buffer | undefined {
    let off = 0;
    const len = chunk.length;
    if (len === 0) {
      this.write(frameHeader(0, FRAME.DATA, endStream ? FLAG.END_STREAM : 0, stream.id));
      return undefined;
    }
    let sent = 0;
    while (off < len) {
      const room = Math.min(this.sendWindow, stream.sendWindow, this.peerMaxFrame, len - off);
      if (room <= 0) break;
      const last = off + room === len;
      this.write(frameHeader(room, FRAME.DATA, last && endStream ? FLAG.END_STREAM : 0, stream.id));
      this.write(off === 0 && last ? chunk : chunk.subarray(off, off + room));
      off += room;
      sent += room;
      this.sendWindow -= room;
      stream.sendWindow -= room;
    }
    if (sent) this.sent(stream, sent);
    return off === len ? undefined : chunk.subarray(off);
  }

  /** Tell the stream's producer its bytes left, unless the socket is backed up (then on drain). */
  private sent(stream: H2Stream, n: number): void {
    if (!stream.onSent) return;
    if (this.congested || this.socket.writableLength + this.outBytes > SOCKET_HIGH_WATER) {
      this.congested = true;
      this.deferred.push(stream, n);
      return;
    }
    stream.onSent(n);
  }

  private drained(): void {
    if (!this.congested) return;
    this.congested = false;
    const d = this.deferred;
    this.deferred = [];
    for (let i = 0; i < d.length; i += 2) (d[i] as H2Stream).onSent?.(d[i + 1] as number);
  }

  creditConnection(n: number): void {
    if (this.dead) return;
    this.unackedConn += n;
    if (this.unackedConn >= CONNECTION_WINDOW / 4) {
      this.recvWindow += this.unackedConn;
      this.write(windowUpdateFrame(0, this.unackedConn));
      this.unackedConn = 0;
    }
  }

  forget(stream: H2Stream): void {
    this.streams.delete(stream.id);
    this.blocked.delete(stream);
    if (this.goawayReceived && this.opts.role === 'client' && !this.streams.size) this.destroySoon();
    else if (this.opts.role === 'client') this.opts.onCapacity?.();
  }

  /** GOAWAY then close once written: graceful (NO_ERROR) or for an error. */
  goaway(code: number, debug = ''): void {
    if (this.dead || this.goawaySent) return;
    this.goawaySent = true;
    this.write(goawayFrame(this.lastPeerId, code, debug));
  }

  /** Send GOAWAY(code), write what is queued and close the socket. */
  fail(code: number, debug: string): void {
    if (this.dead) return;
    this.goaway(code, debug);
    this.flushOut();
    this.dead = true;
    this.socket.end();
    // A peer that never reads must not keep the socket: give the FIN a moment, then destroy.
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  destroy(): void {
    this.flushOut();
    this.dead = true;
    this.socket.destroy();
  }

  // ---- input ----

  private read(chunk: Buffer): void {
    if (this.dead) return;
    try {
      if (this.prefaceLeft) {
        const n = Math.min(this.prefaceLeft, chunk.length);
        const at = CLIENT_PREFACE.length - this.prefaceLeft;
        if (!chunk.subarray(0, n).equals(CLIENT_PREFACE.subarray(at, at + n))) throw new H2ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'the connection did not open with the HTTP/2 client preface');
        this.prefaceLeft -= n;
        if (n === chunk.length) return;
        chunk = chunk.subarray(n);
      }
      this.reader.push(chunk);
    } catch (e) {
      this.connectionError(e);
    }
  }

  private connectionError(e: unknown): void {
    const err = e instanceof H2ConnectionError ? e : e instanceof HpackError ? new H2ConnectionError(H2_ERROR.COMPRESSION_ERROR, e.message) : new H2ConnectionError(H2_ERROR.INTERNAL_ERROR, (e as Error).message);
    if (!(e instanceof H2ConnectionError) && !(e instanceof HpackError)) {
      // Our own bug, not the peer's: surface it rather than blame the peer silently.
      queueMicrotask(() => {
        throw e;
      });
    }
    this.fail(err.h2code, err.message);
    this.opts.onError?.(err, false);
    this.closeAll({ code: err.h2code, by: 'connection', error: err });
  }

  private frame(type: number, flags: number, sid: number, payload: Buffer): void {
    if (this.dead) return;
    if (!this.sawSettings && type !== FRAME.SETTINGS) throw new H2ConnectionError(H2_ERROR.PROTOCOL_ERROR, `the first frame was type ${type}, not SETTINGS`);
    if (this.headerBlock && type !== FRAME.CONTINUATION) throw new H2ConnectionError(H2_ERROR.PROTOCOL_ERROR, `frame type ${type} inside a header block (CONTINUATION expected)`);
    switch (type) {
      case FRAME.DATA:
        return this.dataFrame(flags, sid, payload);
      case FRAME.HEADERS:
        return this.headersFrame(flags, sid, payload);
      case FRAME.CONTINUATION:
        return this.continuationFrame(flags, sid, payload);
      case FRAME.SETTINGS:
        return this.settingsFrame(flags, sid, payload);
      case FRAME.WINDOW_UPDATE:
        return this.windowUpdate(sid, payload);
      case FRAME.RST_STREAM: {
        if (sid === 0) throw new H2ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'RST_STREAM on stream 0');
        if (payload.length !== 4) throw new H2ConnectionError(H2_ERROR.FRAME_SIZE_ERROR, 'RST_STREAM payload is not 4 bytes');
        this.idleCheck(sid, 'RST_STREAM');
        if (this.opts.role === 'server') this.countReset();
        this.streams.get(sid)?.close({ code: payload.readUInt32BE(0), by: 'peer' });
        return;
      }
      case FRAME.PING:
        if (sid !== 0) throw new H2ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'PING on a stream');
        if (payload.length !== 8) throw new H2ConnectionError(H2_ERROR.FRAME_SIZE_ERROR, 'PING payload is not 8 bytes');
        if (!(flags & FLAG.ACK)) {
          this.controlFlood('PING');
          const ack = Buffer.allocUnsafe(FRAME_HEADER + 8);
          frameHeader(8, FRAME.PING, FLAG.ACK, 0).copy(ack);
          payload.copy(ack, FRAME_HEADER);
          this.write(ack);
        }
        return;
      case FRAME.GOAWAY:
        return this.goawayFrame(sid, payload);
      case FRAME.PRIORITY:
        if (sid === 0) throw new H2ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'PRIORITY on stream 0');
        if (payload.length !== 5) throw new H2ConnectionError(H2_ERROR.FRAME_SIZE_ERROR, 'PRIORITY payload is not 5 bytes');
        return;
      case FRAME.PUSH_PROMISE:
        throw new H2ConnectionError(H2_ERROR.PROTOCOL_ERROR, this.opts.role === 'server' ? 'PUSH_PROMISE from a client' : 'PUSH_PROMISE although push is disabled');
      default:
        // Unknown frame types are ignored (RFC 9113 4.1).
        return;
    }
  }

  /** A peer that sends PINGs or SETTINGS without reading our ACKs would grow our send buffer. */
  private controlFlood(what: string): void {
    if (this.socket.writableLength + this.outBytes > CONTROL_FLOOD_BYTES) throw new H2ConnectionError(H2_ERROR.ENHANCE_YOUR_CALM, `${what} flood: ${CONTROL_FLOOD_BYTES} bytes of answers unread`);
  }

  private countReset(): void {
    const now = performance.now();
    if (now - this.resetsWindowStart > 1000) {
      this.resetsWindowStart = now;
      this.resetsInWindow = 0;
    }
    if (++this.resetsInWindow > MAX_RESETS_PER_SECOND) throw new H2ConnectionError(H2_ERROR.ENHANCE_YOUR_CALM, `over ${MAX_RESETS_PER_SECOND} streams reset by the client in one second`);
  }

  /** A frame on a stream that was never opened is a connection error (RFC 9113 5.1). */
  private idleCheck(sid: number, what: string): void {
    const peerOpens = this.opts.role === 'server' ? (sid & 1) === 1 : (sid & 1) === 0;
    const idle = peerOpens ? sid > this.lastPeerId : sid >= this.nextId;
    if (idle) throw new H2ConnectionError(H2_ERROR.PROTOCOL_ERROR, `${what} on idle stream ${sid}`);
  }

  private dataFrame(flags: number, sid: number, payload: Buffer): void {
    if (sid === 0) throw new H2ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'DATA on stream 0');
    const n = payload.length;
    if (n > this.recvWindow) throw new H2ConnectionError(H2_ERROR.FLOW_CONTROL_ERROR, `DATA of ${n} bytes beyond the connection window (${this.recvWindow})`);
    this.recvWindow -= n;
    const s = this.streams.get(sid);
    if (!s || s.remoteEnded || (this.opts.role === 'client' && !s.headersDone)) {
      this.idleCheck(sid, 'DATA');
      // A stream we reset may still have frames in flight: give the connection window back.
      this.creditConnection(n);
      if (s) s.reset(s.remoteEnded ? H2_ERROR.STREAM_CLOSED : H2_ERROR.PROTOCOL_ERROR);
      return;
    }
    if (!s.takeRecv(n)) {
      this.creditConnection(n);
      s.reset(H2_ERROR.FLOW_CONTROL_ERROR);
      return;
    }
    const body = unpad(FRAME.DATA, flags, payload);
    // Padding is flow-controlled but never reaches the consumer: credit it now.
    if (body.length !== n) s.consumed(n - body.length);
    const end = (flags & FLAG.END_STREAM) !== 0;
    if (end) s.remoteEnded = true;
    s.onData?.(body, end);
    if (end) s.endRemote();
  }

  private headersFrame(flags: number, sid: number, payload: Buffer): void {
    if (sid === 0) throw new H2ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'HEADERS on stream 0');
    const fragment = unpad(FRAME.HEADERS, flags, payload);
    if (flags & FLAG.END_HEADERS) return this.headerBlockDone(sid, flags, fragment);
    this.headerBlock = { sid, flags, parts: [Buffer.from(fragment)], size: fragment.length };
  }

  private continuationFrame(flags: number, sid: number, payload: Buffer): void {
    const hb = this.headerBlock;
    if (!hb || hb.sid !== sid) throw new H2ConnectionError(H2_ERROR.PROTOCOL_ERROR, `CONTINUATION on stream ${sid} without a header block in progress`);
    hb.parts.push(Buffer.from(payload));
    hb.size += payload.length;
    if (hb.size > 1024 * 1024) throw new H2ConnectionError(H2_ERROR.ENHANCE_YOUR_CALM, 'header block over 1 MiB');
    if (!(flags & FLAG.END_HEADERS)) return;
    this.headerBlock = undefined;
    this.headerBlockDone(sid, hb.flags, Buffer.concat(hb.parts, hb.size));
  }

  private headerBlockDone(sid: number, flags: number, block: Buffer): void {
    // Always decoded, even for a stream we refuse: the HPACK table is per connection.
    const headers = this.decoder.decode(block);
    const never = this.decoder.lastNeverIndexed;
    const neverIndexed = never.length ? never.slice() : undefined;
    const end = (flags & FLAG.END_STREAM) !== 0;
    const s = this.streams.get(sid);
    if (this.opts.role === 'server') {
      if (!s) {
        if ((sid & 1) === 0) throw new H2ConnectionError(H2_ERROR.PROTOCOL_ERROR, `client opened even stream ${sid}`);
        if (sid <= this.lastPeerId) throw new H2ConnectionError(H2_ERROR.STREAM_CLOSED, `HEADERS on closed stream ${sid}`);
        this.lastPeerId = sid;
        const ns = new H2Stream(this, sid);
        if (this.goawaySent) return void this.write(rstStreamFrame(sid, H2_ERROR.REFUSED_STREAM));
        if (this.streams.size >= MAX_CONCURRENT) return void this.write(rstStreamFrame(sid, H2_ERROR.REFUSED_STREAM));
        this.streams.set(sid, ns);
        ns.neverIndexed = neverIndexed;
        if (end) ns.remoteEnded = true;
        this.opts.onStream?.(ns, headers, end);
        if (end) ns.endRemote();
        return;
      }
      return this.trailers(s, headers, end, neverIndexed);
    }
    if (!s) {
      if ((sid & 1) === 0) throw new H2ConnectionError(H2_ERROR.PROTOCOL_ERROR, `server sent HEADERS on even stream ${sid}`);
      this.idleCheck(sid, 'HEADERS');
      return;
    }
    if (s.remoteEnded || s.headersDone) return this.trailers(s, headers, end, neverIndexed);
    const status = headers[0] === ':status' ? headers[1]! : '';
    if (!(status.length === 3 && status.charCodeAt(0) === 49)) s.headersDone = true;
    if (end) s.remoteEnded = true;
    s.neverIndexed = neverIndexed;
    s.onHeaders?.(headers, end);
    if (end) s.endRemote();
  }

  /** A header block after the (final) head: trailers, which must end the stream. */
  private trailers(s: H2Stream, headers: string[], end: boolean, neverIndexed: readonly string[] | undefined): void {
    if (s.remoteEnded) return s.reset(H2_ERROR.STREAM_CLOSED);
    if (!end) return s.reset(H2_ERROR.PROTOCOL_ERROR);
    s.remoteEnded = true;
    s.neverIndexed = neverIndexed;
    s.onTrailers?.(headers);
    s.endRemote();
  }

  private settingsFrame(flags: number, sid: number, payload: Buffer): void {
    if (sid !== 0) throw new H2ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'SETTINGS on a stream');
    if (flags & FLAG.ACK) {
      if (payload.length) throw new H2ConnectionError(H2_ERROR.FRAME_SIZE_ERROR, 'SETTINGS ACK with a payload');
      return;
    }
    this.sawSettings = true;
    for (const [id, v] of parseSettings(payload)) {
      switch (id) {
        case SETTING.HEADER_TABLE_SIZE:
          this.encoder.setPeerMaxTableSize(v);
          break;
        case SETTING.MAX_CONCURRENT_STREAMS:
          this.peerMaxStreams = v;
          break;
        case SETTING.MAX_FRAME_SIZE:
          this.peerMaxFrame = v;
          break;
        case SETTING.INITIAL_WINDOW_SIZE: {
          const delta = v - this.peerInitialWindow;
          this.peerInitialWindow = v;
          for (const s of this.streams.values()) {
            s.sendWindow += delta;
            if (s.sendWindow > 0x7fffffff) throw new H2ConnectionError(H2_ERROR.FLOW_CONTROL_ERROR, 'SETTINGS_INITIAL_WINDOW_SIZE overflows a stream window');
          }
          break;
        }
      }
    }
    this.controlFlood('SETTINGS');
    this.write(SETTINGS_ACK);
    this.unblock();
    if (this.opts.role === 'client') this.opts.onCapacity?.();
  }

  private windowUpdate(sid: number, payload: Buffer): void {
    if (payload.length !== 4) throw new H2ConnectionError(H2_ERROR.FRAME_SIZE_ERROR, 'WINDOW_UPDATE payload is not 4 bytes');
    const inc = payload.readUInt32BE(0) & 0x7fffffff;
    if (sid === 0) {
      if (inc === 0) throw new H2ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'WINDOW_UPDATE of 0 on the connection');
      this.sendWindow += inc;
      if (this.sendWindow > 0x7fffffff) throw new H2ConnectionError(H2_ERROR.FLOW_CONTROL_ERROR, 'connection window over 2^31-1');
      return this.unblock();
    }
    const s = this.streams.get(sid);
    if (!s) return this.idleCheck(sid, 'WINDOW_UPDATE');
    if (inc === 0) return s.reset(H2_ERROR.PROTOCOL_ERROR);
    s.sendWindow += inc;
    if (s.sendWindow > 0x7fffffff) return s.reset(H2_ERROR.FLOW_CONTROL_ERROR);
    if (s.hasQueued && this.sendWindow > 0) {
      s.flush();
      if (!s.hasQueued) this.blocked.delete(s);
    }
  }

  /** The connection window or settings changed: blocked streams send what they can. */
  private unblock(): void {
    if (!this.blocked.size) return;
    for (const s of this.blocked) {
      if (this.sendWindow <= 0) return;
      s.flush();
      if (!s.hasQueued) this.blocked.delete(s);
    }
  }

  private goawayFrame(sid: number, payload: Buffer): void {
    if (sid !== 0) throw new H2ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'GOAWAY on a stream');
    if (payload.length < 8) throw new H2ConnectionError(H2_ERROR.FRAME_SIZE_ERROR, 'GOAWAY payload under 8 bytes');
    const last = payload.readUInt32BE(0) & 0x7fffffff;
    const code = payload.readUInt32BE(4);
    this.goawayReceived = true;
    this.opts.onGoaway?.(last, code);
    if (code !== H2_ERROR.NO_ERROR) this.opts.onError?.(new H2ConnectionError(code, `peer sent GOAWAY: ${payload.subarray(8).toString('utf8') || 'no reason given'}`), true);
    // Our streams the peer never processed may be retried elsewhere (RFC 9113 6.8).
    if (this.opts.role === 'client') for (const s of [...this.streams.values()]) if (s.id > last) s.close({ code: H2_ERROR.REFUSED_STREAM, by: 'goaway' });
    if (code !== H2_ERROR.NO_ERROR) this.closeAll({ code, by: 'goaway' });
    // An upstream that said GOAWAY is left once our streams are done; a client closes itself.
    if (this.opts.role === 'client' && !this.streams.size) this.destroySoon();
  }

  /** After a GOAWAY, the connection goes once its last stream closed. */
  destroySoon(): void {
    if (this.dead) return;
    this.flushOut();
    this.dead = true;
    this.socket.end();
  }

  private closeAll(reset: StreamReset): void {
    for (const s of [...this.streams.values()]) s.close(reset);
  }

  private closed(): void {
    this.dead = true;
    this.closeAll({ code: H2_ERROR.CANCEL, by: 'connection' });
    this.opts.onClose?.();
  }
}
