// Strict HTTP/1.1 message heads and chunked bodies, for the raw-socket forwarder (h1-wire.ts).
// The parser accepts only what is plainly valid; anything else (obs-fold, bare LF, HTTP/1.0,
// odd framing) is reported as unsupported, and the wire forwarder hands the connection to
// Node's http server, which owns those edge cases (400s, 431s) exactly as before.

/** Longest head we parse ourselves (Node's own default limit; beyond it Node answers 431). */
export const MAX_HEAD = 16 * 1024;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Field values: visible bytes, SP, HT and obs-text; never CR, LF, NUL or other controls.
const BAD_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;
const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([^\x00-\x20\x7f]+) HTTP\/1\.1$/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: ([^\x00-\x08\x0a-\x1f\x7f]*))?$/;
const CRLFCRLF = Buffer.from('\r\n\r\n');

export interface RequestHead {
  method: string;
  target: string;
  /** rawHeaders style: [name, value, name, value, …] in wire order and case. */
  raw: string[];
  /** Bytes the head took, the blank line included. */
  size: number;
}

export interface ResponseHead {
  status: number;
  reason: string;
  version: '1.0' | '1.1';
  raw: string[];
  size: number;
}

/** Not enough bytes yet. */
export const NEED_MORE = 0;
/** Not something this parser vouches for: Node's server takes the connection. */
export const UNSUPPORTED = 1;

/** Parses the request head at the start of `buf`. */
export function parseRequestHead(buf: Buffer): RequestHead | typeof NEED_MORE | typeof UNSUPPORTED {
  const lines = headLines(buf);
  if (typeof lines === 'number') return lines;
  const m = REQUEST_LINE.exec(lines.text[0]!);
  if (!m) return UNSUPPORTED;
  const raw = fields(lines.text);
  if (!raw) return UNSUPPORTED;
  return { method: m[1]!, target: m[2]!, raw, size: lines.size };
}

/** Parses a response head at the start of `buf`; `undefined` when it is malformed. */
export function parseResponseHead(buf: Buffer): ResponseHead | typeof NEED_MORE | undefined {
  const lines = headLines(buf);
  if (lines === NEED_MORE) return NEED_MORE;
  if (lines === UNSUPPORTED) return undefined;
  const m = STATUS_LINE.exec(lines.text[0]!);
  if (!m) return undefined;
  const raw = fields(lines.text);
  if (!raw) return undefined;
  return { status: Number(m[2]), reason: m[3] ?? '', version: m[1] === '0' ? '1.0' : '1.1', raw, size: lines.size };
}

function headLines(buf: Buffer): { text: string[]; size: number } | typeof NEED_MORE | typeof UNSUPPORTED {
  const end = buf.indexOf(CRLFCRLF);
  // An LF not after a CR: a lenient peer's head may have ended where we would never see
  // CRLFCRLF, so never wait for it.
  const stop = end < 0 ? buf.length : end;
  for (let i = buf.indexOf(10); i >= 0 && i < stop; i = buf.indexOf(10, i + 1)) if (i === 0 || buf[i - 1] !== 13) return UNSUPPORTED;
  // +3: a head of exactly MAX_HEAD bytes may arrive without the last bytes of its blank line.
  if (end < 0) return buf.length > MAX_HEAD + 3 ? UNSUPPORTED : NEED_MORE;
  if (end > MAX_HEAD) return UNSUPPORTED;
  return { text: buf.toString('latin1', 0, end).split('\r\n'), size: end + 4 };
}

function fields(lines: string[]): string[] | undefined {
  const raw: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return undefined;
    const value = trimOws(line.slice(colon + 1));
    if (BAD_VALUE.test(value)) return undefined;
    raw.push(name, value);
  }
  return raw;
}

function trimOws(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && (s.charCodeAt(a) === 32 || s.charCodeAt(a) === 9)) a++;
  while (b > a && (s.charCodeAt(b - 1) === 32 || s.charCodeAt(b - 1) === 9)) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** How a message body is delimited (RFC 9112 section 6). */
export type Framing = { kind: 'none' } | { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' };

/**
 * Request framing, or undefined when it is one we leave to Node (both Content-Length and
 * Transfer-Encoding, a coding other than chunked, conflicting lengths).
 */
export function requestFraming(raw: readonly string[]): Framing | undefined {
  const f = framingHeaders(raw);
  if (!f) return undefined;
  if (f.te !== undefined) return f.length === undefined && f.te === 'chunked' ? { kind: 'chunked' } : undefined;
  return f.length === undefined || f.length === 0 ? { kind: 'none' } : { kind: 'length', length: f.length };
}

/** Response framing for a request with `method`; undefined when the head is malformed. */
export function responseFraming(raw: readonly string[], status: number, method: string): Framing | undefined {
  if (method === 'HEAD' || status === 204 || status === 304 || status < 200) return { kind: 'none' };
  const f = framingHeaders(raw);
  if (!f) return undefined;
  // Transfer-Encoding wins over Content-Length (RFC 9112 6.3); a final coding other than
  // chunked means the body runs to the end of the connection.
  if (f.te !== undefined) return /(^|,)\s*chunked\s*$/.test(f.te) ? { kind: 'chunked' } : { kind: 'close' };
  if (f.length !== undefined) return f.length === 0 ? { kind: 'none' } : { kind: 'length', length: f.length };
  return { kind: 'close' };
}

function framingHeaders(raw: readonly string[]): { length?: number; te?: string } | undefined {
  let length: number | undefined;
  let te: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i]!;
    if (k.length === 14 && k.toLowerCase() === 'content-length') {
      const v = raw[i + 1]!;
      if (!/^\d{1,15}$/.test(v)) return undefined;
      const n = Number(v);
      if (length !== undefined && length !== n) return undefined;
      length = n;
    } else if (k.length === 17 && k.toLowerCase() === 'transfer-encoding') {
      te = te === undefined ? raw[i + 1]!.toLowerCase() : `${te},${raw[i + 1]!.toLowerCase()}`;
    }
  }
  return { length, te };
}

/** The first value of header `name` (lower case), and whether it appeared more than once. */
export function headerValue(raw: readonly string[], name: string): { value?: string; repeated: boolean } {
  let value: string | undefined;
  let repeated = false;
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i]!;
    if (k.length === name.length && k.toLowerCase() === name) {
      if (value !== undefined) repeated = true;
      else value = raw[i + 1]!;
    }
  }
  return { value, repeated };
}

/** True when any header named in `names` (lower case) is present. */
export function hasHeader(raw: readonly string[], names: ReadonlySet<string>): boolean {
  for (let i = 0; i < raw.length; i += 2) if (names.has(raw[i]!.toLowerCase())) return true;
  return false;
}

/** `Connection` lists `token` (lower case). */
export function connectionHas(raw: readonly string[], token: string): boolean {
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i]!;
    if (k.length === 10 && k.toLowerCase() === 'connection') {
      for (const t of raw[i + 1]!.split(',')) if (t.trim().toLowerCase() === token) return true;
    }
  }
  return false;
}

const SIZE_LINE = /^([0-9A-Fa-f]{1,13})[ \t]*(?:;.*)?$/;
const MAX_LINE = 4096;
const MAX_TRAILERS = 16 * 1024;

const enum Chunk {
  Size,
  Data,
  DataEnd,
  Trailer,
  Done,
}

/**
 * Incremental chunked-body decoder. The forwarder passes the framed bytes on unchanged; this
 * finds where the body ends and hands out the payload pieces (subarrays, no copies) and trailers.
 */
export class ChunkedDecoder {
  private state = Chunk.Size;
  private remaining = 0;
  private line = '';
  private trailerBytes = 0;
  /** Trailer fields, rawHeaders style. */
  readonly trailers: string[] = [];

  get done(): boolean {
    return this.state === Chunk.Done;
  }

  /**
   * Consumes framed bytes from `buf`; payload pieces go to `onData`. Returns how many bytes of
   * `buf` belong to this body (all of them unless it ended inside `buf`), or -1 when the framing
   * is malformed.
   */
  push(buf: Buffer, onData: (piece: Buffer) => void): number {
    let i = 0;
    while (i < buf.length && this.state !== Chunk.Done) {
      if (this.state === Chunk.Data) {
        const n = Math.min(this.remaining, buf.length - i);
        onData(buf.subarray(i, i + n));
        i += n;
        this.remaining -= n;
        if (this.remaining === 0) this.state = Chunk.DataEnd;
        continue;
      }
      const nl = buf.indexOf(10, i);
      const part = buf.toString('latin1', i, nl < 0 ? buf.length : nl);
      if (this.line.length + part.length > MAX_LINE) return -1;
      i = nl < 0 ? buf.length : nl + 1;
      if (nl < 0) {
        this.line += part;
        continue;
      }
      const full = this.line + part;
      this.line = '';
      if (!full.endsWith('\r')) return -1;
      const text = full.slice(0, -1);
      if (this.state === Chunk.DataEnd) {
        if (text !== '') return -1;
        this.state = Chunk.Size;
      } else if (this.state === Chunk.Size) {
        const m = SIZE_LINE.exec(text);
        if (!m) return -1;
        this.remaining = parseInt(m[1]!, 16);
        this.state = this.remaining === 0 ? Chunk.Trailer : Chunk.Data;
      } else {
        if (text === '') {
          this.state = Chunk.Done;
          break;
        }
        this.trailerBytes += text.length;
        const colon = text.indexOf(':');
        if (colon <= 0 || this.trailerBytes > MAX_TRAILERS) return -1;
        const name = text.slice(0, colon);
        const value = trimOws(text.slice(colon + 1));
        if (!TOKEN.test(name) || BAD_VALUE.test(value)) return -1;
        this.trailers.push(name, value);
      }
    }
    return i;
  }
}
