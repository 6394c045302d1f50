// A combined CA bundle: the roots the machine already trusts plus agenttap's CA. Pointing
// SSL_CERT_FILE & co. at our CA alone would break every other TLS connection a child makes
// (git, pip, curl to a non-captured host), so the bundle keeps the system roots.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';

/** Where distributions keep their PEM bundle (Debian/Ubuntu, RHEL/Fedora, openSUSE, Alpine/macOS). */
export const SYSTEM_BUNDLE_PATHS = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
  '/etc/ssl/cert.pem',
];

export interface BundleSources {
  /** Our CA certificate, PEM. */
  caPem: string;
  /** A bundle the user already pointed SSL_CERT_FILE at (corporate roots); kept first when readable. */
  existingBundle?: string;
}

/** The PEM text of the system roots: the distribution's bundle, else Node's built-in Mozilla roots. */
export function systemRootsPem(paths: readonly string[] = SYSTEM_BUNDLE_PATHS): { pem: string; source: string } {
  for (const p of paths) {
    try {
      const pem = readFileSync(p, 'utf8');
      if (pem.includes('BEGIN CERTIFICATE')) return { pem, source: p };
    } catch {
      // try the next location
    }
  }
  return { pem: rootCertificates.join('\n'), source: 'node:tls rootCertificates' };
}

/** Build the combined bundle text (pure: no I/O beyond reading the given roots). */
export function combineBundle(rootsPem: string, caPem: string, extraPem?: string): string {
  const parts = [extraPem, rootsPem].filter((p): p is string => !!p && p.includes('BEGIN CERTIFICATE'));
  const body = parts.map((p) => p.trimEnd()).join('\n');
  return `${body}\n# agenttap CA (added for capture runs)\n${caPem.trim()}\n`;
}

/**
 * Write `<home>/ca-bundle.pem` (atomically, so concurrent runs never see half a file) and return
 * its path. An existing SSL_CERT_FILE the user set is kept in front of the system roots.
 */
export function writeCombinedBundle(home: string, src: BundleSources): string {
  let extra: string | undefined;
  if (src.existingBundle && existsSync(src.existingBundle)) {
    try {
      extra = readFileSync(src.existingBundle, 'utf8');
    } catch {
      extra = undefined;
    }
  }
  const roots = systemRootsPem();
  // A user bundle that already is the system bundle would be duplicated.
  if (extra && extra === roots.pem) extra = undefined;
  const text = combineBundle(roots.pem, src.caPem, extra);
  const file = join(home, 'ca-bundle.pem');
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, file);
  return file;
}
