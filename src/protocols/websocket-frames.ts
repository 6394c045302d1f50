// WebSocket (RFC 6455) frames and messages, read off a copy of the wire for the record.
// The proxy forwards the original bytes untouched; this module only observes them: it parses
// frames incrementally, unmasks, reassembles fragmented messages, inflates permessage-deflate
// (RFC 7692) with one inflate context per direction, and reports protocol violations.
import { createInflateRaw, constants as zc, type InflateRaw } from 'node:zlib';

export type WsSide = 'client' | 'server';

export const WsOpcode = { Continuation: 0x0, Text: 0x1, Binary: 0x2, Close: 0x8, Ping: 0x9, Pong: 0xa } as const;

export interface WsFrame {
  fin: boolean;
  rsv1: boolean;
  opcode: number;
  masked: boolean;
  /** Unmasked payload (at most `keepBytes` of it; see `payloadLength`). */
  payload: Buffer;
  /** The payload length the frame declared. */
  payloadLength: number;
  /** Header + payload bytes on the wire. */
  wireLength: number;
}

/** A protocol violation: `closeCode` is what a conforming peer closes with (1002, 1007, 1009). */
export class WsProtocolError extends Error {
  readonly code = 'WS_PROTOCOL_ERROR';
  constructor(
    message: string,
    readonly closeCode: number = 1002,
  ) {
    super(message);
    this.name = 'WsProtocolError';
  }
}

export interface FrameParserOptions {
  /** Who sends these frames: clients must mask, servers must not. */
  from: WsSide;
  /** permessage-deflate was negotiated, so RSV1 may mark a compressed message. */
  deflate: boolean;
  /** Payload bytes kept per frame for the record; the rest is counted, not kept. */
  keepBytes?: number;
}

/**
 * Incremental frame parser. `push` returns the frames completed by the chunk and throws
 * WsProtocolError on the first violation (the stream cannot be resynchronised after that).
 */
export class WsFrameParser {
  private buf: Buffer = Buffer.alloc(0);
  private readonly keepBytes: number;
  // State of a frame whose payload is still arriving.
  private cur?: { frame: WsFrame; mask?: Buffer; kept: Buffer[]; keptLen: number; remaining: number; offset: number };

  constructor(private readonly opts: FrameParserOptions) {
    this.keepBytes = opts.keepBytes ?? 64 * 1024 * 1024;
  }

  push(chunk: Buffer): WsFrame[] {
    const out: WsFrame[] = [];
    let data = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    this.buf = Buffer.alloc(0);
    for (;;) {
      if (this.cur) {
        const take = Math.min(this.cur.remaining, data.length);
        if (take > 0) this.keepPayload(data.subarray(0, take));
        data = data.subarray(take);
        if (this.cur.remaining > 0) break;
        const { frame, kept } = this.cur;
        frame.payload = kept.length === 1 ? kept[0]! : Buffer.concat(kept);
        this.cur = undefined;
        out.push(frame);
        continue;
      }
      const head = this.readHeader(data);
      if (!head) {
        this.buf = Buffer.from(data);
        break;
      }
      data = data.subarray(head.headerLength);
    }
    return out;
  }

  private keepPayload(part: Buffer): void {
    const cur = this.cur!;
    const room = this.keepBytes - cur.keptLen;
    if (room > 0) {
      const piece = Buffer.from(part.subarray(0, room));
      if (cur.mask) for (let i = 0; i < piece.length; i++) piece[i]! ^= cur.mask[(cur.offset + i) & 3]!;
      cur.kept.push(piece);
      cur.keptLen += piece.length;
    }
    cur.offset += part.length;
    cur.remaining -= part.length;
  }

  private readHeader(data: Buffer): { headerLength: number } | undefined {
    if (data.length < 2) return undefined;
    const b0 = data[0]!;
    const b1 = data[1]!;
    const masked = (b1 & 0x80) !== 0;
    let len = b1 & 0x7f;
    let pos = 2;
    if (len === 126) {
      if (data.length < 4) return undefined;
      len = data.readUInt16BE(2);
      pos = 4;
    } else if (len === 127) {
      if (data.length < 10) return undefined;
      const hi = data.readUInt32BE(2);
      if (hi & 0x80000000) throw new WsProtocolError('invalid 64-bit payload length (most significant bit set)');
      if (hi > 0x1fffff) throw new WsProtocolError('payload length beyond 2^53', 1009);
      len = hi * 2 ** 32 + data.readUInt32BE(6);
      pos = 10;
    }
    const maskStart = pos;
    if (masked) pos += 4;
    if (data.length < pos) return undefined;

    const fin = (b0 & 0x80) !== 0;
    const rsv1 = (b0 & 0x40) !== 0;
    const opcode = b0 & 0x0f;
    if (b0 & 0x30) throw new WsProtocolError('RSV2/RSV3 bits set without a negotiated extension');
    if (rsv1 && !this.opts.deflate) throw new WsProtocolError('RSV1 bit set without permessage-deflate');
    const control = opcode >= 0x8;
    if (![0x0, 0x1, 0x2, 0x8, 0x9, 0xa].includes(opcode)) throw new WsProtocolError(`reserved opcode 0x${opcode.toString(16)}`);
    if (control && !fin) throw new WsProtocolError('fragmented control frame');
    if (control && len > 125) throw new WsProtocolError('control frame payload longer than 125 bytes');
    if (control && rsv1) throw new WsProtocolError('RSV1 bit set on a control frame');
    if (this.opts.from === 'client' && !masked) throw new WsProtocolError('unmasked frame from the client');
    if (this.opts.from === 'server' && masked) throw new WsProtocolError('masked frame from the server');

    const frame: WsFrame = { fin, rsv1, opcode, masked, payload: Buffer.alloc(0), payloadLength: len, wireLength: pos + len };
    this.cur = { frame, kept: [], keptLen: 0, remaining: len, offset: 0 };
    if (masked) this.cur.mask = Buffer.from(data.subarray(maskStart, maskStart + 4));
    return { headerLength: pos };
  }
}

export interface WsMessageOut {
  from: WsSide;
  type: 'text' | 'binary' | 'ping' | 'pong' | 'close';
  /** Payload after reassembly and inflation (the kept head when truncated). */
  data: Buffer;
  /** Payload size after inflation. */
  size: number;
  /** Payload bytes on the wire when the message was compressed. */
  wireSize?: number;
  truncated?: boolean;
  close?: { code: number; reason: string };
  /** Arrival time of the message's last frame, as given to `push`. */
  t: number;
}

export interface DeflateParams {
  /** This direction's sender resets its compressor after each message. */
  noContextTakeover: boolean;
}

/** Parse `Sec-WebSocket-Extensions` of a 101 response: what each direction compresses with. */
export function negotiatedDeflate(extensionsHeader: string | undefined): { client: DeflateParams; server: DeflateParams } | undefined {
  if (!extensionsHeader) return undefined;
  for (const ext of extensionsHeader.split(',')) {
    const [name, ...params] = ext.split(';').map((s) => s.trim());
    if (name?.toLowerCase() !== 'permessage-deflate') continue;
    const keys = new Set(params.map((p) => p.split('=')[0]!.trim().toLowerCase()));
    return {
      client: { noContextTakeover: keys.has('client_no_context_takeover') },
      server: { noContextTakeover: keys.has('server_no_context_takeover') },
    };
  }
  return undefined;
}

const VALID_CLOSE = (code: number) =>
  (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);

const utf8 = new TextDecoder('utf-8', { fatal: true });
function validUtf8(b: Buffer): boolean {
  try {
    utf8.decode(b);
    return true;
  } catch {
    return false;
  }
}

export interface WsStreamDecoderOptions {
  from: WsSide;
  deflate?: DeflateParams;
  /** Bytes kept per message for the record. */
  keepBytes?: number;
  onMessage(msg: WsMessageOut): void;
  /** Called once, on the first violation; the decoder ignores all later input. */
  onError(err: WsProtocolError): void;
}

/**
 * One direction of a WebSocket connection, from wire chunks to messages, in order.
 * Inflation is asynchronous (zlib), so messages are delivered through a queue that keeps
 * their order; the arrival time of each message is taken when its last frame arrives.
 */
export class WsStreamDecoder {
  private readonly parser: WsFrameParser;
  private readonly keepBytes: number;
  // `failed`: input stops being parsed; `queueDead`: queued deliveries stop (an inflate failure).
  private failed = false;
  private queueDead = false;
  private closed = false;
  private frag?: { type: 'text' | 'binary'; compressed: boolean; parts: Buffer[]; len: number; wire: number; truncated: boolean };
  private inflater?: InflateRaw;
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly opts: WsStreamDecoderOptions) {
    this.keepBytes = opts.keepBytes ?? 16 * 1024 * 1024;
    this.parser = new WsFrameParser({ from: opts.from, deflate: !!opts.deflate, keepBytes: this.keepBytes });
  }

  /** Feed a copy of the bytes one side sent, with their arrival time. */
  push(chunk: Buffer, t: number): void {
    if (this.failed) return;
    let frames: WsFrame[];
    try {
      frames = this.parser.push(chunk);
      for (const f of frames) this.onFrame(f, t);
    } catch (e) {
      this.fail(e instanceof WsProtocolError ? e : new WsProtocolError(String(e)));
    }
  }

  /** Resolves when every message pushed so far has been delivered. */
  drain(): Promise<void> {
    return this.queue;
  }

  /** True when bytes of an unfinished frame or message are pending. */
  get pending(): boolean {
    return !!this.frag;
  }

  dispose(): void {
    this.inflater?.close();
    this.inflater = undefined;
  }

  private fail(err: WsProtocolError): void {
    if (this.failed) return;
    this.failed = true;
    this.queue = this.queue.then(() => {
      if (this.queueDead) return;
      this.queueDead = true;
      this.opts.onError(err);
    });
  }

  private onFrame(f: WsFrame, t: number): void {
    if (this.closed) throw new WsProtocolError('frame after a close frame');
    const truncatedFrame = f.payload.length < f.payloadLength;
    if (f.opcode >= 0x8) {
      const type = f.opcode === WsOpcode.Close ? 'close' : f.opcode === WsOpcode.Ping ? 'ping' : 'pong';
      const msg: WsMessageOut = { from: this.opts.from, type, data: f.payload, size: f.payloadLength, t };
      if (type === 'close') {
        this.closed = true;
        if (f.payload.length === 1) throw new WsProtocolError('close frame with a 1-byte payload');
        if (f.payload.length >= 2) {
          const code = f.payload.readUInt16BE(0);
          if (!VALID_CLOSE(code)) throw new WsProtocolError(`invalid close code ${code}`);
          const reason = f.payload.subarray(2);
          if (!validUtf8(reason)) throw new WsProtocolError('close reason is not valid UTF-8', 1007);
          msg.close = { code, reason: reason.toString('utf8') };
        } else {
          msg.close = { code: 1005, reason: '' };
        }
      }
      this.deliver(msg);
      return;
    }
    if (f.opcode === WsOpcode.Continuation) {
      if (!this.frag) throw new WsProtocolError('continuation frame without a message in progress');
      if (f.rsv1) throw new WsProtocolError('RSV1 bit set on a continuation frame');
    } else {
      if (this.frag) throw new WsProtocolError('new data frame while a fragmented message is in progress');
      this.frag = { type: f.opcode === WsOpcode.Text ? 'text' : 'binary', compressed: f.rsv1, parts: [], len: 0, wire: 0, truncated: false };
    }
    const m = this.frag!;
    m.wire += f.payloadLength;
    if (m.len < this.keepBytes) {
      const piece = f.payload.subarray(0, this.keepBytes - m.len);
      m.parts.push(piece);
      m.len += piece.length;
    }
    if (truncatedFrame || m.wire > m.len) m.truncated = true;
    if (!f.fin) return;
    this.frag = undefined;
    const raw = m.parts.length === 1 ? m.parts[0]! : Buffer.concat(m.parts);
    if (!m.compressed) {
      if (m.type === 'text' && !m.truncated && !validUtf8(raw)) throw new WsProtocolError('text message is not valid UTF-8', 1007);
      this.deliver({ from: this.opts.from, type: m.type, data: raw, size: m.wire, t, ...(m.truncated ? { truncated: true } : {}) });
      return;
    }
    // Inflate in order with the other messages of this direction.
    const type = m.type;
    const wire = m.wire;
    const truncated = m.truncated;
    this.queue = this.queue.then(async () => {
      if (this.queueDead) return;
      let data: Buffer;
      let size: number;
      try {
        ({ data, size } = await this.inflate(raw, truncated));
      } catch (e) {
        this.failed = this.queueDead = true;
        this.opts.onError(new WsProtocolError(`permessage-deflate: ${(e as Error).message}`, 1007));
        return;
      }
      if (type === 'text' && !truncated && size <= this.keepBytes && !validUtf8(data)) {
        this.failed = this.queueDead = true;
        this.opts.onError(new WsProtocolError('text message is not valid UTF-8', 1007));
        return;
      }
      const kept = size > this.keepBytes ? data.subarray(0, this.keepBytes) : data;
      this.opts.onMessage({ from: this.opts.from, type, data: kept, size, wireSize: wire, t, ...(truncated || size > this.keepBytes ? { truncated: true } : {}) });
    });
  }

  private deliver(msg: WsMessageOut): void {
    this.queue = this.queue.then(() => {
      if (!this.queueDead) this.opts.onMessage(msg);
    });
  }

  /** RFC 7692 7.2.2: append 00 00 ff ff and inflate with a sync flush. */
  private inflate(payload: Buffer, truncated: boolean): Promise<{ data: Buffer; size: number }> {
    const reset = this.opts.deflate?.noContextTakeover ?? false;
    if (!this.inflater || reset) {
      this.inflater?.close();
      this.inflater = createInflateRaw({ windowBits: 15 });
    }
    const inf = this.inflater;
    const out: Buffer[] = [];
    let total = 0;
    const limit = this.keepBytes + 1;
    return new Promise((resolve, reject) => {
      const onData = (d: Buffer) => {
        if (total < limit) out.push(d);
        total += d.length;
      };
      const onError = (e: Error) => {
        cleanup();
        // A broken context cannot be used for the next message.
        this.inflater = undefined;
        reject(e);
      };
      const cleanup = () => {
        inf.off('data', onData);
        inf.off('error', onError);
      };
      inf.on('data', onData);
      inf.on('error', onError);
      inf.write(payload);
      // A truncated message (beyond keepBytes) cannot be completed; inflate what we kept.
      if (!truncated) inf.write(Buffer.from([0x00, 0x00, 0xff, 0xff]));
      inf.flush(zc.Z_SYNC_FLUSH, () => {
        cleanup();
        const buf = Buffer.concat(out);
        if (truncated) {
          // The context is out of step with the sender's from here; start over next time.
          this.inflater?.close();
          this.inflater = undefined;
        }
        resolve({ data: buf, size: total });
      });
    });
  }
}

/** Build one frame (tests and tools): masks when `mask` is given. */
export function encodeFrame(opts: { opcode: number; payload: Buffer; fin?: boolean; rsv1?: boolean; mask?: Buffer }): Buffer {
  const { opcode, payload, fin = true, rsv1 = false, mask } = opts;
  const len = payload.length;
  const ext = len < 126 ? 0 : len < 65536 ? 2 : 8;
  const head = Buffer.alloc(2 + ext + (mask ? 4 : 0));
  head[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  head[1] = (mask ? 0x80 : 0) | (ext === 0 ? len : ext === 2 ? 126 : 127);
  if (ext === 2) head.writeUInt16BE(len, 2);
  if (ext === 8) {
    head.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
    head.writeUInt32BE(len >>> 0, 6);
  }
  let body = payload;
  if (mask) {
    mask.copy(head, 2 + ext);
    body = Buffer.from(payload);
    for (let i = 0; i < body.length; i++) body[i]! ^= mask[i & 3]!;
  }
  return Buffer.concat([head, body]);
}
