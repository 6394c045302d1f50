// Bedrock's invoke-with-response-stream wraps each provider event (for Claude: the Anthropic
// Messages event) as base64 in `{"bytes": "…"}` inside an AWS event-stream `chunk` message;
// exceptions arrive as messages with `:message-type: exception`.
import { bodyBytes, headerValue, type CaptureRecord } from '../capture/record.js';
import { decodeEventStream } from '../protocols/aws-eventstream.js';
import { isObject, str } from './record-json.js';

export function isEventStream(record: CaptureRecord): boolean {
  return (headerValue(record.response?.headers, 'content-type') ?? '').toLowerCase().includes('application/vnd.amazon.eventstream');
}

export interface BedrockEvents {
  /** Decoded JSON events in order (for invoke: the provider's own events; for converse: {eventType: payload}). */
  events: unknown[];
  error?: string;
}

export function decodeBedrockStream(record: CaptureRecord): BedrockEvents {
  const decoded = decodeEventStream(bodyBytes(record.response?.body));
  const events: unknown[] = [];
  let error = decoded.error;
  for (const m of decoded.messages) {
    const messageType = m.headers[':message-type'];
    const eventType = String(m.headers[':event-type'] ?? m.headers[':exception-type'] ?? '');
    let payload: unknown;
    try {
      payload = JSON.parse(m.payload.toString('utf8'));
    } catch {
      payload = undefined;
    }
    if (messageType === 'exception' || messageType === 'error') {
      const msg = isObject(payload) ? (str(payload.message) ?? str(payload.Message)) : m.payload.toString('utf8');
      error = `${eventType || 'exception'}: ${msg ?? ''}`.trim();
      continue;
    }
    if (eventType === 'chunk' && isObject(payload) && typeof payload.bytes === 'string') {
      try {
        events.push(JSON.parse(Buffer.from(payload.bytes, 'base64').toString('utf8')));
      } catch {
        error ??= 'undecodable Bedrock chunk';
      }
      continue;
    }
    events.push({ eventType, payload });
  }
  const res: BedrockEvents = { events };
  if (error) res.error = error;
  return res;
}
