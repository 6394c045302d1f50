// Server-Sent Events parser following the WHATWG "event stream interpretation" rules: lines end in
// CRLF, LF or CR; `data:` lines join with "\n"; `:` lines are comments; `id` (without NUL) and
// `retry` (digits only) update the stream state; one leading BOM is dropped. It works on chunks
// (a CR at the end of one chunk and LF at the start of the next are one line end) and on whole text.
// A stream cut anywhere never throws: the events dispatched so far are kept and the unfinished one
// is reported separately, so a caller can show what arrived and say the stream was truncated.

export interface SseEvent {
  /** The `event:` field, or "message" when none was given. */
  event: string;
  data: string;
  /** The last event id in effect when this event was dispatched. */
  id?: string;
  /** A `retry:` value seen in this event's block. */
  retry?: number;
}

export interface SseResult {
  events: SseEvent[];
  /** Fields of an event whose terminating blank line never arrived (the stream was cut). */
  pending?: { event?: string; data?: string };
  /** True when the text ended in the middle of a line or an event. */
  incomplete: boolean;
}

export class SseParser {
  private buffer = '';
  private started = false;
  private lastCr = false;
  private data: string | undefined;
  private eventType: string | undefined;
  private retry: number | undefined;
  private lastId: string | undefined;
  private sawField = false;
  /** When set, events are handed here instead of being collected. */
  onEvent: ((event: string, data: string) => void) | undefined;

  /** Feeds one chunk; returns the events it completed. */
  feed(chunk: string): SseEvent[] {
    const out: SseEvent[] = [];
    let text = chunk;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.lastCr && text.length > 0) {
      // The previous chunk ended with CR: a following LF belongs to the same line end.
      if (text.charCodeAt(0) === 10) text = text.slice(1);
      this.lastCr = false;
    }
    if (this.buffer.length > 0) {
      text = this.buffer + text;
      this.buffer = '';
    }
    const len = text.length;
    let pos = 0;
    let cr = text.indexOf('\r');
    while (pos < len) {
      const lf = text.indexOf('\n', pos);
      if (cr !== -1 && cr < pos) cr = text.indexOf('\r', pos);
      let end: number;
      let next: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        end = cr;
        if (cr + 1 < len) {
          next = text.charCodeAt(cr + 1) === 10 ? cr + 2 : cr + 1;
        } else {
          next = cr + 1;
          this.lastCr = true;
        }
      } else if (lf !== -1) {
        end = lf;
        next = lf + 1;
      } else {
        break;
      }
      this.line(text, pos, end, out);
      pos = next;
    }
    if (pos < len) this.buffer = text.slice(pos);
    return out;
  }

  /** Ends the stream: returns any unfinished event (never dispatched, as the spec says). */
  end(): { pending?: { event?: string; data?: string }; incomplete: boolean } {
    const events: SseEvent[] = [];
    let incomplete = false;
    if (this.buffer.length > 0) {
      // A last line without its line end: take its field, but the event is still unfinished.
      const rest = this.buffer;
      this.buffer = '';
      this.line(rest, 0, rest.length, events);
      incomplete = true;
    }
    const pending = this.sawField ? { event: this.eventType, data: this.data } : undefined;
    if (pending) incomplete = true;
    this.data = undefined;
    this.eventType = undefined;
    this.sawField = false;
    return pending ? { pending, incomplete } : { incomplete };
  }

  private line(text: string, start: number, end: number, out: SseEvent[]): void {
    if (start === end) {
      this.dispatch(out);
      return;
    }
    if (text.charCodeAt(start) === 58 /* : */) return;
    const colon = text.indexOf(':', start);
    let field: string;
    let value: string;
    if (colon === -1 || colon >= end) {
      field = text.slice(start, end);
      value = '';
    } else {
      field = text.slice(start, colon);
      const vs = colon + 1 < end && text.charCodeAt(colon + 1) === 32 ? colon + 2 : colon + 1;
      value = text.slice(vs, end);
    }
    switch (field) {
      case 'data':
        this.data = this.data === undefined ? value : this.data + '\n' + value;
        this.sawField = true;
        break;
      case 'event':
        this.eventType = value;
        this.sawField = true;
        break;
      case 'id':
        if (!value.includes('\0')) this.lastId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retry = Number(value);
        break;
      default:
        break;
    }
  }

  private dispatch(out: SseEvent[]): void {
    const data = this.data;
    const type = this.eventType;
    const retry = this.retry;
    this.data = undefined;
    this.eventType = undefined;
    this.retry = undefined;
    this.sawField = false;
    if (data === undefined) return;
    if (this.onEvent) {
      this.onEvent(type === undefined || type === '' ? 'message' : type, data);
      return;
    }
    const ev: SseEvent = { event: type === undefined || type === '' ? 'message' : type, data };
    if (this.lastId !== undefined) ev.id = this.lastId;
    if (retry !== undefined) ev.retry = retry;
    out.push(ev);
  }
}

/**
 * Calls `onEvent` for each complete event of a whole text without building an event list (the
 * hot path of stream merging); returns whether the text ended inside an event.
 */
export function forEachSseEvent(text: string, onEvent: (event: string, data: string) => void): { incomplete: boolean } {
  const parser = new SseParser();
  parser.onEvent = onEvent;
  parser.feed(text);
  return { incomplete: parser.end().incomplete };
}

/** Parses a whole event-stream text (possibly cut short). */
export function parseSse(text: string): SseResult {
  const parser = new SseParser();
  const events = parser.feed(text);
  const tail = parser.end();
  const result: SseResult = { events, incomplete: tail.incomplete };
  if (tail.pending) result.pending = tail.pending;
  return result;
}

/** Cheap check: does this text look like an event stream (first non-blank line is an SSE field)? */
export function looksLikeSse(text: string): boolean {
  let i = 0;
  if (text.charCodeAt(0) === 0xfeff) i = 1;
  while (i < text.length && (text[i] === '\n' || text[i] === '\r' || text[i] === ' ')) i++;
  const head = text.slice(i, i + 7);
  return head.startsWith('data:') || head.startsWith('event:') || head.startsWith(':') || head.startsWith('id:') || head.startsWith('retry:');
}
