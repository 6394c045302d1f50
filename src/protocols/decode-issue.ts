// What every binary decoder in src/protocols reports instead of throwing: a stable code, a message a
// user can act on, and the byte offset where the input went wrong. Decoders keep what they decoded
// before the problem and return the issue beside it.

export type DecodeIssueCode =
  | 'truncated'
  | 'length-out-of-range'
  | 'frame-too-large'
  | 'invalid-varint'
  | 'invalid-tag'
  | 'invalid-wire-type'
  | 'unmatched-group'
  | 'depth-limit'
  | 'too-many-fields'
  | 'inflate-failed'
  | 'inflate-limit'
  | 'unsupported-encoding'
  | 'invalid-base64'
  | 'invalid-hex'
  | 'invalid-json'
  | 'invalid-trailer'
  | 'schema-decode-failed'
  | 'unknown-type';

export interface DecodeIssue {
  code: DecodeIssueCode;
  message: string;
  /** Byte offset in the input (the stream, for incremental decoders) where the problem was found. */
  offset: number;
}

export function issue(code: DecodeIssueCode, message: string, offset: number): DecodeIssue {
  return { code, message: `${message} at offset ${offset}`, offset };
}
