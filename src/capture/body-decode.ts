// Collects a body's wire chunks (by reference, off the forwarding path) and turns them into a
// record body once the exchange ends: content decoding (gzip, br, deflate, zstd), the --max-body
// cap (head + truncated + sha256 of the whole decoded body), text vs base64.
import { createHash, type Hash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { Decompress as ZstdDecompress } from 'fzstd';
import { EscapedText, LAZY_TEXT_MIN, lazyEscapedBody, lazyTextBody } from './lazy-text.js';
import type { RecordBody } from './record.js';

export const DEFAULT_MAX_BODY = 16 * 1024 * 1024;
/** Below this a body is a few chunks: holding them costs less than a copy. */
const PREALLOC_MIN = 256 * 1024;

/** `content-encoding` header value → codings in the order they were applied. */
export function parseContentEncoding(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s && s !== 'identity');
}

const KNOWN = new Set(['gzip', 'x-gzip', 'br', 'deflate', 'zstd']);

class ZstdTransform extends Transform {
  private readonly z = new ZstdDecompress((data) => this.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength)));
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.z.push(chunk);
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }
  override _flush(cb: TransformCallback): void {
    try {
      this.z.push(new Uint8Array(0), true);
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }
}

/** A streaming decoder for one coding. Flushes leniently so a cut-off body still yields its head. */
function decoderFor(coding: string, first: number | undefined): Transform {
  switch (coding) {
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip({ finishFlush: zlib.constants.Z_SYNC_FLUSH });
    case 'deflate':
      // "deflate" is meant to be zlib-wrapped, but some servers send raw deflate.
      return (first ?? 0x78) % 16 === 8 && ((first ?? 0x78) >> 4) <= 7
        ? zlib.createInflate({ finishFlush: zlib.constants.Z_SYNC_FLUSH })
        : zlib.createInflateRaw({ finishFlush: zlib.constants.Z_SYNC_FLUSH });
    case 'br':
      return zlib.createBrotliDecompress({ finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH });
    case 'zstd':
      return new ZstdTransform();
    default:
      throw new Error(`unknown content-encoding ${coding}`);
  }
}

/** Keeps the head of a body up to the cap; hashes everything once the cap is crossed. */
class HeadSink {
  readonly head: Buffer[] = [];
  headLen = 0;
  size = 0;
  private hash?: Hash;
  constructor(private readonly cap: number) {}
  write(b: Buffer): void {
    this.size += b.length;
    if (!this.hash && this.size > this.cap) {
      this.hash = createHash('sha256');
      for (const h of this.head) this.hash.update(h);
    }
    if (this.hash) this.hash.update(b);
    if (this.headLen < this.cap) {
      const take = Math.min(b.length, this.cap - this.headLen);
      this.head.push(take === b.length ? b : b.subarray(0, take));
      this.headLen += take;
    }
  }
  body(): { data: Buffer; size: number; truncated: boolean; sha256?: string } {
    const data = this.head.length === 1 ? this.head[0]! : Buffer.concat(this.head, this.headLen);
    return this.hash ? { data, size: this.size, truncated: true, sha256: this.hash.digest('hex') } : { data, size: this.size, truncated: false };
  }
}

/** The bytes as valid UTF-8 (a capped body backs off a cut character), or undefined for binary. */
function utf8Head(data: Buffer, truncated: boolean): Buffer | undefined {
  if (isUtf8(data)) return data;
  if (truncated) {
    // The cap may have cut a multi-byte character: back off to the last whole one.
    for (let cut = 1; cut <= 3 && cut < data.length; cut++) {
      const head = data.subarray(0, data.length - cut);
      if (isUtf8(head)) return head;
    }
  }
  return undefined;
}

/** The metadata keys after `size`, in the record's order. */
function withMeta<B extends Omit<RecordBody, 'text' | 'base64'>>(body: B, meta: Pick<RecordBody, 'contentEncoding' | 'wireSize' | 'note'>, b: { truncated: boolean; sha256?: string }): B {
  if (meta.contentEncoding !== undefined) body.contentEncoding = meta.contentEncoding;
  if (meta.wireSize !== undefined) body.wireSize = meta.wireSize;
  if (meta.note !== undefined) body.note = meta.note;
  if (b.truncated) {
    body.truncated = true;
    body.sha256 = b.sha256;
  }
  return body;
}

/**
 * One body's collector. `push` is called with each wire chunk as it is forwarded (cheap: a
 * reference and a counter); `finish` decodes once at the end, asynchronously.
 */
export class BodyCollector {
  private chunks: Buffer[] = [];
  wireSize = 0;
  private readonly codings: string[];
  /** Streaming mode, entered when the wire bytes pass the cap (memory stays bounded). */
  private stream?: { input: Transform | HeadSink; done: Promise<void>; sink: HeadSink; error?: Error };
  private readonly rawSink?: HeadSink;

  /**
   * A big encoded body of announced length is copied into one buffer as it arrives: the wire chunks are
   * then short-lived garbage and no joined copy is made at the end (one copy instead of two).
   */
  private whole?: Buffer;
  private expected?: number;
  /** A big identity body, JSON-escaped as it arrives (see lazy-text.ts). */
  private escaping?: EscapedText;

  constructor(
    private readonly contentEncoding: string | undefined,
    private readonly cap: number = DEFAULT_MAX_BODY,
    /** The body's announced length (content-length), when the head gave one. */
    expectedSize?: number,
  ) {
    this.codings = parseContentEncoding(contentEncoding);
    // Only encoded bodies need their wire bytes joined (to decode); identity text is decoded from the chunks.
    if (this.codings.length && expectedSize !== undefined && expectedSize >= PREALLOC_MIN && expectedSize <= cap) this.expected = expectedSize;
  }

  get unknownCoding(): string | undefined {
    return this.codings.find((c) => !KNOWN.has(c));
  }

  push(chunk: Buffer): void {
    if (this.expected !== undefined) {
      // Allocated at the first byte: a HEAD or 304 response announces a length and sends none.
      this.whole = Buffer.allocUnsafe(this.expected);
      this.expected = undefined;
    }
    this.wireSize += chunk.length;
    if (this.escaping) {
      if (this.wireSize <= this.cap) return this.escaping.write(chunk);
      // Past the cap (rare): back to the raw bytes and the capped path.
      this.chunks = [this.escaping.raw(), chunk];
      this.escaping = undefined;
      this.startStreaming();
      return;
    }
    if (this.stream) {
      this.stream.input.write(chunk);
      return;
    }
    if (this.whole && this.wireSize <= this.whole.length) {
      chunk.copy(this.whole, this.wireSize - chunk.length);
      return;
    }
    if (this.whole) this.unwhole(chunk.length); // more bytes than announced: back to a chunk list
    this.chunks.push(chunk);
    if (this.wireSize > this.cap) this.startStreaming();
    else if (!this.codings.length && this.wireSize >= LAZY_TEXT_MIN) this.startEscaping();
  }

  /** A big identity body: escape it as it comes, so its chunks need not be kept. */
  private startEscaping(): void {
    const e = new EscapedText();
    for (const c of this.chunks) e.write(c);
    this.chunks = [];
    this.escaping = e;
  }

  /** Leave the single-buffer mode, keeping the bytes received before `incoming`. */
  private unwhole(incoming: number): void {
    const held = this.wireSize - incoming;
    if (held > 0) this.chunks.push(this.whole!.subarray(0, held));
    this.whole = undefined;
  }

  private startStreaming(): void {
    const sink = new HeadSink(this.cap);
    const held = this.chunks;
    this.chunks = [];
    if (!this.codings.length || this.unknownCoding) {
      this.stream = { input: sink, done: Promise.resolve(), sink };
    } else {
      const chain = [...this.codings].reverse().map((c, i) => decoderFor(c, i === 0 ? held[0]?.[0] : undefined));
      for (let i = 0; i + 1 < chain.length; i++) chain[i]!.pipe(chain[i + 1]!);
      const last = chain[chain.length - 1]!;
      const state: { input: Transform; done: Promise<void>; sink: HeadSink; error?: Error } = { input: chain[0]!, sink, done: Promise.resolve() };
      state.done = new Promise<void>((resolve) => {
        last.on('data', (b: Buffer) => sink.write(b));
        last.on('end', resolve);
        for (const t of chain)
          t.on('error', (e: Error) => {
            state.error ??= e;
            resolve();
          });
      });
      this.stream = state;
    }
    for (const c of held) this.stream.input.write(c);
  }

  /** The record body, or undefined when no byte was sent. */
  async finish(): Promise<RecordBody | undefined> {
    return this.finishNow();
  }

  /**
   * The record body at once when no decoding is pending (identity and unknown codings, the
   * usual case), else a promise: the recorder then builds most records in the same tick.
   */
  finishNow(): RecordBody | undefined | Promise<RecordBody | undefined> {
    if (this.wireSize === 0) return undefined;
    const meta: Pick<RecordBody, 'contentEncoding' | 'wireSize' | 'note'> = {};
    if (this.contentEncoding && this.codings.length) meta.contentEncoding = this.contentEncoding;
    const unknown = this.unknownCoding;
    if (this.whole) {
      // Fewer bytes than announced (the exchange was cut short): keep what came.
      this.chunks = [this.whole.subarray(0, this.wireSize)];
      this.whole = undefined;
    }
    if (this.escaping) {
      // A big text body stays escaped bytes: the text is decoded only if someone reads it.
      const e = this.escaping;
      this.escaping = undefined;
      const escaped = e.escaped();
      if (escaped) return lazyEscapedBody(escaped, { size: this.wireSize, ...meta });
      return this.build(sinkOf(e.raw(), this.cap), meta);
    }
    if (!this.stream && !this.codings.length && this.chunks.length > 1) {
      const text = utf8Text(this.chunks);
      if (text !== undefined) {
        this.chunks = [];
        return { text, size: this.wireSize, ...meta };
      }
    }
    if (!this.stream) {
      const wire = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.wireSize);
      this.chunks = [];
      if (!this.codings.length) return this.build(sinkOf(wire, this.cap), meta);
      meta.wireSize = this.wireSize;
      if (unknown) return this.build(sinkOf(wire, this.cap), { ...meta, note: `unknown content-encoding "${unknown}": body kept as sent` }, true);
      const sink = new HeadSink(this.cap);
      return decodeInto(wire, this.codings, sink).then((error) => {
        if (error) return this.build(sinkOf(wire, this.cap), { ...meta, note: `could not decode ${this.contentEncoding} body (${error.message}): body kept as sent` }, true);
        return this.build(sink, meta);
      });
    }
    const s = this.stream;
    if (s.input instanceof HeadSink) {
      if (this.codings.length) {
        meta.wireSize = this.wireSize;
        if (unknown) meta.note = `unknown content-encoding "${unknown}": body kept as sent`;
      }
      return this.build(s.sink, meta, !!unknown);
    }
    s.input.end();
    return s.done.then(() => {
      meta.wireSize = this.wireSize;
      if (s.error && s.sink.size === 0) meta.note = `could not decode ${this.contentEncoding} body (${s.error.message})`;
      else if (s.error) meta.note = `decoding stopped early (${s.error.message}): the body holds what could be decoded`;
      return this.build(s.sink, meta);
    });
  }

  private build(sink: HeadSink, meta: Pick<RecordBody, 'contentEncoding' | 'wireSize' | 'note'>, forceBase64 = false): RecordBody {
    const b = sink.body();
    if (!forceBase64 && b.data.length >= LAZY_TEXT_MIN) {
      const utf8 = utf8Head(b.data, b.truncated);
      if (utf8) return lazyTextBody([utf8], withMeta({ size: b.size }, meta, b));
    }
    const utf8 = forceBase64 ? undefined : utf8Head(b.data, b.truncated);
    // Built key by key: `{ ...content, ...rest }` made V8 allocate a new hidden class per body
    // (garbage in the old generation: a major collection every few seconds under load).
    const body: RecordBody = utf8 ? { text: utf8.toString('utf8'), size: b.size } : { base64: b.data.toString('base64'), size: b.size };
    return withMeta(body, meta, b);
  }
}

/**
 * The chunks as one string when together they are valid UTF-8, else undefined. Decoded chunk by
 * chunk, so the bytes are never joined into a second whole copy next to the string.
 */
function utf8Text(chunks: Buffer[]): string | undefined {
  // ignoreBOM keeps a leading U+FEFF, as Buffer#toString does.
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  const parts: string[] = [];
  try {
    for (const c of chunks) parts.push(decoder.decode(c, { stream: true }));
    parts.push(decoder.decode());
  } catch {
    return undefined;
  }
  return parts.join('');
}

function sinkOf(data: Buffer, cap: number): HeadSink {
  const s = new HeadSink(cap);
  s.write(data);
  return s;
}

function decodeInto(wire: Buffer, codings: string[], sink: HeadSink): Promise<Error | undefined> {
  return new Promise((resolve) => {
    let chain: Transform[];
    try {
      chain = [...codings].reverse().map((c, i) => decoderFor(c, i === 0 ? wire[0] : undefined));
    } catch (e) {
      resolve(e as Error);
      return;
    }
    for (let i = 0; i + 1 < chain.length; i++) chain[i]!.pipe(chain[i + 1]!);
    const last = chain[chain.length - 1]!;
    let failed = false;
    last.on('data', (b: Buffer) => sink.write(b));
    last.on('end', () => resolve(undefined));
    for (const t of chain)
      t.on('error', (e: Error) => {
        if (failed) return;
        failed = true;
        resolve(e);
      });
    chain[0]!.end(wire);
  });
}
