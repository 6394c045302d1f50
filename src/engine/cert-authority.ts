// The per-install certificate authority and the leaf certificates minted from it.
// One CA per $AGENTTAP_HOME (ca.pem + ca-key.pem, key mode 0600). Leaves are ECDSA P-256 and
// share one key pair per process: signing a new leaf then costs one signature (under a ms), and
// a TLS context per host is created once and cached. Leaves are encoded by leaf-cert.ts; the
// X.509 library (~19 MB of RSS once loaded) is only imported to generate a new CA.
import { createPrivateKey, generateKeyPairSync, X509Certificate, webcrypto, randomBytes, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { issuerInfo, mintLeafPem, type IssuerInfo } from './leaf-cert.js';

type CryptoKeyPair = webcrypto.CryptoKeyPair;

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const CA_FILE = 'ca.pem';
const CA_KEY_FILE = 'ca-key.pem';
const DAY = 86_400_000;

export class CertificateAuthorityError extends Error {
  constructor(
    readonly code: 'CA_UNREADABLE' | 'CA_UNWRITABLE',
    message: string,
  ) {
    super(message);
    this.name = 'CertificateAuthorityError';
  }
}

export interface CaFiles {
  certPath: string;
  keyPath: string;
}

export function caFiles(home: string): CaFiles {
  return { certPath: path.join(home, CA_FILE), keyPath: path.join(home, CA_KEY_FILE) };
}

export interface LoadCaOptions {
  /** Replace an existing CA with a fresh one. */
  regenerate?: boolean;
}

export class CertificateAuthority {
  /** Leaf TLS contexts by host, shared by every connection to that host. */
  private readonly contexts = new Map<string, Promise<tls.SecureContext>>();
  private leafKeys?: { spki: Buffer; pem: string };
  private readonly issuer: IssuerInfo;

  constructor(
    readonly certPem: string,
    private readonly caKey: KeyObject,
    readonly files: CaFiles,
    /** True when this call created the CA files. */
    readonly created: boolean,
  ) {
    this.issuer = issuerInfo(fromPem(certPem));
  }

  /** SHA-256 fingerprint, colon-separated upper-case hex (as browsers and openssl show it). */
  get fingerprint256(): string {
    return new X509Certificate(this.certPem).fingerprint256;
  }

  /** A TLS server context presenting a leaf for `host` (DNS name or IP literal), cached per host. */
  secureContextFor(host: string): Promise<tls.SecureContext> {
    const key = host.toLowerCase().replace(/^\[|\]$/g, '');
    let ctx = this.contexts.get(key);
    if (!ctx) {
      ctx = this.mintContext(key);
      ctx.catch(() => this.contexts.delete(key));
      this.contexts.set(key, ctx);
    }
    return ctx;
  }

  /** PEM of a leaf for `host` (for tests and tools; the proxy uses secureContextFor). */
  async leafFor(host: string): Promise<{ certPem: string; keyPem: string }> {
    const { spki, pem } = this.sharedLeafKeys();
    return { certPem: this.mintLeaf(host, spki), keyPem: pem };
  }

  private sharedLeafKeys(): { spki: Buffer; pem: string } {
    if (!this.leafKeys) {
      const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      this.leafKeys = { spki: publicKey.export({ type: 'spki', format: 'der' }), pem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
    }
    return this.leafKeys;
  }

  private async mintContext(host: string): Promise<tls.SecureContext> {
    const { spki, pem } = this.sharedLeafKeys();
    const cert = this.mintLeaf(host, spki);
    return tls.createSecureContext({ key: pem, cert: `${cert}\n${this.certPem}` });
  }

  private mintLeaf(host: string, spki: Buffer): string {
    const now = Date.now();
    return mintLeafPem({
      host,
      serial: randomSerial(),
      notBefore: new Date(now - DAY),
      // Under 398 days: Apple and Chrome reject longer-lived leaves.
      notAfter: new Date(now + 390 * DAY),
      issuer: this.issuer,
      publicKeySpki: spki,
      caKey: this.caKey,
    });
  }
}

/** 16 random bytes, positive, and without a leading zero byte (DER integers are minimal). */
function randomSerial(): Buffer {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01;
  return b;
}

function toPem(der: ArrayBuffer, label: string): string {
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}

function fromPem(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----(BEGIN|END)[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
}

/** Load the CA in `home`, creating it on first use (or when `regenerate` is set). */
export async function loadOrCreateCA(home: string, opts: LoadCaOptions = {}): Promise<CertificateAuthority> {
  const files = caFiles(home);
  if (!opts.regenerate && existsSync(files.certPath) && existsSync(files.keyPath)) {
    let certPem: string;
    let keyPem: string;
    try {
      certPem = readFileSync(files.certPath, 'utf8');
      keyPem = readFileSync(files.keyPath, 'utf8');
    } catch (e) {
      throw new CertificateAuthorityError('CA_UNREADABLE', `cannot read the CA in ${home}: ${(e as Error).message} (fix the permissions, or run: agenttap ca --regenerate)`);
    }
    try {
      new X509Certificate(certPem); // throws on a damaged certificate
      return new CertificateAuthority(certPem, createPrivateKey(keyPem), files, false);
    } catch (e) {
      throw new CertificateAuthorityError('CA_UNREADABLE', `the CA in ${home} is damaged (${(e as Error).message}); run: agenttap ca --regenerate`);
    }
  }
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as never);
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial().toString('hex'),
    name: [{ CN: ['agenttap CA'], O: ['agenttap'], OU: [`generated ${new Date(now).toISOString().slice(0, 10)}`] }],
    notBefore: new Date(now - DAY),
    notAfter: new Date(now + 10 * 365 * DAY),
    signingAlgorithm: EC,
    keys: keys as never,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as never),
    ],
  });
  const certPem = caCert.toString('pem') + '\n';
  const keyPem = toPem(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY');
  try {
    mkdirSync(home, { recursive: true, mode: 0o700 });
    // Key first, written 0600 from the start, then moved into place so no reader sees half a file.
    const tmpKey = `${files.keyPath}.${process.pid}.tmp`;
    writeFileSync(tmpKey, keyPem, { mode: 0o600 });
    chmodSync(tmpKey, 0o600);
    renameSync(tmpKey, files.keyPath);
    const tmpCert = `${files.certPath}.${process.pid}.tmp`;
    writeFileSync(tmpCert, certPem, { mode: 0o644 });
    renameSync(tmpCert, files.certPath);
  } catch (e) {
    throw new CertificateAuthorityError('CA_UNWRITABLE', `cannot write the CA to ${home}: ${(e as Error).message} (set AGENTTAP_HOME to a writable directory)`);
  }
  return new CertificateAuthority(certPem, createPrivateKey(keyPem), files, true);
}
