// Leaf certificates for TLS interception, encoded directly in DER with node:crypto signing.
// A leaf is one fixed shape (ECDSA P-256, SAN, server auth), so a ~100-line encoder replaces the
// general X.509 library on the proxy's path: loading that library costs ~19 MB of RSS in every
// proxy process (measured), and the CA is only generated with it once per install.
import { createHash, sign, type KeyObject } from 'node:crypto';
import net from 'node:net';

// ---------------------------------------------------------------- DER writing

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
}

const seq = (...c: Buffer[]) => tlv(0x30, ...c);
const octets = (b: Buffer) => tlv(0x04, b);
const bits = (b: Buffer) => tlv(0x03, Buffer.from([0]), b);

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const out = [a! * 40 + b!];
  for (const n of rest) {
    const group = [n & 0x7f];
    for (let v = n >>> 7; v > 0; v >>>= 7) group.unshift(0x80 | (v & 0x7f));
    out.push(...group);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime through 2049, GeneralizedTime after (RFC 5280 4.1.2.5). */
function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(iso.slice(2), 'latin1')) : tlv(0x18, Buffer.from(iso, 'latin1'));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [Buffer.from([0x01, 0x01, 0xff])] : []), octets(value));
}

// ---------------------------------------------------------------- DER reading (the CA certificate)

interface Tlv {
  tag: number;
  /** Whole element, header included. */
  raw: Buffer;
  body: Buffer;
}

function children(b: Buffer): Tlv[] {
  const out: Tlv[] = [];
  let i = 0;
  while (i < b.length) {
    const tag = b[i]!;
    let n = b[i + 1]!;
    let h = 2;
    if (n & 0x80) {
      const k = n & 0x7f;
      n = 0;
      for (let j = 0; j < k; j++) n = n * 256 + b[i + 2 + j]!;
      h += k;
    }
    out.push({ tag, raw: b.subarray(i, i + h + n), body: b.subarray(i + h, i + h + n) });
    i += h + n;
  }
  return out;
}

export interface IssuerInfo {
  /** The CA's subject Name, byte for byte (a leaf's issuer must match it exactly). */
  subject: Buffer;
  /** The CA's subject key identifier (a leaf's authority key identifier). */
  keyId: Buffer;
}

/** Subject and key identifier of a CA certificate (DER). */
export function issuerInfo(certDer: Buffer): IssuerInfo {
  const tbs = children(children(children(certDer)[0]!.body)[0]!.body);
  const fields = tbs[0]!.tag === 0xa0 ? tbs.slice(1) : tbs;
  // serial, signature, issuer, validity, subject, subjectPublicKeyInfo, then optional [1] [2] [3].
  const subject = fields[4]!.raw;
  const spki = fields[5]!;
  const exts = fields.find((f) => f.tag === 0xa3);
  const ski = exts && children(children(exts.body)[0]!.body).find((e) => children(e.body)[0]!.raw.equals(oid('2.5.29.14')));
  const keyId = ski ? children(children(ski.body).at(-1)!.body)[0]!.body : keyIdOf(spki.raw);
  return { subject: Buffer.from(subject), keyId: Buffer.from(keyId) };
}

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey bits. */
function keyIdOf(spkiDer: Buffer): Buffer {
  const key = children(children(spkiDer)[0]!.body)[1]!.body.subarray(1);
  return createHash('sha1').update(key).digest();
}

// ---------------------------------------------------------------- the leaf

function ipBytes(ip: string): Buffer {
  if (net.isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes its two 16-bit words first.
  const s = ip.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a: string, b: string, c: string, d: string) => `${((+a << 8) | +b).toString(16)}:${((+c << 8) | +d).toString(16)}`);
  const [head, rest] = s.split('::') as [string, string | undefined];
  const words = (x: string) => (x ? x.split(':').map((w) => parseInt(w, 16)) : []);
  const h = words(head);
  const r = words(rest ?? '');
  const all = [...h, ...Array<number>(8 - h.length - r.length).fill(0), ...r];
  const out = Buffer.alloc(16);
  all.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  return out;
}

export interface LeafSpec {
  host: string;
  /** Positive serial number bytes (at most 20). */
  serial: Buffer;
  notBefore: Date;
  notAfter: Date;
  issuer: IssuerInfo;
  /** The leaf's public key, SubjectPublicKeyInfo DER (ECDSA P-256). */
  publicKeySpki: Buffer;
  /** The CA's ECDSA P-256 private key. */
  caKey: KeyObject;
}

const ECDSA_SHA256 = seq(oid('1.2.840.10045.4.3.2'));

/** A server-auth leaf for `host` (DNS name or IP literal), signed by the CA, as PEM. */
export function mintLeafPem(spec: LeafSpec): string {
  const cn = spec.host.length > 64 ? spec.host.slice(0, 64) : spec.host;
  const san = net.isIP(spec.host) ? tlv(0x87, ipBytes(spec.host)) : tlv(0x82, Buffer.from(spec.host, 'latin1'));
  const serial = spec.serial[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), spec.serial]) : spec.serial;
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))), // v3
    tlv(0x02, serial),
    ECDSA_SHA256,
    spec.issuer.subject,
    seq(time(spec.notBefore), time(spec.notAfter)),
    seq(tlv(0x31, seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(cn, 'utf8'))))),
    spec.publicKeySpki,
    tlv(
      0xa3,
      seq(
        extension('2.5.29.17', false, seq(san)),
        extension('2.5.29.19', true, seq()), // basicConstraints: not a CA
        extension('2.5.29.15', true, Buffer.from([0x03, 0x02, 0x05, 0xa0])), // digitalSignature, keyEncipherment
        extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))), // serverAuth
        extension('2.5.29.35', false, seq(tlv(0x80, spec.issuer.keyId))),
        extension('2.5.29.14', false, octets(keyIdOf(spec.publicKeySpki))),
      ),
    ),
  );
  const signature = sign('sha256', tbs, { key: spec.caKey, dsaEncoding: 'der' });
  const der = seq(tbs, ECDSA_SHA256, bits(signature));
  const b64 = der.toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----`;
}
