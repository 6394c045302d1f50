// Builds the partial record of each exchange in flight from the recorder's live updates (heads
// as snapshots, bodies as raw wire chunks), so the inspector shows a stream growing: chunk
// timings, and the body so far, decoded (gzip, deflate, br) when the wire was compressed.
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { Transform } from 'node:stream';
import { headerValue, type CaptureRecord, type RecordBody } from '../capture/record.js';
import type { RecordUpdate } from '../capture/recorder.js';

/** The live view keeps at most this much of each body; the finished record has it all. */
const LIVE_BODY_CAP = 2 * 1024 * 1024;

class LiveBody {
  private parts: Buffer[] = [];
  private kept = 0;
  private decoder: Transform | undefined;
  wireSize = 0;
  size = 0;
  truncated = false;

  constructor(
    encoding: string | undefined,
    private readonly onData: () => void,
  ) {
    const e = encoding?.trim().toLowerCase();
    this.decoder = e === 'gzip' || e === 'x-gzip' ? createGunzip() : e === 'deflate' ? createInflate() : e === 'br' ? createBrotliDecompress() : undefined;
    if (this.decoder) {
      this.decoder.on('data', (d: Buffer) => {
        this.keep(d);
        this.onData();
      });
      // A broken stream only ends the live preview; the recorder reports it on the final record.
      this.decoder.on('error', () => {
        this.decoder = undefined;
      });
    }
  }

  private keep(d: Buffer): void {
    this.size += d.length;
    if (this.kept >= LIVE_BODY_CAP) {
      this.truncated = true;
      return;
    }
    const piece = d.subarray(0, LIVE_BODY_CAP - this.kept);
    this.parts.push(Buffer.from(piece));
    this.kept += piece.length;
    if (piece.length < d.length) this.truncated = true;
  }

  push(chunk: Buffer): void {
    this.wireSize += chunk.length;
    if (this.decoder) this.decoder.write(chunk);
    else this.keep(chunk);
  }

  view(): RecordBody {
    if (this.parts.length > 1) this.parts = [Buffer.concat(this.parts)];
    const buf = this.parts[0] ?? Buffer.alloc(0);
    const body: RecordBody = { text: buf.toString('utf8'), size: this.size };
    if (this.decoder) body.wireSize = this.wireSize;
    if (this.truncated) body.truncated = true;
    return body;
  }

  close(): void {
    this.decoder?.destroy();
    this.decoder = undefined;
  }
}

interface Item {
  record: CaptureRecord;
  req?: LiveBody;
  res?: LiveBody;
  reqChunks: [number, number][];
  resChunks: [number, number][];
}

export class LivePartials {
  private readonly items = new Map<string, Item>();

  /**
   * `onChange` hears that an exchange changed, with a function that builds its partial record:
   * the caller builds it when it wants to show it (a stream can change per token).
   */
  constructor(private readonly onChange: (id: string, build: () => CaptureRecord) => void) {}

  get size(): number {
    return this.items.size;
  }

  apply(u: RecordUpdate): void {
    if (u.stage === 'start' || u.stage === 'response-head') {
      let item = this.items.get(u.id);
      if (!item) {
        item = { record: u.record, reqChunks: [], resChunks: [] };
        this.items.set(u.id, item);
      } else item.record = u.record;
      if (u.stage === 'response-head' && !item.res) {
        const it = item;
        it.res = new LiveBody(headerValue(u.record.response?.headers, 'content-encoding'), () => this.changed(it));
      }
      this.changed(item);
      return;
    }
    if (u.stage !== 'chunk') return;
    const item = this.items.get(u.id);
    if (!item) return;
    if (u.from === 'client') {
      const it = item;
      it.req ??= new LiveBody(headerValue(item.record.request?.headers, 'content-encoding'), () => this.changed(it));
      item.reqChunks.push([u.t, u.data.length]);
      it.req.push(u.data);
    } else {
      const it = item;
      it.res ??= new LiveBody(headerValue(item.record.response?.headers, 'content-encoding'), () => this.changed(it));
      item.resChunks.push([u.t, u.data.length]);
      it.res.push(u.data);
    }
    this.changed(item);
  }

  /** The exchange finished (its full record arrived): forget its partial state. */
  finish(id: string): void {
    const item = this.items.get(id);
    if (!item) return;
    item.req?.close();
    item.res?.close();
    this.items.delete(id);
  }

  clear(): void {
    for (const id of [...this.items.keys()]) this.finish(id);
  }

  private changed(item: Item): void {
    this.onChange(item.record.id, () => this.partial(item));
  }

  private partial(item: Item): CaptureRecord {
    const r: CaptureRecord = { ...item.record };
    if (r.request) {
      r.request = { ...r.request };
      if (item.req) r.request.body = item.req.view();
      if (item.reqChunks.length > 1) r.request.chunks = item.reqChunks.slice();
    }
    if (r.response) {
      r.response = { ...r.response, chunks: item.resChunks.slice() };
      if (item.res) r.response.body = item.res.view();
    }
    return r;
  }
}
