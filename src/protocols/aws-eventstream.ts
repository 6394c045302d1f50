// AWS event-stream binary framing (application/vnd.amazon.eventstream, used by Bedrock's
// invoke-with-response-stream and converse-stream): each message is
//   prelude = total length (u32 BE) + headers length (u32 BE) + prelude CRC32,
//   headers, payload, message CRC32.
// Decoding never throws: a cut or corrupt message ends the list with an `error`.

export type EventStreamHeaderValue = string | number | boolean | bigint | Buffer;

export interface EventStreamMessage {
  headers: Record<string, EventStreamHeaderValue>;
  payload: Buffer;
}

export interface EventStreamResult {
  messages: EventStreamMessage[];
  /** Why decoding stopped before the end of the bytes (truncated or corrupt). */
  error?: string;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(buf: Uint8Array, start = 0, end = buf.length): number {
  let c = 0xffffffff;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function readHeaders(buf: Buffer, start: number, end: number): Record<string, EventStreamHeaderValue> {
  const headers: Record<string, EventStreamHeaderValue> = {};
  let i = start;
  while (i < end) {
    const nameLen = buf[i]!;
    const name = buf.toString('utf8', i + 1, i + 1 + nameLen);
    i += 1 + nameLen;
    const type = buf[i++];
    let value: EventStreamHeaderValue;
    switch (type) {
      case 0: value = true; break;
      case 1: value = false; break;
      case 2: value = buf.readInt8(i); i += 1; break;
      case 3: value = buf.readInt16BE(i); i += 2; break;
      case 4: value = buf.readInt32BE(i); i += 4; break;
      case 5: value = buf.readBigInt64BE(i); i += 8; break;
      case 6: {
        const len = buf.readUInt16BE(i);
        value = buf.subarray(i + 2, i + 2 + len);
        i += 2 + len;
        break;
      }
      case 7: {
        const len = buf.readUInt16BE(i);
        value = buf.toString('utf8', i + 2, i + 2 + len);
        i += 2 + len;
        break;
      }
      case 8: value = Number(buf.readBigInt64BE(i)); i += 8; break;
      case 9: value = buf.subarray(i, i + 16).toString('hex'); i += 16; break;
      default:
        throw new Error(`unknown header value type ${String(type)}`);
    }
    headers[name] = value;
  }
  if (i !== end) throw new Error('headers overrun their length');
  return headers;
}

/** Decodes every whole message in `buf`. */
export function decodeEventStream(buf: Buffer): EventStreamResult {
  const messages: EventStreamMessage[] = [];
  let pos = 0;
  while (pos < buf.length) {
    if (buf.length - pos < 16) return { messages, error: `truncated event-stream message at byte ${pos}` };
    const total = buf.readUInt32BE(pos);
    const headersLen = buf.readUInt32BE(pos + 4);
    const preludeCrc = buf.readUInt32BE(pos + 8);
    if (crc32(buf, pos, pos + 8) !== preludeCrc) return { messages, error: `prelude CRC mismatch at byte ${pos}` };
    if (total < 16 + headersLen) return { messages, error: `bad message length at byte ${pos}` };
    if (pos + total > buf.length) return { messages, error: `truncated event-stream message at byte ${pos}` };
    const msgCrc = buf.readUInt32BE(pos + total - 4);
    if (crc32(buf, pos, pos + total - 4) !== msgCrc) return { messages, error: `message CRC mismatch at byte ${pos}` };
    try {
      const headers = readHeaders(buf, pos + 12, pos + 12 + headersLen);
      messages.push({ headers, payload: buf.subarray(pos + 12 + headersLen, pos + total - 4) });
    } catch (e) {
      return { messages, error: `bad headers at byte ${pos}: ${(e as Error).message}` };
    }
    pos += total;
  }
  return { messages };
}

/** Encodes one message (string headers only) — for tests and the fake upstream. */
export function encodeEventStreamMessage(headers: Record<string, string>, payload: Buffer | string): Buffer {
  const hparts: Buffer[] = [];
  for (const [k, v] of Object.entries(headers)) {
    const name = Buffer.from(k, 'utf8');
    const val = Buffer.from(v, 'utf8');
    const h = Buffer.alloc(1 + name.length + 1 + 2 + val.length);
    h[0] = name.length;
    name.copy(h, 1);
    h[1 + name.length] = 7;
    h.writeUInt16BE(val.length, 2 + name.length);
    val.copy(h, 4 + name.length);
    hparts.push(h);
  }
  const hbuf = Buffer.concat(hparts);
  const pbuf = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const total = 12 + hbuf.length + pbuf.length + 4;
  const out = Buffer.alloc(total);
  out.writeUInt32BE(total, 0);
  out.writeUInt32BE(hbuf.length, 4);
  out.writeUInt32BE(crc32(out, 0, 8), 8);
  hbuf.copy(out, 12);
  pbuf.copy(out, 12 + hbuf.length);
  out.writeUInt32BE(crc32(out, 0, total - 4), total - 4);
  return out;
}
