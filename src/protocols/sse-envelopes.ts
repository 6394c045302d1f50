// The SSE form of Connect streams that Cursor uses (`data: <base64 envelope>` per event, ending with
// `data: [DONE]`): SSE framing from ./sse.ts, each data field base64-decoded, and the bytes fed to
// one Connect envelope decoder, so an envelope may also span events.
import { parseBase64 } from './binary-text.js';
import { ConnectStreamDecoder, type ConnectEndStream, type ConnectEvent } from './connect-envelope.js';
import { issue, type DecodeIssue } from './decode-issue.js';
import type { Frame, FrameDecoderOptions } from './length-prefixed-frames.js';
import { SseParser, type SseEvent } from './sse.js';

export type SseEnvelopeEvent = ConnectEvent | { type: 'done' };

export interface SseEnvelopeStream {
  messages: Frame[];
  end?: ConnectEndStream;
  done: boolean;
  errors: DecodeIssue[];
}

export class SseEnvelopeDecoder {
  private readonly sse = new SseParser();
  private readonly connect: ConnectStreamDecoder;
  private readonly utf8 = new TextDecoder('utf-8');
  private decodedBytes = 0;
  private eventIndex = 0;

  constructor(opts: FrameDecoderOptions = {}) {
    this.connect = new ConnectStreamDecoder(opts);
  }

  push(chunk: Uint8Array | string): SseEnvelopeEvent[] {
    const text = typeof chunk === 'string' ? chunk : this.utf8.decode(chunk, { stream: true });
    return this.sse.feed(text).flatMap((e) => this.event(e));
  }

  finish(): SseEnvelopeEvent[] {
    const rest = this.utf8.decode();
    const events: SseEnvelopeEvent[] = rest ? this.sse.feed(rest).flatMap((e) => this.event(e)) : [];
    // An event whose blank line never came is still decoded: streams are often cut after the data.
    const tail = this.sse.end();
    if (tail.pending?.data !== undefined) events.push(...this.event({ event: tail.pending.event ?? 'message', data: tail.pending.data }));
    events.push(...this.connect.finish());
    return events;
  }

  private event(e: SseEvent): SseEnvelopeEvent[] {
    const index = this.eventIndex++;
    const data = e.data.trim();
    if (data === '') return [];
    if (data === '[DONE]') return [{ type: 'done' }];
    const parsed = parseBase64(data);
    if (parsed.error) {
      // Feeding half an event would misalign every envelope after it: skip the whole event.
      return [{ type: 'error', error: issue('invalid-base64', `SSE event ${index}: ${parsed.error.message}`, this.decodedBytes) }];
    }
    this.decodedBytes += parsed.bytes.length;
    return this.connect.push(parsed.bytes);
  }
}

export function decodeSseEnvelopes(body: Uint8Array | string, opts: FrameDecoderOptions = {}): SseEnvelopeStream {
  const d = new SseEnvelopeDecoder(opts);
  const out: SseEnvelopeStream = { messages: [], done: false, errors: [] };
  for (const ev of [...d.push(body), ...d.finish()]) {
    if (ev.type === 'message') out.messages.push(ev.frame);
    else if (ev.type === 'end') out.end = ev.end;
    else if (ev.type === 'done') out.done = true;
    else out.errors.push(ev.error);
  }
  return out;
}

/** Encodes envelopes as the SSE-of-base64 form (one `data:` event per envelope, then `[DONE]`). */
export function encodeSseEnvelopes(envelopes: Uint8Array[], done = true): string {
  const lines = envelopes.map((e) => `data: ${Buffer.from(e).toString('base64')}\n\n`);
  if (done) lines.push('data: [DONE]\n\n');
  return lines.join('');
}
