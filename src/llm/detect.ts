// Detection: is this exchange a model call (llm), other traffic of a known AI provider (app), or
// neither (unknown)? Which provider, API and agent? Every fired rule is named in `reasons`.
// On a known provider host a model-call path is enough. On any other host a path must be backed
// by evidence that is specific to the API — its headers (anthropic-version…) or its response
// signature — or, for unmistakable paths (/chat/completions, :generateContent), by the request
// body's shape. Body keys alone never make an LLM call: plenty of apps have /messages and /models.
import { bodyText, headerValue, type CaptureRecord } from '../capture/record.js';
import { activeRegistry, providerForHost, type CompiledRegistry, type PathRule } from './registry.js';
import { requestJson } from './record-json.js';
import type { Detection } from './types.js';

interface UrlParts {
  host: string;
  port?: number;
  path: string;
}

function urlParts(record: CaptureRecord): UrlParts {
  const raw = record.request?.url ?? '';
  const m = /^([a-z][a-z0-9+.-]*):\/\/(\[[^\]]+\]|[^/:?#]+)(?::(\d+))?([^?#]*)/i.exec(raw);
  if (m) {
    const scheme = m[1]!.toLowerCase();
    const port = m[3] ? Number(m[3]) : scheme === 'https' || scheme === 'wss' ? 443 : 80;
    return { host: m[2]!.toLowerCase(), port, path: m[4] || '/' };
  }
  const q = raw.indexOf('?');
  return { host: (record.server?.host ?? '').toLowerCase(), port: record.server?.port, path: (q === -1 ? raw : raw.slice(0, q)) || '/' };
}

function bodyHasKeys(record: CaptureRecord, keys: string[]): boolean {
  const body = requestJson(record);
  if (!body) return false;
  for (const k of keys) if (!(k in body)) return false;
  return true;
}

function responseHead(record: CaptureRecord): string {
  const body = record.response?.body;
  if (!body) return '';
  if (body.text !== undefined) return body.text.length > 4096 ? body.text.slice(0, 4096) : body.text;
  return bodyText({ ...body, base64: body.base64?.slice(0, 5464) });
}

function streamEvidence(reg: CompiledRegistry, record: CaptureRecord, api: string): string | undefined {
  let head: string | undefined;
  const ct = (headerValue(record.response?.headers, 'content-type') ?? '').toLowerCase();
  for (const s of reg.streams) {
    if (s.api !== api) continue;
    if (s.contentType && ct.includes(s.contentType)) return s.id;
    if (s.re) {
      head ??= responseHead(record);
      if (s.re.test(head)) return s.id;
    }
  }
  if (record.kind === 'websocket' && api === 'openai.responses') {
    for (const m of record.ws ?? []) if (m.from === 'client' && m.text?.includes('"response.create"')) return 'ws.response.create';
  }
  return undefined;
}

function headerEvidence(reg: CompiledRegistry, record: CaptureRecord, api: string): string | undefined {
  const headers = record.request?.headers;
  for (const h of reg.headers) if (h.api === api && headerValue(headers, h.header) !== undefined) return h.id;
  return undefined;
}

function bodyEvidence(reg: CompiledRegistry, record: CaptureRecord, api: string): string | undefined {
  for (const b of reg.bodies) if (b.api === api && bodyHasKeys(record, b.keys)) return b.id;
  return undefined;
}

/** Request headers by lower-case name (first value wins, as headerValue does). */
function headerMap(record: CaptureRecord): Map<string, string> {
  const m = new Map<string, string>();
  for (const [k, v] of record.request?.headers ?? []) {
    const key = k.toLowerCase();
    if (!m.has(key)) m.set(key, v);
  }
  return m;
}

export function detectAgent(record: CaptureRecord, reg: CompiledRegistry = activeRegistry()): { agent: string; reason: string } | undefined {
  const headers = headerMap(record);
  for (const a of reg.agents) {
    const v = headers.get(a.header);
    if (v === undefined) continue;
    if (a.requiresHeader && !headers.has(a.requiresHeader)) continue;
    if (a.equals !== undefined && v !== a.equals) continue;
    if (a.contains !== undefined && !v.toLowerCase().includes(a.contains.toLowerCase())) continue;
    if (a.re && !a.re.test(v)) continue;
    const shown = v.length > 60 ? `${v.slice(0, 57)}…` : v;
    return { agent: a.agent, reason: `header ${a.header}: ${shown} → agent ${a.agent} (${a.id})` };
  }
  const proc = record.client?.process;
  if (proc) for (const p of reg.processes) if (p.re.test(proc)) return { agent: p.agent, reason: `client process ${proc} → agent ${p.agent} (${p.id})` };
  const target = record.labels?.target;
  if (target && target !== 'generic') return { agent: target, reason: `label target=${target} → agent ${target}` };
  return undefined;
}

function matchPath(reg: CompiledRegistry, path: string, provider: string | undefined): PathRule | undefined {
  for (const r of reg.paths) {
    if (r.providers && (!provider || !r.providers.includes(provider))) continue;
    if (r.re.test(path)) return r;
  }
  return undefined;
}

export function detect(record: CaptureRecord, reg: CompiledRegistry = activeRegistry()): Detection {
  const reasons: string[] = [];
  const det: Detection = { kind: 'unknown', reasons };
  const url = urlParts(record);
  const host = record.kind === 'tunnel' || !record.request ? (record.server?.host ?? '').toLowerCase() : url.host;
  const port = record.kind === 'tunnel' || !record.request ? record.server?.port : url.port;
  const prov = providerForHost(reg, host, port);
  if (prov) {
    det.provider = prov.provider;
    reasons.push(`host ${host} matches ${prov.rule} → provider ${prov.provider} (provider.${prov.provider})`);
  }
  const agent = detectAgent(record, reg);
  if (agent) {
    det.agent = agent.agent;
    reasons.push(agent.reason);
  }
  if (record.kind === 'tunnel' || !record.request) {
    if (prov) {
      det.kind = 'app';
      reasons.push('not decrypted (tunnel): known provider host, content unseen');
    }
    return det;
  }
  const rule = matchPath(reg, url.path, prov?.provider);
  if (!rule) {
    if (prov) {
      det.kind = 'app';
      reasons.push(`path ${url.path} is not a model call of ${prov.provider}`);
    }
    return det;
  }
  if (rule.kind === 'app' || !rule.api) {
    if (prov) det.kind = 'app';
    reasons.push(`path ${url.path} is a listing/metadata endpoint, not a model call (${rule.id})`);
    return det;
  }
  let api = rule.api;
  if (api === 'bedrock.invoke' && bodyHasKeys(record, ['anthropic_version'])) {
    api = 'anthropic.messages';
    reasons.push('body has anthropic_version → Anthropic Messages on Bedrock (body.anthropic_version)');
  }
  if (prov) {
    det.kind = 'llm';
    det.api = api;
    reasons.push(`path ${url.path} → ${api} (${rule.id})`);
    return det;
  }
  // Unknown host: the path needs API-specific evidence.
  const header = headerEvidence(reg, record, api);
  const stream = streamEvidence(reg, record, api);
  const body = bodyEvidence(reg, record, api);
  const strong = rule.strength === 'strong';
  if (header || stream || (strong && body)) {
    det.kind = 'llm';
    det.api = api;
    reasons.push(`path ${url.path} → ${api} (${rule.id})`);
    if (header) reasons.push(`request header confirms ${api} (${header})`);
    if (stream) reasons.push(`response signature confirms ${api} (${stream})`);
    if (body) reasons.push(`request body shape fits ${api} (${body})`);
    return det;
  }
  reasons.push(
    `path ${url.path} looks like ${api} (${rule.id}) but the host is not a known provider and no ${strong ? 'body shape, ' : ''}API header or response signature confirms it`,
  );
  return det;
}
