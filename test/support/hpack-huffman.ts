// A test-only HPACK Huffman encoder (RFC 7541 5.2), built from the same code table the decoder
// uses, so tests can round-trip every byte value and craft bad padding. Bit by bit: clarity over speed.
import { HUFFMAN_CODES } from '../../src/engine/hpack.js';

/** Huffman-codes `bytes`, then pads to a byte boundary with `padBits` (default: the EOS prefix, all ones). */
export function huffmanEncode(bytes: Uint8Array | string, padBits?: (n: number) => number[]): Buffer {
  const input = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
  const bits: number[] = [];
  for (const b of input) appendCode(bits, b);
  const pad = (8 - (bits.length % 8)) % 8;
  bits.push(...(padBits ? padBits(pad) : new Array<number>(pad).fill(1)));
  return packBits(bits);
}

/** Appends the code of `symbol` (0-255, or 256 for EOS) to a bit list. */
export function appendCode(bits: number[], symbol: number): void {
  const code = HUFFMAN_CODES[symbol * 2]!;
  const len = HUFFMAN_CODES[symbol * 2 + 1]!;
  for (let i = len - 1; i >= 0; i--) bits.push((code >>> i) & 1);
}

/** Packs a bit list (length a multiple of 8) into bytes, most significant bit first. */
export function packBits(bits: readonly number[]): Buffer {
  if (bits.length % 8 !== 0) throw new Error(`packBits: ${bits.length} bits is not whole bytes`);
  const out = Buffer.alloc(bits.length / 8);
  for (let i = 0; i < bits.length; i++) if (bits[i]) out[i >> 3]! |= 0x80 >> (i & 7);
  return out;
}
