// Hop-by-hop headers (RFC 9110 7.6.1) are the only ones the proxy removes when forwarding.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te', 'transfer-encoding', 'upgrade']);

/**
 * rawHeaders (flat) minus hop-by-hop headers and those named in `Connection`, order and case
 * kept. `hostOverride` replaces the Host value (reverse mode talks to a different host).
 */
export function endToEndHeaders(raw: readonly string[], hostOverride?: string): string[] {
  let named: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length === 10 && raw[i]!.toLowerCase() === 'connection') {
      for (const t of raw[i + 1]!.split(',')) (named ??= new Set()).add(t.trim().toLowerCase());
    }
  }
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i]!;
    const lk = k.toLowerCase();
    if (HOP_BY_HOP.has(lk) || named?.has(lk)) continue;
    out.push(k, hostOverride !== undefined && lk === 'host' ? hostOverride : raw[i + 1]!);
  }
  return out;
}
