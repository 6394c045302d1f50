// The per-install certificate authority and the leaf certificates minted from it.
// One CA per $AGENTTAP_HOME (ca.pem + ca-key.pem, key mode 0600). Leaves are ECDSA P-256 and
// share one key pair per process: signing a new leaf then costs one signature (a few ms), and a
// TLS context per host is created once and cached.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { X509Certificate, webcrypto, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';

x509.cryptoProvider.set(webcrypto as never);

type CryptoKey = webcrypto.CryptoKey;
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
  private leafKeys?: Promise<{ keys: CryptoKeyPair; pem: string }>;

  constructor(
    readonly certPem: string,
    private readonly caKey: CryptoKey,
    private readonly caCert: x509.X509Certificate,
    readonly files: CaFiles,
    /** True when this call created the CA files. */
    readonly created: boolean,
  ) {}

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
    const { keys, pem } = await this.sharedLeafKeys();
    return { certPem: await this.mintLeaf(host, keys.publicKey), keyPem: pem };
  }

  private sharedLeafKeys(): Promise<{ keys: CryptoKeyPair; pem: string }> {
    this.leafKeys ??= (async () => {
      const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
      return { keys, pem: toPem(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey), 'PRIVATE KEY') };
    })();
    return this.leafKeys;
  }

  private async mintContext(host: string): Promise<tls.SecureContext> {
    const { keys, pem } = await this.sharedLeafKeys();
    const cert = await this.mintLeaf(host, keys.publicKey);
    return tls.createSecureContext({ key: pem, cert: `${cert}\n${this.certPem}` });
  }

  private async mintLeaf(host: string, publicKey: CryptoKey): Promise<string> {
    const now = Date.now();
    const san: x509.JsonGeneralName = net.isIP(host) ? { type: 'ip', value: host } : { type: 'dns', value: host };
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: randomSerial(),
      subject: [{ CN: [cnFor(host)] }],
      issuer: this.caCert.subject,
      notBefore: new Date(now - DAY),
      // Under 398 days: Apple and Chrome reject longer-lived leaves.
      notAfter: new Date(now + 390 * DAY),
      signingAlgorithm: EC,
      publicKey: publicKey as never,
      signingKey: this.caKey as never,
      extensions: [
        new x509.SubjectAlternativeNameExtension([san]),
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        await x509.AuthorityKeyIdentifierExtension.create(this.caCert.publicKey),
        await x509.SubjectKeyIdentifierExtension.create(publicKey as never),
      ],
    });
    return cert.toString('pem');
  }
}

function cnFor(host: string): string {
  return host.length > 64 ? host.slice(0, 64) : host;
}

function randomSerial(): string {
  const b = randomBytes(16);
  b[0]! &= 0x7f; // positive
  return b.toString('hex');
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
      const caCert = new x509.X509Certificate(certPem);
      const caKey = await webcrypto.subtle.importKey('pkcs8', fromPem(keyPem), EC, false, ['sign']);
      return new CertificateAuthority(certPem, caKey as CryptoKey, caCert, files, false);
    } catch (e) {
      throw new CertificateAuthorityError('CA_UNREADABLE', `the CA in ${home} is damaged (${(e as Error).message}); run: agenttap ca --regenerate`);
    }
  }
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
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
  return new CertificateAuthority(certPem, keys.privateKey, caCert, files, true);
}
