// Parses JSON that may be cut short (a tool's input when the stream ended mid-arguments), the way
// the SDKs' partial-JSON parsers do: open objects and arrays are closed; an unfinished string,
// number or literal at the very end is dropped, and so is a key left without its value.

export function parsePartialJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    /* fall through to the tolerant parser */
  }
  const p = new PartialParser(text);
  p.ws();
  if (p.i >= text.length) return undefined;
  const v = p.value();
  return v === MISSING ? undefined : v;
}

const MISSING = Symbol('missing');

class PartialParser {
  i = 0;
  constructor(private readonly s: string) {}

  ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 32 || c === 10 || c === 13 || c === 9) this.i++;
      else break;
    }
  }

  value(): unknown {
    this.ws();
    const s = this.s;
    if (this.i >= s.length) return MISSING;
    const c = s[this.i];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if (c === 't' || c === 'f' || c === 'n') return this.literal();
    return this.number();
  }

  object(): unknown {
    const s = this.s;
    const out: Record<string, unknown> = {};
    this.i++;
    for (;;) {
      this.ws();
      if (this.i >= s.length) return out;
      if (s[this.i] === '}') {
        this.i++;
        return out;
      }
      if (s[this.i] === ',') {
        this.i++;
        continue;
      }
      if (s[this.i] !== '"') throw new SyntaxError(`unexpected ${s[this.i]} in object`);
      const key = this.string();
      if (key === MISSING) return out;
      this.ws();
      if (this.i >= s.length) return out;
      if (s[this.i] !== ':') throw new SyntaxError('expected :');
      this.i++;
      const v = this.value();
      if (v === MISSING) return out;
      out[key as string] = v;
    }
  }

  array(): unknown {
    const s = this.s;
    const out: unknown[] = [];
    this.i++;
    for (;;) {
      this.ws();
      if (this.i >= s.length) return out;
      if (s[this.i] === ']') {
        this.i++;
        return out;
      }
      if (s[this.i] === ',') {
        this.i++;
        continue;
      }
      const v = this.value();
      if (v === MISSING) return out;
      out.push(v);
    }
  }

  string(): unknown {
    const s = this.s;
    const start = this.i;
    this.i++;
    while (this.i < s.length) {
      const c = s[this.i];
      if (c === '\\') {
        this.i += 2;
        continue;
      }
      if (c === '"') {
        this.i++;
        return JSON.parse(s.slice(start, this.i));
      }
      this.i++;
    }
    // Cut inside the string: the SDKs drop an unfinished string (and a key left without value).
    return MISSING;
  }

  literal(): unknown {
    const s = this.s;
    for (const [word, val] of [['true', true], ['false', false], ['null', null]] as const) {
      const rest = s.slice(this.i, this.i + word.length);
      if (rest === word) {
        this.i += rest.length;
        return val;
      }
      if (word.startsWith(rest) && rest.length > 0 && this.i + rest.length >= s.length) {
        this.i = s.length;
        return MISSING; // a literal cut by the end of the text is dropped
      }
    }
    throw new SyntaxError('bad literal');
  }

  number(): unknown {
    const s = this.s;
    const start = this.i;
    while (this.i < s.length && /[-+0-9.eE]/.test(s[this.i]!)) this.i++;
    if (this.i >= s.length) return MISSING; // an unfinished number at the end is dropped
    const text = s.slice(start, this.i);
    const n = Number(text);
    if (text === '' || Number.isNaN(n)) throw new SyntaxError(`bad number at ${start}`);
    return n;
  }
}
