// A tool call's input as the normalized Block carries it: parsed from JSON when it is JSON, the
// partial object when the stream was cut mid-JSON (as the SDKs show it), else the raw text.
import { parsePartialJson } from './partial-json.js';

export function toolInputFromJson(text: string | undefined): unknown {
  if (text === undefined) return {};
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    try {
      const v = parsePartialJson(text);
      return v === undefined ? text : v;
    } catch {
      return text;
    }
  }
}
