// HTTP/2 frames (RFC 9113 section 4 and 6): the 9-byte header, a reader that cuts a byte stream
// into frames at any split, and builders for the frames the raw-socket h2 path writes.

export const FRAME = {
  DATA: 0,
  HEADERS: 1,
  PRIORITY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PUSH_PROMISE: 5,
  PING: 6,
  GOAWAY: 7,
  WINDOW_UPDATE: 8,
  CONTINUATION: 9,
} as const;

export const FLAG = {
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

export const SETTING = {
  HEADER_TABLE_SIZE: 1,
  ENABLE_PUSH: 2,
  MAX_CONCURRENT_STREAMS: 3,
  INITIAL_WINDOW_SIZE: 4,
  MAX_FRAME_SIZE: 5,
  MAX_HEADER_LIST_SIZE: 6,
  ENABLE_CONNECT_PROTOCOL: 8,
} as const;

/** Error codes (RFC 9113 section 7). */
export const H2_ERROR = {
  NO_ERROR: 0,
  PROTOCOL_ERROR: 1,
  INTERNAL_ERROR: 2,
  FLOW_CONTROL_ERROR: 3,
  SETTINGS_TIMEOUT: 4,
  STREAM_CLOSED: 5,
  FRAME_SIZE_ERROR: 6,
  REFUSED_STREAM: 7,
  CANCEL: 8,
  COMPRESSION_ERROR: 9,
  CONNECT_ERROR: 10,
  ENHANCE_YOUR_CALM: 11,
  INADEQUATE_SECURITY: 12,
  HTTP_1_1_REQUIRED: 13,
} as const;

const ERROR_NAMES = Object.fromEntries(Object.entries(H2_ERROR).map(([k, v]) => [v, k])) as Record<number, string>;

/** `PROTOCOL_ERROR`, or `0x1f` for a code RFC 9113 does not name. */
export function h2ErrorName(code: number): string {
  return ERROR_NAMES[code] ?? `0x${code.toString(16)}`;
}

/** A connection error: the connection ends with GOAWAY(code). */
export class H2ConnectionError extends Error {
  constructor(
    readonly h2code: number,
    message: string,
  ) {
    super(message);
  }
}

export const FRAME_HEADER = 9;
export const DEFAULT_MAX_FRAME = 16_384;
export const CLIENT_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export type FrameHandler = (type: number, flags: number, streamId: number, payload: Buffer) => void;

/**
 * Cuts incoming bytes into frames. A frame that arrives whole in one read is handed on as a
 * view of that read (no copy); only a frame split across reads is joined.
 */
export class FrameReader {
  private pending: Buffer | undefined;
  /** Our SETTINGS_MAX_FRAME_SIZE: a longer frame is a FRAME_SIZE_ERROR. */
  maxFrameSize = DEFAULT_MAX_FRAME;
  /** While a frame is handled: more bytes of this read follow it (its writes can wait to batch). */
  more = false;

  constructor(private readonly onFrame: FrameHandler) {}

  /** Throws H2ConnectionError for an oversized frame; the handler's own throws pass through. */
  push(chunk: Buffer): void {
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    let off = 0;
    while (buf.length - off >= FRAME_HEADER) {
      const len = (buf[off]! << 16) | (buf[off + 1]! << 8) | buf[off + 2]!;
      if (len > this.maxFrameSize) throw new H2ConnectionError(H2_ERROR.FRAME_SIZE_ERROR, `frame of ${len} bytes exceeds SETTINGS_MAX_FRAME_SIZE ${this.maxFrameSize}`);
      const end = off + FRAME_HEADER + len;
      if (end > buf.length) break;
      const type = buf[off + 3]!;
      const flags = buf[off + 4]!;
      const sid = buf.readUInt32BE(off + 5) & 0x7fffffff;
      const payload = buf.subarray(off + FRAME_HEADER, end);
      off = end;
      this.more = end < buf.length;
      this.onFrame(type, flags, sid, payload);
    }
    if (off < buf.length) {
      // Keep only the tail; copy it when it is a small part of a big read so the read can go.
      const rest = buf.subarray(off);
      this.pending = rest.length < 4096 && buf.length > 65_536 ? Buffer.from(rest) : rest;
    }
  }
}

function writeHeader(b: Buffer, length: number, type: number, flags: number, streamId: number): Buffer {
  b[0] = length >>> 16;
  b[1] = (length >>> 8) & 0xff;
  b[2] = length & 0xff;
  b[3] = type;
  b[4] = flags;
  b.writeUInt32BE(streamId >>> 0, 5);
  return b;
}

/** The 9-byte header of a frame. */
export function frameHeader(length: number, type: number, flags: number, streamId: number): Buffer {
  return writeHeader(Buffer.allocUnsafe(FRAME_HEADER), length, type, flags, streamId);
}

/** A whole frame in one buffer (header + payload). */
export function frame(type: number, flags: number, streamId: number, payload?: Uint8Array): Buffer {
  const len = payload?.length ?? 0;
  const b = writeHeader(Buffer.allocUnsafe(FRAME_HEADER + len), len, type, flags, streamId);
  if (payload && len) b.set(payload, FRAME_HEADER);
  return b;
}

export function settingsFrame(settings: ReadonlyArray<readonly [number, number]>): Buffer {
  const p = Buffer.allocUnsafe(settings.length * 6);
  settings.forEach(([id, v], i) => {
    p.writeUInt16BE(id, i * 6);
    p.writeUInt32BE(v >>> 0, i * 6 + 2);
  });
  return frame(FRAME.SETTINGS, 0, 0, p);
}

export const SETTINGS_ACK = frame(FRAME.SETTINGS, FLAG.ACK, 0);

export function windowUpdateFrame(streamId: number, increment: number): Buffer {
  const b = frame(FRAME.WINDOW_UPDATE, 0, streamId, Buffer.alloc(4));
  b.writeUInt32BE(increment & 0x7fffffff, FRAME_HEADER);
  return b;
}

export function rstStreamFrame(streamId: number, code: number): Buffer {
  const b = frame(FRAME.RST_STREAM, 0, streamId, Buffer.alloc(4));
  b.writeUInt32BE(code >>> 0, FRAME_HEADER);
  return b;
}

export function goawayFrame(lastStreamId: number, code: number, debug = ''): Buffer {
  const d = Buffer.from(debug, 'utf8');
  const p = Buffer.allocUnsafe(8 + d.length);
  p.writeUInt32BE(lastStreamId & 0x7fffffff, 0);
  p.writeUInt32BE(code >>> 0, 4);
  d.copy(p, 8);
  return frame(FRAME.GOAWAY, 0, 0, p);
}

/** Settings from a SETTINGS payload; throws H2ConnectionError for a bad length or value. */
export function parseSettings(payload: Buffer): Array<[number, number]> {
  if (payload.length % 6 !== 0) throw new H2ConnectionError(H2_ERROR.FRAME_SIZE_ERROR, `SETTINGS payload of ${payload.length} bytes is not a multiple of 6`);
  const out: Array<[number, number]> = [];
  for (let i = 0; i < payload.length; i += 6) {
    const id = payload.readUInt16BE(i);
    const v = payload.readUInt32BE(i + 2);
    if (id === SETTING.ENABLE_PUSH && v > 1) throw new H2ConnectionError(H2_ERROR.PROTOCOL_ERROR, `SETTINGS_ENABLE_PUSH ${v}`);
    if (id === SETTING.INITIAL_WINDOW_SIZE && v > 0x7fffffff) throw new H2ConnectionError(H2_ERROR.FLOW_CONTROL_ERROR, `SETTINGS_INITIAL_WINDOW_SIZE ${v}`);
    if (id === SETTING.MAX_FRAME_SIZE && (v < 16_384 || v > 16_777_215)) throw new H2ConnectionError(H2_ERROR.PROTOCOL_ERROR, `SETTINGS_MAX_FRAME_SIZE ${v}`);
    out.push([id, v]);
  }
  return out;
}

/**
 * The payload of a DATA or HEADERS frame without padding (and, for HEADERS, without the
 * priority fields). Throws H2ConnectionError when the padding is longer than the frame.
 */
export function unpad(type: number, flags: number, payload: Buffer): Buffer {
  let start = 0;
  let end = payload.length;
  if (flags & FLAG.PADDED) {
    if (payload.length < 1) throw new H2ConnectionError(H2_ERROR.FRAME_SIZE_ERROR, 'padded frame without a pad length');
    end -= payload[0]!;
    start = 1;
  }
  if (type === FRAME.HEADERS && flags & FLAG.PRIORITY) start += 5;
  if (end < start) throw new H2ConnectionError(H2_ERROR.PROTOCOL_ERROR, 'padding longer than the frame');
  return start === 0 && end === payload.length ? payload : payload.subarray(start, end);
}
