// The Headers tab: request and response headers in wire order; secret-bearing values are masked
// until the user asks to see them.
import { useEffect, useState } from 'preact/hooks';
import type { HeaderList } from '../../../src/capture/record.js';
import type { Detail } from '../../../src/server/protocol.js';

const SECRET = /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|api-key|x-goog-api-key|anthropic-api-key|openai-api-key|x-auth-token|x-amz-security-token|x-cursor-checksum|x-session-token)$/i;

export function mask(value: string): string {
  if (value.startsWith('[REDACTED')) return value;
  const tail = value.length > 12 ? value.slice(-4) : '';
  return `•••••••• ${tail ? `…${tail}` : ''}`.trim();
}

function Table({ title, headers, reveal }: { title: string; headers: HeaderList | undefined; reveal: boolean }) {
  return (
    <section>
      <h4>{title}</h4>
      {headers?.length ? (
        <table class="kv">
          <tbody>
            {headers.map(([k, v], i) => (
              <tr key={i}>
                <th>{k}</th>
                <td class={SECRET.test(k) && !reveal ? 'masked' : ''}>{SECRET.test(k) && !reveal ? mask(v) : v}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <div class="dim">none</div>
      )}
    </section>
  );
}

export function HeadersTab({ detail }: { detail: Detail }) {
  const [reveal, setReveal] = useState(false);
  const r = detail.record;
  // Secrets go back under the mask when another exchange is selected.
  useEffect(() => setReveal(false), [r.id]);
  return (
    <div class="headers-tab">
      <div class="body-bar">
        <label>
          <input type="checkbox" checked={reveal} onChange={(e) => setReveal((e.target as HTMLInputElement).checked)} /> show secrets
        </label>
        <span class="dim">
          {r.request?.method} {r.request?.url} · HTTP/{r.request?.httpVersion} · {r.server.host}:{r.server.port}
          {r.server.tls ? ` · TLS${r.server.alpn ? ` (${r.server.alpn})` : ''}` : ''}
          {r.server.mappedTo ? ` · mapped to ${r.server.mappedTo}` : ''}
          {r.client ? ` · client ${r.client.ip}:${r.client.port}${r.client.process ? ` ${r.client.process}` : ''}${r.client.pid ? ` pid ${r.client.pid}` : ''}` : ''}
        </span>
      </div>
      <Table title="Request headers" headers={r.request?.headers} reveal={reveal} />
      <Table title={`Response headers${r.response ? ` · ${r.response.status} ${r.response.statusText ?? ''}` : ''}`} headers={r.response?.headers} reveal={reveal} />
      {r.response?.trailers?.length ? <Table title="Response trailers" headers={r.response.trailers} reveal={reveal} /> : null}
      {r.error ? (
        <div class="error-box">
          error · {r.error.phase} {r.error.code ?? ''}: {r.error.message}
        </div>
      ) : null}
      {r.labels ? (
        <section>
          <h4>Labels</h4>
          <table class="kv">
            <tbody>
              {Object.entries(r.labels).map(([k, v]) => (
                <tr key={k}>
                  <th>{k}</th>
                  <td>{v}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ) : null}
    </div>
  );
}
