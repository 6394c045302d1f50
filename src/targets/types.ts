// What agenttap knows about one agent or SDK: how to point it at the proxy without changing it.
// Targets are plain data; `run` composes them with the proxy (forward-env.ts, reverse-env.ts).

/** One upstream API the target talks to; in reverse mode it gets its own loopback listener. */
export interface ReverseUpstream {
  /** Short id used in messages and in the listener table ("anthropic", "openai", "gemini"). */
  id: string;
  /** The real API origin the listener forwards to. */
  url: string;
  purpose: string;
  /** Variables set to the listener's base URL plus a suffix (e.g. OPENAI_BASE_URL → "/v1"). */
  baseUrlEnv: Record<string, string>;
}

/** What a target's manual steps and argument templates may refer to. */
export interface TargetContext {
  mode: 'forward' | 'reverse';
  /** The forward proxy URL ("http://127.0.0.1:8080"), when known. */
  proxyUrl?: string;
  /** Our CA certificate (PEM) and the combined bundle (system roots + ours). */
  caFile?: string;
  bundleFile?: string;
  /** Reverse mode: upstream id → listener base URL ("http://127.0.0.1:9001"). */
  listeners?: Record<string, string>;
}

export interface Target {
  name: string;
  title: string;
  /** Executable names (basename, without extension) that select this target when --target is omitted. */
  commands: string[];
  /** Hosts the agent itself talks to (model API, auth, telemetry); used for warnings and docs. */
  firstPartyHosts: string[];
  /** False for apps agenttap cannot start (Cursor): `run` prints the manual steps instead. */
  launch: boolean;
  /** Upstreams for reverse mode, one listener each. */
  upstreams: ReverseUpstream[];
  /** Extra variables set in both modes (kept minimal: only what the agent needs to work through a proxy). */
  env?: Record<string, string>;
  /**
   * Reverse mode: arguments inserted right after the command name, with `{<upstream id>}` replaced by
   * that listener's base URL (Codex 0.169 ignores OPENAI_BASE_URL and takes `-c openai_base_url=…`).
   */
  reverseArgs?: string[];
  /** Steps the user has to do by hand (settings files, app preferences), rendered for this run. */
  manualSteps(ctx: TargetContext): string[];
}
