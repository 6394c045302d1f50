// The LLM tab: what the LLM layer made of the exchange — provider, API, model, message count,
// tokens (in, out, cache, reasoning), cost and why it was detected as it was.
import type { Detail } from '../../../src/server/protocol.js';
import { num, usd } from '../format.js';

export function LlmTab({ detail }: { detail: Detail }) {
  const x = detail.llm;
  const row = detail.row;
  if (!x) {
    return (
      <div class="llm-tab">
        <p class="dim">Not recognised as an LLM exchange.</p>
      </div>
    );
  }
  const u = x.response.usage ?? {};
  const d = x.detection;
  const toolCalls = x.response.turns.flatMap((t) => t.blocks).filter((b) => b.type === 'tool_call');
  return (
    <div class="llm-tab">
      <table class="kv">
        <tbody>
          <tr><th>kind</th><td>{d.kind}</td></tr>
          <tr><th>provider</th><td>{d.provider ?? '–'}</td></tr>
          <tr><th>api</th><td>{d.api ?? '–'}</td></tr>
          <tr><th>agent</th><td>{d.agent ?? row.agent ?? '–'}</td></tr>
          <tr><th>model</th><td>{x.model ?? '–'}</td></tr>
          <tr><th>streamed</th><td>{x.stream ? 'yes' : 'no'}</td></tr>
          <tr><th>messages</th><td>{x.request.turns.length}</td></tr>
          <tr><th>tools offered</th><td>{x.request.tools.length}</td></tr>
          <tr><th>tool calls</th><td>{toolCalls.length ? toolCalls.map((b) => (b.type === 'tool_call' ? b.name : '')).join(', ') : '0'}</td></tr>
          <tr><th>tokens in</th><td data-testid="tokens-in">{num(u.input) || '–'}</td></tr>
          <tr><th>tokens out</th><td>{num(u.output) || '–'}</td></tr>
          <tr><th>cache read / write</th><td>{num(u.cacheRead) || '–'} / {num(u.cacheWrite) || '–'}</td></tr>
          <tr><th>reasoning</th><td>{num(u.reasoning) || '–'}</td></tr>
          <tr><th>cost</th><td>{x.costUsd !== undefined ? usd(x.costUsd) : 'unknown price'}</td></tr>
          <tr><th>stop reason</th><td>{x.response.stopReason ?? '–'}</td></tr>
          <tr><th>context key</th><td>{x.contextKey ?? '–'}</td></tr>
          {detail.record.server.mappedTo ? <tr><th>mapped to</th><td>{detail.record.server.mappedTo}</td></tr> : null}
        </tbody>
      </table>
      <h4>Detection reasons</h4>
      <ul class="reasons">
        {d.reasons.map((r, i) => (
          <li key={i}>{r}</li>
        ))}
      </ul>
    </div>
  );
}
