// The strict HTTP/1.1 parser behind the raw-socket forwarder (h1-wire.ts): what it accepts it
// must parse exactly (the forwarder relies on its sizes and framing to find message boundaries),
// and what it does not vouch for it must say so at once, so Node's server can take the connection.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ChunkedDecoder,
  MAX_HEAD,
  NEED_MORE,
  UNSUPPORTED,
  connectionHas,
  hasHeader,
  headerValue,
  parseRequestHead,
  parseResponseHead,
  requestFraming,
  responseFraming,
  type RequestHead,
  type ResponseHead,
} from '../../src/engine/h1-parse.js';
import { prng } from '../support/seeded-random.js';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

function request(s: string | Buffer): RequestHead {
  const r = parseRequestHead(typeof s === 'string' ? bytes(s) : s);
  assert.equal(typeof r, 'object', `expected a parsed request head, got ${String(r)}`);
  return r as RequestHead;
}

function response(s: string | Buffer): ResponseHead {
  const r = parseResponseHead(typeof s === 'string' ? bytes(s) : s);
  assert.equal(typeof r, 'object', `expected a parsed response head, got ${String(r)}`);
  return r as ResponseHead;
}

/** A request head whose text (without the final CRLFCRLF) is exactly `len` bytes long. */
function headOfLength(len: number): string {
  const start = 'GET / HTTP/1.1\r\nX-Pad: ';
  return start + 'a'.repeat(len - start.length);
}

describe('parseRequestHead', () => {
  test('parses method, target and raw header pairs in wire order and case, duplicates kept', () => {
    const head =
      'POST /v1/messages?beta=true HTTP/1.1\r\n' +
      'Host: api.example.com\r\n' +
      'content-TYPE: application/json\r\n' +
      'X-Dup: one\r\n' +
      'Content-Length: 5\r\n' +
      'X-Dup: two\r\n' +
      '\r\n';
    const body = 'hello';
    const buf = bytes(head + body);
    const copy = Buffer.from(buf);
    const r = request(buf);
    assert.equal(r.method, 'POST');
    assert.equal(r.target, '/v1/messages?beta=true');
    assert.deepEqual(r.raw, [
      'Host', 'api.example.com',
      'content-TYPE', 'application/json',
      'X-Dup', 'one',
      'Content-Length', '5',
      'X-Dup', 'two',
    ]);
    assert.equal(r.size, Buffer.byteLength(head, 'latin1'));
    assert.equal(buf.subarray(r.size).toString('latin1'), body, 'the bytes after the head are where size says');
    assert.deepEqual(buf, copy, 'the buffer is not modified');
  });

  test('a head with no header fields and a pipelined second request: size stops at the first blank line', () => {
    const first = 'GET /a HTTP/1.1\r\n\r\n';
    const second = 'GET /b HTTP/1.1\r\nHost: x\r\n\r\n';
    const r = request(first + second);
    assert.equal(r.method, 'GET');
    assert.equal(r.target, '/a');
    assert.deepEqual(r.raw, []);
    assert.equal(r.size, first.length);
    const r2 = request(bytes(first + second).subarray(r.size));
    assert.equal(r2.target, '/b');
    assert.deepEqual(r2.raw, ['Host', 'x']);
    assert.equal(r2.size, second.length);
  });

  test('accepts absolute-form and asterisk-form targets and any token method', () => {
    assert.equal(request('GET http://example.com:8080/p?q=1 HTTP/1.1\r\nHost: example.com:8080\r\n\r\n').target, 'http://example.com:8080/p?q=1');
    const opt = request('OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(opt.method, 'OPTIONS');
    assert.equal(opt.target, '*');
    assert.equal(request('M-SEARCH /x HTTP/1.1\r\n\r\n').method, 'M-SEARCH');
  });

  test('optional whitespace (SP and HT) around field values is trimmed, inner whitespace kept', () => {
    const r = request('GET / HTTP/1.1\r\nA:no-space\r\nB:   spaced   \r\nC:\t tabbed value\t \r\nD:\r\nE:   \r\n\r\n');
    assert.deepEqual(r.raw, ['A', 'no-space', 'B', 'spaced', 'C', 'tabbed value', 'D', '', 'E', '']);
  });

  test('obs-text (bytes 0x80-0xFF) and HT inside values are kept as latin1 characters', () => {
    const buf = Buffer.concat([bytes('GET / HTTP/1.1\r\nX-Name: caf'), Buffer.from([0xe9]), bytes('\tb\r\n\r\n')]);
    const r = request(buf);
    assert.deepEqual(r.raw, ['X-Name', 'caf\u00e9\tb']);
    assert.equal(r.size, buf.length);
  });

  test('NEED_MORE for an empty buffer and for every proper prefix of a valid head', () => {
    assert.equal(parseRequestHead(Buffer.alloc(0)), NEED_MORE);
    const head = bytes('GET /x HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n');
    for (let n = 0; n < head.length; n++) {
      assert.equal(parseRequestHead(head.subarray(0, n)), NEED_MORE, `prefix of ${n} bytes`);
    }
    assert.equal(request(head).size, head.length);
  });

  const unsupported: Array<[string, string | Buffer]> = [
    ['HTTP/1.0', 'GET / HTTP/1.0\r\nHost: a\r\n\r\n'],
    ['HTTP/2.0 in a request line', 'GET / HTTP/2.0\r\nHost: a\r\n\r\n'],
    ['a lower-case protocol name', 'GET / http/1.1\r\nHost: a\r\n\r\n'],
    ['a request line without a version', 'GET /\r\nHost: a\r\n\r\n'],
    ['trailing space after the version', 'GET / HTTP/1.1 \r\nHost: a\r\n\r\n'],
    ['an empty line before the request line', '\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['a bare LF ending a header line (CRLF elsewhere)', 'GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n'],
    ['a bare LF ending the request line (CRLF elsewhere)', 'GET / HTTP/1.1\nHost: a\r\n\r\n'],
    ['obs-fold: a continuation line starting with SP', 'GET / HTTP/1.1\r\nX-Long: one\r\n two\r\n\r\n'],
    ['obs-fold: a continuation line starting with HT', 'GET / HTTP/1.1\r\nX-Long: one\r\n\ttwo\r\n\r\n'],
    ['obs-fold whose continuation contains a colon', 'GET / HTTP/1.1\r\nX-Long: one\r\n two: three\r\n\r\n'],
    ['a header line without a colon', 'GET / HTTP/1.1\r\nHost a\r\n\r\n'],
    ['a header line with an empty name', 'GET / HTTP/1.1\r\n: a\r\n\r\n'],
    ['a space before the colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n'],
    ['a tab before the colon', 'GET / HTTP/1.1\r\nHost\t: a\r\n\r\n'],
    ['a non-token character in a field name', 'GET / HTTP/1.1\r\nX(y): a\r\n\r\n'],
    ['a NUL in a value', 'GET / HTTP/1.1\r\nX: a\u0000b\r\n\r\n'],
    ['a CR inside a value', 'GET / HTTP/1.1\r\nX: a\rb\r\n\r\n'],
    ['a control byte (0x01) in a value', 'GET / HTTP/1.1\r\nX: a\u0001b\r\n\r\n'],
    ['a control byte (0x1f) in a value', 'GET / HTTP/1.1\r\nX: a\u001fb\r\n\r\n'],
    ['DEL in a value', 'GET / HTTP/1.1\r\nX: a\u007fb\r\n\r\n'],
    ['a request target with a space', 'GET /a b HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['two spaces after the method', 'GET  / HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['a request target with a tab', 'GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['a request target with DEL', 'GET /a\u007fb HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['a non-token method (parenthesis)', 'GE(T / HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['a non-token method (slash)', 'GET/ / HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['an empty method', ' / HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['a head that is only the blank line', '\r\n\r\n'],
  ];
  for (const [what, input] of unsupported) {
    test(`UNSUPPORTED: ${what}`, () => {
      assert.equal(parseRequestHead(typeof input === 'string' ? bytes(input) : input), UNSUPPORTED);
    });
  }

  // A client that ends every line with a bare LF never sends CRLFCRLF. Waiting for it means the
  // forwarder sits on a complete request until the idle timeout, where Node's own server answers
  // 400 at once; so the parser must refuse as soon as it sees an LF that is not after a CR.
  const bareLfHeads: Array<[string, string]> = [
    ['every line ends in bare LF', 'GET / HTTP/1.1\nHost: a\n\n'],
    ['CRLF lines, then a bare-LF blank line', 'GET / HTTP/1.1\r\nHost: a\r\n\n'],
    ['bare-LF lines, then a CRLF blank line', 'GET / HTTP/1.1\nHost: a\n\r\n'],
    ['a bare-LF request line, then a CRLF blank line', 'GET / HTTP/1.1\n\r\n'],
  ];
  for (const [what, input] of bareLfHeads) {
    test(`UNSUPPORTED (not NEED_MORE) for a complete head where ${what}`, () => {
      assert.equal(parseRequestHead(bytes(input)), UNSUPPORTED, 'got NEED_MORE (0): the forwarder would wait for a CRLFCRLF that never comes');
    });
  }

  test('MAX_HEAD: a head of exactly MAX_HEAD bytes (before the blank line) is parsed', () => {
    const text = headOfLength(MAX_HEAD);
    const r = request(text + '\r\n\r\n');
    assert.equal(r.size, MAX_HEAD + 4);
    assert.equal(r.raw[0], 'X-Pad');
    assert.equal(r.raw[1]!.length, MAX_HEAD - 'GET / HTTP/1.1\r\nX-Pad: '.length);
  });

  test('MAX_HEAD: a longer head is UNSUPPORTED with its terminator', () => {
    assert.equal(parseRequestHead(bytes(headOfLength(MAX_HEAD + 1) + '\r\n\r\n')), UNSUPPORTED);
    assert.equal(parseRequestHead(bytes(headOfLength(MAX_HEAD * 2) + '\r\n\r\nbody')), UNSUPPORTED);
  });

  test('MAX_HEAD: a longer head is UNSUPPORTED before its terminator arrives (no endless wait)', () => {
    assert.equal(parseRequestHead(bytes(headOfLength(MAX_HEAD + 100))), UNSUPPORTED);
    assert.equal(parseRequestHead(bytes(headOfLength(MAX_HEAD + 100) + '\r\n')), UNSUPPORTED);
    // Still short enough to become a valid head: keep waiting.
    assert.equal(parseRequestHead(bytes(headOfLength(MAX_HEAD - 100))), NEED_MORE);
  });
});

describe('parseResponseHead', () => {
  test('HTTP/1.1 status, reason and raw headers; size and the body after it', () => {
    const head = 'HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nset-cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n';
    const buf = bytes(head + 'data: x\n\n');
    const r = response(buf);
    assert.equal(r.status, 200);
    assert.equal(r.reason, 'OK');
    assert.equal(r.version, '1.1');
    assert.deepEqual(r.raw, ['Content-Type', 'text/event-stream', 'set-cookie', 'a=1', 'Set-Cookie', 'b=2']);
    assert.equal(r.size, head.length);
    assert.equal(buf.subarray(r.size).toString('latin1'), 'data: x\n\n');
  });

  test('HTTP/1.0 responses are parsed with version 1.0', () => {
    const r = response('HTTP/1.0 404 Not Found\r\nServer: old\r\n\r\n');
    assert.equal(r.status, 404);
    assert.equal(r.reason, 'Not Found');
    assert.equal(r.version, '1.0');
    assert.deepEqual(r.raw, ['Server', 'old']);
  });

  test('reason phrases keep inner spaces, HT and obs-text', () => {
    assert.equal(response('HTTP/1.1 500 Internal  Server\tError\r\n\r\n').reason, 'Internal  Server\tError');
    assert.equal(response(Buffer.concat([bytes('HTTP/1.1 200 Tr'), Buffer.from([0xe8]), bytes('s bien\r\n\r\n')])).reason, 'Tr\u00e8s bien');
  });

  test('an empty reason: "HTTP/1.1 204" with and without the trailing space', () => {
    const a = response('HTTP/1.1 204\r\nDate: x\r\n\r\n');
    assert.equal(a.status, 204);
    assert.equal(a.reason, '');
    assert.deepEqual(a.raw, ['Date', 'x']);
    const b = response('HTTP/1.1 204 \r\n\r\n');
    assert.equal(b.status, 204);
    assert.equal(b.reason, '');
    assert.equal(b.size, 'HTTP/1.1 204 \r\n\r\n'.length);
  });

  test('1xx heads parse on their own, leaving the final head after them', () => {
    const hints = 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n';
    const final = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n';
    const r = response(hints + final);
    assert.equal(r.status, 103);
    assert.equal(r.size, hints.length);
    assert.equal(response(bytes(hints + final).subarray(r.size)).status, 200);
  });

  test('NEED_MORE for an empty buffer and every proper prefix', () => {
    assert.equal(parseResponseHead(Buffer.alloc(0)), NEED_MORE);
    const head = bytes('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n');
    for (let n = 0; n < head.length; n++) assert.equal(parseResponseHead(head.subarray(0, n)), NEED_MORE, `prefix of ${n} bytes`);
  });

  const malformed: Array<[string, string]> = [
    ['a two-digit status', 'HTTP/1.1 20 OK\r\n\r\n'],
    ['a four-digit status', 'HTTP/1.1 2000 OK\r\n\r\n'],
    ['a status starting with 0', 'HTTP/1.1 099 Odd\r\n\r\n'],
    ['a non-digit status', 'HTTP/1.1 2x0 OK\r\n\r\n'],
    ['a missing status', 'HTTP/1.1\r\n\r\n'],
    ['a missing status with a space', 'HTTP/1.1 \r\n\r\n'],
    ['HTTP/2.0', 'HTTP/2.0 200 OK\r\n\r\n'],
    ['HTTP/1.2', 'HTTP/1.2 200 OK\r\n\r\n'],
    ['a lower-case protocol', 'http/1.1 200 OK\r\n\r\n'],
    ['no space before the status', 'HTTP/1.1200 OK\r\n\r\n'],
    ['two spaces before the status', 'HTTP/1.1  200 OK\r\n\r\n'],
    ['garbage instead of a status line', 'hello world\r\n\r\n'],
    ['a control byte in the reason', 'HTTP/1.1 200 O\u0001K\r\n\r\n'],
    ['a CR in the reason', 'HTTP/1.1 200 O\rK\r\n\r\n'],
    ['obs-fold in the fields', 'HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n'],
    ['a header line without a colon', 'HTTP/1.1 200 OK\r\nContent-Length 5\r\n\r\n'],
    ['a space before the colon', 'HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n'],
    ['a NUL in a value', 'HTTP/1.1 200 OK\r\nX: a\u0000\r\n\r\n'],
    ['a bare LF inside the fields', 'HTTP/1.1 200 OK\r\nX: a\nY: b\r\n\r\n'],
  ];
  for (const [what, input] of malformed) {
    test(`undefined for ${what}`, () => {
      assert.equal(parseResponseHead(bytes(input)), undefined);
    });
  }

  // Same on the upstream side: an upstream that answers with bare LFs and keeps the connection
  // open would leave the client waiting, where Node's client fails at once (a 502).
  test('undefined (not NEED_MORE) for a response head whose lines end in bare LF', () => {
    for (const input of ['HTTP/1.1 200 OK\nContent-Length: 2\n\nok', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\nok', 'HTTP/1.1 200 OK\nContent-Length: 2\n\r\nok']) {
      assert.equal(parseResponseHead(bytes(input)), undefined, `${JSON.stringify(input)}: got NEED_MORE (0), the forwarder would wait for a CRLFCRLF that never comes`);
    }
  });

  test('undefined for a head longer than MAX_HEAD, with or without its terminator', () => {
    const long = 'HTTP/1.1 200 OK\r\nX-Pad: ' + 'b'.repeat(MAX_HEAD);
    assert.equal(parseResponseHead(bytes(long + '\r\n\r\n')), undefined);
    assert.equal(parseResponseHead(bytes(long)), undefined);
  });
});

describe('requestFraming', () => {
  test('no body headers: none', () => {
    assert.deepEqual(requestFraming([]), { kind: 'none' });
    assert.deepEqual(requestFraming(['Host', 'a', 'Accept', '*/*']), { kind: 'none' });
  });

  test('Content-Length: length (0 means none), any header-name case, leading zeros', () => {
    assert.deepEqual(requestFraming(['Content-Length', '42']), { kind: 'length', length: 42 });
    assert.deepEqual(requestFraming(['CONTENT-LENGTH', '7']), { kind: 'length', length: 7 });
    assert.deepEqual(requestFraming(['content-length', '007']), { kind: 'length', length: 7 });
    assert.deepEqual(requestFraming(['content-length', '0']), { kind: 'none' });
    assert.deepEqual(requestFraming(['content-length', '999999999999999']), { kind: 'length', length: 999999999999999 });
  });

  test('duplicate Content-Length: equal values are one length, conflicting ones undefined', () => {
    assert.deepEqual(requestFraming(['Content-Length', '5', 'X', 'y', 'content-length', '5']), { kind: 'length', length: 5 });
    assert.deepEqual(requestFraming(['Content-Length', '5', 'content-length', '05']), { kind: 'length', length: 5 });
    assert.equal(requestFraming(['Content-Length', '5', 'Content-Length', '6']), undefined);
    assert.equal(requestFraming(['Content-Length', '0', 'Content-Length', '6']), undefined);
  });

  test('non-numeric, signed, spaced, list-valued or oversized Content-Length: undefined', () => {
    for (const v of ['abc', '-1', '+5', '5 5', '1,1', '', ' 5', '0x10', '1.5', '1e3', '9999999999999999']) {
      assert.equal(requestFraming(['Content-Length', v]), undefined, `Content-Length: ${JSON.stringify(v)}`);
    }
  });

  test('Transfer-Encoding: chunked (any case) is chunked', () => {
    assert.deepEqual(requestFraming(['Transfer-Encoding', 'chunked']), { kind: 'chunked' });
    assert.deepEqual(requestFraming(['transfer-encoding', 'Chunked']), { kind: 'chunked' });
  });

  test('Transfer-Encoding with Content-Length is left to Node (undefined), in either order', () => {
    assert.equal(requestFraming(['Content-Length', '5', 'Transfer-Encoding', 'chunked']), undefined);
    assert.equal(requestFraming(['Transfer-Encoding', 'chunked', 'Content-Length', '5']), undefined);
    assert.equal(requestFraming(['Transfer-Encoding', 'chunked', 'Content-Length', '0']), undefined);
  });

  test('codings other than a lone chunked are left to Node (undefined)', () => {
    assert.equal(requestFraming(['Transfer-Encoding', 'gzip, chunked']), undefined);
    assert.equal(requestFraming(['Transfer-Encoding', 'chunked, gzip']), undefined);
    assert.equal(requestFraming(['Transfer-Encoding', 'gzip']), undefined);
    assert.equal(requestFraming(['Transfer-Encoding', 'identity']), undefined);
    assert.equal(requestFraming(['Transfer-Encoding', 'chunked', 'Transfer-Encoding', 'chunked']), undefined);
  });
});

describe('responseFraming', () => {
  test('Content-Length: length, 0 means none', () => {
    assert.deepEqual(responseFraming(['Content-Length', '12'], 200, 'GET'), { kind: 'length', length: 12 });
    assert.deepEqual(responseFraming(['content-length', '0'], 200, 'POST'), { kind: 'none' });
  });

  test('no length and no coding: the body runs to the close', () => {
    assert.deepEqual(responseFraming([], 200, 'GET'), { kind: 'close' });
    assert.deepEqual(responseFraming(['Content-Type', 'text/plain'], 500, 'POST'), { kind: 'close' });
  });

  test('HEAD, 1xx, 204 and 304 have no body whatever the headers say', () => {
    const heavy = ['Content-Length', '100', 'Transfer-Encoding', 'chunked'];
    assert.deepEqual(responseFraming(heavy, 200, 'HEAD'), { kind: 'none' });
    assert.deepEqual(responseFraming(heavy, 100, 'GET'), { kind: 'none' });
    assert.deepEqual(responseFraming(heavy, 103, 'GET'), { kind: 'none' });
    assert.deepEqual(responseFraming(heavy, 204, 'DELETE'), { kind: 'none' });
    assert.deepEqual(responseFraming(heavy, 304, 'GET'), { kind: 'none' });
    assert.deepEqual(responseFraming([], 204, 'GET'), { kind: 'none' });
    // Even a malformed length does not matter when there is no body.
    assert.deepEqual(responseFraming(['Content-Length', 'abc'], 304, 'GET'), { kind: 'none' });
    // 205 and other 2xx/4xx are not exempt.
    assert.deepEqual(responseFraming(['Content-Length', '3'], 205, 'GET'), { kind: 'length', length: 3 });
  });

  test('duplicate Content-Length: equal values are one length, conflicting ones undefined', () => {
    assert.deepEqual(responseFraming(['Content-Length', '9', 'content-length', '9'], 200, 'GET'), { kind: 'length', length: 9 });
    assert.equal(responseFraming(['Content-Length', '9', 'content-length', '10'], 200, 'GET'), undefined);
  });

  test('non-numeric or signed Content-Length: undefined', () => {
    for (const v of ['abc', '-5', '+5', '', '5, 5', '12a']) {
      assert.equal(responseFraming(['Content-Length', v], 200, 'GET'), undefined, `Content-Length: ${JSON.stringify(v)}`);
    }
  });

  test('Transfer-Encoding wins over Content-Length', () => {
    assert.deepEqual(responseFraming(['Content-Length', '5', 'Transfer-Encoding', 'chunked'], 200, 'GET'), { kind: 'chunked' });
    assert.deepEqual(responseFraming(['Transfer-Encoding', 'chunked', 'Content-Length', '5'], 200, 'GET'), { kind: 'chunked' });
  });

  test('chunked as the final coding is chunked; any other final coding reads to the close', () => {
    assert.deepEqual(responseFraming(['Transfer-Encoding', 'chunked'], 200, 'GET'), { kind: 'chunked' });
    assert.deepEqual(responseFraming(['Transfer-Encoding', 'CHUNKED'], 200, 'GET'), { kind: 'chunked' });
    assert.deepEqual(responseFraming(['Transfer-Encoding', 'gzip, chunked'], 200, 'GET'), { kind: 'chunked' });
    assert.deepEqual(responseFraming(['Transfer-Encoding', 'gzip,chunked'], 200, 'GET'), { kind: 'chunked' });
    // Split over two field lines, the list is the same.
    assert.deepEqual(responseFraming(['Transfer-Encoding', 'gzip', 'Transfer-Encoding', 'chunked'], 200, 'GET'), { kind: 'chunked' });
    assert.deepEqual(responseFraming(['Transfer-Encoding', 'chunked, gzip'], 200, 'GET'), { kind: 'close' });
    assert.deepEqual(responseFraming(['Transfer-Encoding', 'chunked', 'Transfer-Encoding', 'gzip'], 200, 'GET'), { kind: 'close' });
    assert.deepEqual(responseFraming(['Transfer-Encoding', 'gzip'], 200, 'GET'), { kind: 'close' });
    assert.deepEqual(responseFraming(['Transfer-Encoding', 'gzip', 'Content-Length', '5'], 200, 'GET'), { kind: 'close' });
    // A coding that merely ends in the letters "chunked" is not chunked.
    assert.deepEqual(responseFraming(['Transfer-Encoding', 'xchunked'], 200, 'GET'), { kind: 'close' });
  });
});

describe('headerValue / hasHeader / connectionHas', () => {
  const raw = ['Host', 'a.example', 'X-Trace', 'one', 'CONNECTION', 'Keep-Alive, Upgrade', 'x-trace', 'two', 'Connection', 'TE'];

  test('headerValue: the first value, case-insensitive name, and whether it repeats', () => {
    assert.deepEqual(headerValue(raw, 'host'), { value: 'a.example', repeated: false });
    assert.deepEqual(headerValue(raw, 'x-trace'), { value: 'one', repeated: true });
    assert.deepEqual(headerValue(raw, 'missing'), { value: undefined, repeated: false });
    assert.deepEqual(headerValue([], 'host'), { value: undefined, repeated: false });
    // Names that share a prefix or length are not confused.
    assert.deepEqual(headerValue(['Hostx', 'b', 'Hosts', 'c'], 'host'), { value: undefined, repeated: false });
    // An empty value is a value.
    assert.deepEqual(headerValue(['Host', '', 'Host', 'b'], 'host'), { value: '', repeated: true });
  });

  test('headerValue looks only at names, never at values', () => {
    assert.deepEqual(headerValue(['X-A', 'host', 'X-B', 'host'], 'host'), { value: undefined, repeated: false });
  });

  test('hasHeader: any of the lower-case names, in any case on the wire', () => {
    assert.equal(hasHeader(raw, new Set(['upgrade', 'host'])), true);
    assert.equal(hasHeader(raw, new Set(['x-trace'])), true);
    assert.equal(hasHeader(raw, new Set(['upgrade', 'expect'])), false);
    assert.equal(hasHeader(raw, new Set()), false);
    assert.equal(hasHeader(['X', 'expect'], new Set(['expect'])), false);
  });

  test('connectionHas: case-insensitive tokens across comma lists and repeated Connection fields', () => {
    assert.equal(connectionHas(raw, 'keep-alive'), true);
    assert.equal(connectionHas(raw, 'upgrade'), true);
    assert.equal(connectionHas(raw, 'te'), true);
    assert.equal(connectionHas(raw, 'close'), false);
    assert.equal(connectionHas(['connection', ' close ,x'], 'close'), true);
    assert.equal(connectionHas(['Connection', 'closed'], 'close'), false);
    assert.equal(connectionHas(['Connection', 'keep-alive,,close'], 'close'), true);
    assert.equal(connectionHas(['Proxy-Connection', 'close'], 'close'), false);
    assert.equal(connectionHas(['X-Connection', 'close'], 'close'), false);
    assert.equal(connectionHas([], 'close'), false);
  });
});

// ---- ChunkedDecoder ----

interface Decoded {
  payload: Buffer;
  trailers: string[];
  consumed: number;
  done: boolean;
  /** The bytes the decoder said were not its own. */
  rest: Buffer;
  /** -1 seen? */
  failed: boolean;
}

/** Feeds `pieces` in order, the way the forwarder does: what a push does not consume is not the body's. */
function decode(pieces: Buffer[]): Decoded {
  const d = new ChunkedDecoder();
  const data: Buffer[] = [];
  const rest: Buffer[] = [];
  let consumed = 0;
  let failed = false;
  for (const piece of pieces) {
    if (failed || d.done) {
      rest.push(piece);
      continue;
    }
    const n = d.push(piece, (p) => data.push(Buffer.from(p)));
    if (n < 0) {
      failed = true;
      continue;
    }
    assert.ok(n <= piece.length, `push consumed ${n} of ${piece.length}`);
    if (n < piece.length) assert.ok(d.done, 'a push that leaves bytes over must have finished the body');
    consumed += n;
    rest.push(piece.subarray(n));
  }
  return { payload: Buffer.concat(data), trailers: [...d.trailers], consumed, done: d.done, rest: Buffer.concat(rest), failed };
}

function splitAt(buf: Buffer, cuts: number[]): Buffer[] {
  const out: Buffer[] = [];
  let prev = 0;
  for (const c of cuts) {
    out.push(buf.subarray(prev, c));
    prev = c;
  }
  out.push(buf.subarray(prev));
  return out;
}

const NEXT_REQUEST = 'GET /next HTTP/1.1\r\nHost: a\r\n\r\n';
// Several chunks, upper- and lower-case hex, extensions (with BWS, quoted values, bare names),
// a chunk holding CRLF and "0\r\n\r\n" as data, obs-text in data, and two trailer fields.
const BODY_PAYLOAD = 'hello' + ' world, this is chunk two!!' + 'x'.repeat(0xab) + '\r\n0\r\n\r\n' + '\u00ff\u0000' + 'A'.repeat(0x1f);
const CHUNKED_BODY =
  '5\r\nhello\r\n' +
  '1B;name=value\r\n world, this is chunk two!!\r\n' +
  'ab ; ext="quoted;value" ;bare\r\n' + 'x'.repeat(0xab) + '\r\n' +
  '7;a=b;c=d\r\n\r\n0\r\n\r\n\r\n' +
  '2\r\n\u00ff\u0000\r\n' +
  '1f\r\n' + 'A'.repeat(0x1f) + '\r\n' +
  '0;last=yes\r\n' +
  'X-Checksum: abc123\r\n' +
  'server-timing:   db;dur=53  \r\n' +
  '\r\n';

describe('ChunkedDecoder', () => {
  test('decodes several chunks with extensions and both hex cases; trailers as raw pairs', () => {
    const body = bytes(CHUNKED_BODY);
    const r = decode([body]);
    assert.equal(r.failed, false);
    assert.equal(r.done, true);
    assert.equal(r.payload.toString('latin1'), BODY_PAYLOAD);
    assert.deepEqual(r.trailers, ['X-Checksum', 'abc123', 'server-timing', 'db;dur=53']);
    assert.equal(r.consumed, body.length);
  });

  test('stops at the final CRLF: the pipelined next message is not consumed and not emitted', () => {
    const all = bytes(CHUNKED_BODY + NEXT_REQUEST);
    const d = new ChunkedDecoder();
    const pieces: Buffer[] = [];
    const n = d.push(all, (p) => pieces.push(Buffer.from(p)));
    assert.equal(n, CHUNKED_BODY.length);
    assert.equal(d.done, true);
    assert.equal(all.subarray(n).toString('latin1'), NEXT_REQUEST);
    assert.equal(Buffer.concat(pieces).toString('latin1'), BODY_PAYLOAD);
    // Once done, nothing more is taken.
    assert.equal(d.push(bytes('5\r\nhello\r\n'), () => assert.fail('no data after the end')), 0);
  });

  test('payload pieces are views of the input (no copies) with the exact data bytes', () => {
    const buf = bytes('3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n');
    const d = new ChunkedDecoder();
    const seen: Buffer[] = [];
    assert.equal(d.push(buf, (p) => seen.push(p)), buf.length);
    assert.deepEqual(seen.map((p) => p.toString('latin1')), ['abc', 'de']);
    assert.equal(seen[0]!.buffer, buf.buffer, 'a subarray of the input');
    assert.equal(seen[0]!.byteOffset, buf.byteOffset + 3);
  });

  test('a zero-length body "0\\r\\n\\r\\n": no data, no trailers, done, exact consumed count', () => {
    const d = new ChunkedDecoder();
    const n = d.push(bytes('0\r\n\r\nHTTP/1.1 200 OK\r\n'), () => assert.fail('no data in an empty body'));
    assert.equal(n, 5);
    assert.equal(d.done, true);
    assert.deepEqual(d.trailers, []);
  });

  test('"000" is a last chunk too', () => {
    const r = decode([bytes('000\r\n\r\n')]);
    assert.equal(r.done, true);
    assert.equal(r.consumed, 7);
    assert.equal(r.payload.length, 0);
  });

  test('done only after the final CRLF, byte by byte', () => {
    const tail = bytes('1\r\na\r\n0\r\nT: v\r\n\r\n');
    const d = new ChunkedDecoder();
    for (let i = 0; i < tail.length; i++) {
      const n = d.push(tail.subarray(i, i + 1), () => {});
      assert.equal(n, 1, `byte ${i} belongs to the body`);
      assert.equal(d.done, i === tail.length - 1, `done after byte ${i} of ${tail.length}`);
    }
    assert.deepEqual(d.trailers, ['T', 'v']);
  });

  test('not done while the body is incomplete (and an empty push changes nothing)', () => {
    const d = new ChunkedDecoder();
    assert.equal(d.push(bytes('5\r\nhel'), () => {}), 6);
    assert.equal(d.done, false);
    assert.equal(d.push(Buffer.alloc(0), () => assert.fail('no data')), 0);
    assert.equal(d.push(bytes('lo\r\n0\r\n'), () => {}), 7);
    assert.equal(d.done, false, 'the last-chunk line alone does not end the body');
    assert.equal(d.push(bytes('\r\n'), () => {}), 2);
    assert.equal(d.done, true);
  });

  test('split at every byte boundary: identical payload, trailers, consumed and leftover', () => {
    const all = bytes(CHUNKED_BODY + NEXT_REQUEST);
    const whole = decode([all]);
    assert.equal(whole.consumed, CHUNKED_BODY.length);
    assert.equal(whole.rest.toString('latin1'), NEXT_REQUEST);
    for (let cut = 0; cut <= all.length; cut++) {
      const r = decode(splitAt(all, [cut]));
      assert.equal(r.failed, false, `cut at ${cut}`);
      assert.equal(r.done, true, `cut at ${cut}`);
      assert.deepEqual(r.payload, whole.payload, `payload, cut at ${cut}`);
      assert.deepEqual(r.trailers, whole.trailers, `trailers, cut at ${cut}`);
      assert.equal(r.consumed, whole.consumed, `consumed, cut at ${cut}`);
      assert.equal(r.rest.toString('latin1'), NEXT_REQUEST, `leftover, cut at ${cut}`);
    }
  });

  test('split at every pair of byte boundaries of a smaller body: identical results', () => {
    const small = '3;x=y\r\nabc\r\nA\r\n0123456789\r\n0\r\nK: v\r\n\r\n';
    const all = bytes(small + 'NEXT');
    const whole = decode([all]);
    assert.equal(whole.payload.toString('latin1'), 'abc0123456789');
    assert.deepEqual(whole.trailers, ['K', 'v']);
    for (let a = 0; a <= all.length; a++) {
      for (let b = a; b <= all.length; b++) {
        const r = decode(splitAt(all, [a, b]));
        const where = `cuts at ${a}, ${b}`;
        assert.equal(r.done, true, where);
        assert.deepEqual(r.payload, whole.payload, where);
        assert.deepEqual(r.trailers, whole.trailers, where);
        assert.equal(r.consumed, small.length, where);
        assert.equal(r.rest.toString('latin1'), 'NEXT', where);
      }
    }
  });

  test('random 1-7 byte pieces (fixed seeds): identical results', () => {
    const all = bytes(CHUNKED_BODY + NEXT_REQUEST);
    const whole = decode([all]);
    for (let seed = 1; seed <= 50; seed++) {
      const rand = prng(seed);
      const cuts: number[] = [];
      for (let at = 1 + Math.floor(rand() * 7); at < all.length; at += 1 + Math.floor(rand() * 7)) cuts.push(at);
      const r = decode(splitAt(all, cuts));
      assert.equal(r.done, true, `seed ${seed}`);
      assert.deepEqual(r.payload, whole.payload, `payload, seed ${seed}`);
      assert.deepEqual(r.trailers, whole.trailers, `trailers, seed ${seed}`);
      assert.equal(r.consumed, whole.consumed, `consumed, seed ${seed}`);
      assert.equal(r.rest.toString('latin1'), NEXT_REQUEST, `leftover, seed ${seed}`);
    }
  });

  test('a large chunk fed in pieces is passed on exactly', () => {
    const data = Buffer.alloc(100_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31 + 7) & 0xff;
    const framed = Buffer.concat([bytes(data.length.toString(16) + '\r\n'), data, bytes('\r\n0\r\n\r\n')]);
    const cuts: number[] = [];
    for (let at = 1000; at < framed.length; at += 1000) cuts.push(at);
    const r = decode(splitAt(framed, cuts));
    assert.equal(r.done, true);
    assert.equal(r.consumed, framed.length);
    assert.ok(r.payload.equals(data));
  });

  const malformed: Array<[string, string]> = [
    ['missing CRLF after the data (next size line follows directly)', '5\r\nhello0\r\n\r\n'],
    ['extra data byte before the CRLF', '5\r\nhelloX\r\n0\r\n\r\n'],
    ['bare LF after the data', '5\r\nhello\n0\r\n\r\n'],
    ['bare LF after the size', '5\nhello\r\n0\r\n\r\n'],
    ['CR CR LF after the size', '5\r\r\nhello\r\n0\r\n\r\n'],
    ['a non-hex size', 'g\r\nhello\r\n0\r\n\r\n'],
    ['a 0x-prefixed size', '0x5\r\nhello\r\n0\r\n\r\n'],
    ['a signed size', '-5\r\nhello\r\n0\r\n\r\n'],
    ['a plus-signed size', '+5\r\nhello\r\n0\r\n\r\n'],
    ['an empty size line', '\r\nhello\r\n0\r\n\r\n'],
    ['whitespace before the size', ' 5\r\nhello\r\n0\r\n\r\n'],
    ['a size of more than 13 hex digits', '00000000000005\r\nhello\r\n0\r\n\r\n'],
    ['junk after the size without a semicolon', '5 x\r\nhello\r\n0\r\n\r\n'],
    ['a trailer line without a colon', '0\r\nX-Trailer abc\r\n\r\n'],
    ['a trailer line with an empty name', '0\r\n: abc\r\n\r\n'],
    ['a trailer with a space before the colon', '0\r\nX-Trailer : abc\r\n\r\n'],
    ['an obs-folded trailer', '0\r\nX-Trailer: abc\r\n def\r\n\r\n'],
    ['a control byte in a trailer value', '0\r\nX-Trailer: a\u0001b\r\n\r\n'],
    ['a bare LF ending a trailer', '0\r\nX-Trailer: abc\n\r\n'],
    ['a bare LF as the final line', '0\r\n\n'],
  ];
  for (const [what, input] of malformed) {
    test(`-1 for ${what}`, () => {
      const d = new ChunkedDecoder();
      assert.equal(d.push(bytes(input), () => {}), -1);
      assert.equal(d.done, false);
    });
    test(`-1 for ${what}, fed byte by byte`, () => {
      const d = new ChunkedDecoder();
      const buf = bytes(input);
      let result = 0;
      for (let i = 0; i < buf.length && result !== -1; i++) result = d.push(buf.subarray(i, i + 1), () => {});
      assert.equal(result, -1);
      assert.equal(d.done, false);
    });
  }

  test('-1 for a size line longer than the line limit, even before its LF arrives', () => {
    const ext = ';x=' + 'a'.repeat(5000);
    assert.equal(new ChunkedDecoder().push(bytes('5' + ext + '\r\nhello\r\n0\r\n\r\n'), () => {}), -1);
    assert.equal(new ChunkedDecoder().push(bytes('5' + ext), () => {}), -1);
    // Across pushes the line still counts as one.
    const d = new ChunkedDecoder();
    let r = 0;
    for (let i = 0; i < 10 && r !== -1; i++) r = d.push(bytes('5;' + 'b'.repeat(999)), () => {});
    assert.equal(r, -1);
    // A long but reasonable extension is fine.
    const ok = decode([bytes('5;x=' + 'a'.repeat(1000) + '\r\nhello\r\n0\r\n\r\n')]);
    assert.equal(ok.done, true);
    assert.equal(ok.payload.toString(), 'hello');
  });

  test('-1 once trailers grow beyond their limit', () => {
    let trailers = '';
    for (let i = 0; i < 40; i++) trailers += `X-T${i}: ${'v'.repeat(1000)}\r\n`;
    assert.equal(new ChunkedDecoder().push(bytes('0\r\n' + trailers + '\r\n'), () => {}), -1);
  });

  test('-1 is not reported for a body that is merely incomplete', () => {
    for (const partial of ['5', '5\r', '5\r\nhel', '5\r\nhello', '5\r\nhello\r', '5\r\nhello\r\n0\r\n', '0\r\nX: a', '0\r\nX: a\r\n\r']) {
      const d = new ChunkedDecoder();
      assert.equal(d.push(bytes(partial), () => {}), partial.length, JSON.stringify(partial));
      assert.equal(d.done, false, JSON.stringify(partial));
    }
  });
});
