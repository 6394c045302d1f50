// How a family's parsed response learns what went wrong outside its own format: a body it could
// not read (an API error, an empty body, a stream cut before its first event), a body the capture
// cut at --max-body, or a failed exchange (reset, abort). One wording for every family.
import type { CaptureRecord } from '../capture/record.js';
import { errorMessageOf, parseMaybeJson } from './record-json.js';
import type { LlmResponse } from './types.js';

/** The response of a body no family parser understood. */
export function unreadableResponse(json: unknown, text: string, status: number): LlmResponse {
  const error =
    errorMessageOf(json ?? parseMaybeJson(text), status) ??
    (text.trim() === '' ? 'empty response body' : 'response body not understood (cut before the first event?)');
  return { turns: [], error };
}

/** Adds the capture's own reason when the parse found none: the body cap, then the exchange error. */
export function withCaptureError<T extends LlmResponse>(record: CaptureRecord, res: T, truncatedMessage = 'response body truncated by the capture cap'): T {
  if (record.response?.body?.truncated && !res.error) res.error = truncatedMessage;
  if (record.error && !res.error) res.error = `${record.error.phase}: ${record.error.message}`;
  return res;
}
