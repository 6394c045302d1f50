// The provider registry (data/providers.json, plus user rules from --registry FILE): plain data,
// compiled once into matchers. User rules come first so they can override the built-in ones.
import { readFileSync } from 'node:fs';

export interface ProviderRule {
  id: string;
  name?: string;
  hosts?: string[];
  hostPatterns?: string[];
  /** host:port pairs for local servers (Ollama on :11434, LM Studio on :1234). */
  hostPorts?: string[];
}
export interface PathRule {
  id: string;
  pattern: string;
  api?: string;
  kind?: 'app';
  providers?: string[];
  strength?: 'strong' | 'weak';
}
export interface HeaderRule {
  id: string;
  header: string;
  api?: string;
  provider?: string;
}
export interface AgentRule {
  id: string;
  header: string;
  agent: string;
  contains?: string;
  equals?: string;
  pattern?: string;
  requiresHeader?: string;
}
export interface ProcessRule {
  id: string;
  /** Regular expression over the client process name. */
  pattern: string;
  agent: string;
}
export interface BodyRule {
  id: string;
  api: string;
  keys: string[];
}
export interface StreamRule {
  id: string;
  api: string;
  pattern?: string;
  contentType?: string;
}
export interface RegistryData {
  schema?: number;
  version?: string;
  updated?: string;
  providers?: ProviderRule[];
  paths?: PathRule[];
  headers?: HeaderRule[];
  agents?: AgentRule[];
  processes?: ProcessRule[];
  bodies?: BodyRule[];
  streams?: StreamRule[];
}

export interface CompiledRegistry {
  version: string;
  updated: string;
  providers: ProviderRule[];
  hostExact: Map<string, string>;
  hostPort: Map<string, string>;
  hostPatterns: { re: RegExp; provider: string; pattern: string }[];
  paths: (PathRule & { re: RegExp })[];
  headers: HeaderRule[];
  agents: (AgentRule & { re?: RegExp })[];
  processes: (ProcessRule & { re: RegExp })[];
  bodies: BodyRule[];
  streams: (StreamRule & { re?: RegExp })[];
}

export class RegistryError extends Error {
  readonly code = 'bad-registry';
  constructor(message: string) {
    super(message);
    this.name = 'RegistryError';
  }
}

function globToRegExp(glob: string): RegExp {
  const esc = glob.toLowerCase().replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.+');
  return new RegExp(`^${esc}$`);
}

function compileRe(src: string, where: string, flags = ''): RegExp {
  try {
    return new RegExp(src, flags);
  } catch (e) {
    throw new RegistryError(`${where}: bad regular expression ${JSON.stringify(src)} (${(e as Error).message})`);
  }
}

export function compileRegistry(layers: RegistryData[]): CompiledRegistry {
  const reg: CompiledRegistry = {
    version: '',
    updated: '',
    providers: [],
    hostExact: new Map(),
    hostPort: new Map(),
    hostPatterns: [],
    paths: [],
    headers: [],
    agents: [],
    processes: [],
    bodies: [],
    streams: [],
  };
  // Layers are given highest priority first; a host already claimed keeps its first owner.
  for (const layer of layers) {
    if (!reg.version && layer.version) reg.version = layer.version;
    if (!reg.updated && layer.updated) reg.updated = layer.updated;
    for (const p of layer.providers ?? []) {
      if (typeof p.id !== 'string') throw new RegistryError('provider without an id');
      reg.providers.push(p);
      for (const h of p.hosts ?? []) if (!reg.hostExact.has(h.toLowerCase())) reg.hostExact.set(h.toLowerCase(), p.id);
      for (const h of p.hostPorts ?? []) if (!reg.hostPort.has(h.toLowerCase())) reg.hostPort.set(h.toLowerCase(), p.id);
      for (const g of p.hostPatterns ?? []) reg.hostPatterns.push({ re: globToRegExp(g), provider: p.id, pattern: g });
    }
    for (const r of layer.paths ?? []) reg.paths.push({ ...r, re: compileRe(r.pattern, `path rule ${r.id}`) });
    reg.headers.push(...(layer.headers ?? []));
    for (const a of layer.agents ?? []) {
      const rule = { ...a, header: a.header.toLowerCase(), ...(a.requiresHeader ? { requiresHeader: a.requiresHeader.toLowerCase() } : {}) };
      reg.agents.push(a.pattern ? { ...rule, re: compileRe(a.pattern, `agent rule ${a.id}`, 'i') } : rule);
    }
    for (const pr of layer.processes ?? []) reg.processes.push({ ...pr, re: compileRe(pr.pattern, `process rule ${pr.id}`) });
    reg.bodies.push(...(layer.bodies ?? []));
    for (const s of layer.streams ?? []) reg.streams.push(s.pattern ? { ...s, re: compileRe(s.pattern, `stream rule ${s.id}`) } : s);
  }
  return reg;
}

const BUILTIN_URL = new URL('../../../data/providers.json', import.meta.url);

let builtinData: RegistryData | undefined;
export function builtinRegistryData(): RegistryData {
  builtinData ??= JSON.parse(readFileSync(BUILTIN_URL, 'utf8')) as RegistryData;
  return builtinData;
}

/** Reads a user registry file (same shape as data/providers.json). */
export function readRegistryFile(file: string): RegistryData {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new RegistryError(`cannot read registry file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new RegistryError(`registry file ${file} is not valid JSON: ${(e as Error).message}`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new RegistryError(`registry file ${file} must hold a JSON object with providers/paths/agents… arrays`);
  const d = data as RegistryData;
  for (const key of ['providers', 'paths', 'headers', 'agents', 'processes', 'bodies', 'streams'] as const) {
    if (d[key] !== undefined && !Array.isArray(d[key])) throw new RegistryError(`registry file ${file}: "${key}" must be an array`);
  }
  compileRegistry([d]); // validates the regular expressions now, with the file named
  return d;
}

let active: CompiledRegistry | undefined;

/** The registry detection uses (built-in data plus any user rules installed with useRegistryFiles). */
export function activeRegistry(): CompiledRegistry {
  active ??= compileRegistry([builtinRegistryData()]);
  return active;
}

/** Installs user rule files (tried before the built-in rules) for this process. */
export function useRegistryFiles(files: string[]): void {
  const user = files.map(readRegistryFile);
  active = compileRegistry([...user, builtinRegistryData()]);
  installedFiles = [...files];
}

let installedFiles: string[] = [];

/** The rule files installed with useRegistryFiles (so a worker thread can install the same). */
export function installedRegistryFiles(): string[] {
  return [...installedFiles];
}

export function providerForHost(reg: CompiledRegistry, host: string, port?: number): { provider: string; rule: string } | undefined {
  const h = host.toLowerCase();
  if (port !== undefined) {
    const hp = reg.hostPort.get(`${h}:${port}`);
    if (hp) return { provider: hp, rule: `${h}:${port}` };
  }
  const exact = reg.hostExact.get(h);
  if (exact) return { provider: exact, rule: h };
  for (const p of reg.hostPatterns) if (p.re.test(h)) return { provider: p.provider, rule: p.pattern };
  return undefined;
}
