// agenttap ca: the per-install CA (created on first use), its path and fingerprint, how to trust it.
import type { Command } from 'commander';
import { caFiles, CertificateAuthorityError, loadOrCreateCA } from '../engine/cert-authority.js';
import { agenttapHome } from '../engine/home.js';
import { CliError } from './errors.js';

export function trustInstructions(certPath: string): string {
  return `How to trust the agenttap CA (${certPath})

Only needed for clients that go through the forward proxy with HTTPS; \`agenttap run\` sets
the per-tool variables for you. Trust it system-wide only if you want every program to accept it.

Node.js (Claude Code, Codex, Gemini CLI, opencode, SDKs):
  export NODE_EXTRA_CA_CERTS="${certPath}"

Python (requests, httpx, the openai / anthropic SDKs):
  export REQUESTS_CA_BUNDLE="${certPath}"   # requests
  export SSL_CERT_FILE="${certPath}"        # httpx and the ssl module
  (these replace the default bundle: to keep public roots too, concatenate certifi's bundle and this file)

curl:
  curl --cacert "${certPath}" -x http://127.0.0.1:8080 https://…
  export CURL_CA_BUNDLE="${certPath}"

macOS (system keychain; browsers and most apps):
  sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain "${certPath}"
  remove: sudo security delete-certificate -c "agenttap CA" /Library/Keychains/System.keychain

Debian / Ubuntu:
  sudo cp "${certPath}" /usr/local/share/ca-certificates/agenttap.crt && sudo update-ca-certificates
  remove: sudo rm /usr/local/share/ca-certificates/agenttap.crt && sudo update-ca-certificates --fresh

Fedora / RHEL:
  sudo cp "${certPath}" /etc/pki/ca-trust/source/anchors/agenttap.pem && sudo update-ca-trust
  remove: sudo rm /etc/pki/ca-trust/source/anchors/agenttap.pem && sudo update-ca-trust

Windows (PowerShell as administrator):
  Import-Certificate -FilePath "${certPath}" -CertStoreLocation Cert:\\LocalMachine\\Root
  remove: Get-ChildItem Cert:\\LocalMachine\\Root | Where-Object Subject -like "*agenttap CA*" | Remove-Item

The CA key (${certPath.replace(/ca\.pem$/, 'ca-key.pem')}) never leaves this machine; anyone holding it can
impersonate any site to clients that trust this CA. Replace it with: agenttap ca --regenerate
`;
}

export function register(program: Command): void {
  program
    .command('ca')
    .description('show (creating on first use) the per-install CA: path, SHA-256 fingerprint, how to trust it')
    .option('--path', 'print only the CA certificate path')
    .option('--regenerate', 'replace the CA with a new one (clients must trust the new one)')
    .option('--trust-instructions', 'print how to trust the CA on macOS, Linux, Windows, Node, Python and curl')
    .action(async (flags: { path?: boolean; regenerate?: boolean; trustInstructions?: boolean }) => {
      const home = agenttapHome();
      let ca;
      try {
        ca = await loadOrCreateCA(home, { regenerate: !!flags.regenerate });
      } catch (e) {
        if (e instanceof CertificateAuthorityError) throw new CliError(e.message, 1, e.code);
        throw e;
      }
      const { certPath, keyPath } = caFiles(home);
      if (flags.path) {
        process.stdout.write(certPath + '\n');
        return;
      }
      if (flags.trustInstructions) {
        process.stdout.write(trustInstructions(certPath));
        return;
      }
      const lines = [
        `CA certificate: ${certPath}`,
        `CA key:         ${keyPath} (mode 0600)`,
        `SHA-256 fingerprint: ${ca.fingerprint256}`,
      ];
      if (flags.regenerate) lines.push('A new CA was generated: clients that trusted the old one must trust this one (agenttap ca --trust-instructions).');
      else if (ca.created) lines.push('Created now. Trust it: agenttap ca --trust-instructions');
      process.stdout.write(lines.join('\n') + '\n');
    });
}
