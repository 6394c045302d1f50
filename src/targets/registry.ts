// The list of targets, lookup by name, and inference from the command being run.
import { basename } from 'node:path';
import { aider } from './aider.js';
import { claudeCode } from './claude-code.js';
import { codex } from './codex.js';
import { cursor } from './cursor.js';
import { geminiCli } from './gemini-cli.js';
import { generic } from './generic.js';
import { opencode } from './opencode.js';
import { anthropicSdk, geminiSdk, openaiSdk } from './sdk-programs.js';
import type { Target } from './types.js';

export const targets: readonly Target[] = [claudeCode, codex, geminiCli, opencode, aider, cursor, openaiSdk, anthropicSdk, geminiSdk, generic];

export class UnknownTargetError extends Error {
  readonly code = 'unknown-target';
  constructor(readonly targetName: string) {
    super(`unknown target "${targetName}": choose one of ${targets.map((t) => t.name).join(', ')} (agenttap run --list-targets)`);
  }
}

export function findTarget(name: string): Target {
  const t = targets.find((x) => x.name === name);
  if (!t) throw new UnknownTargetError(name);
  return t;
}

/**
 * The target a command implies: its executable name (`/usr/bin/claude`, `codex.cmd`), or for
 * `npx`/`node`/`bunx` launchers the first argument that names a known agent. Otherwise generic.
 */
export function inferTarget(command: string, args: readonly string[] = []): Target {
  const byName = (file: string): Target | undefined => {
    const base = basename(file).replace(/\.(cmd|exe|bat|js|mjs|cjs)$/i, '');
    return targets.find((t) => t.commands.includes(base));
  };
  const direct = byName(command);
  if (direct) return direct;
  if (/^(npx|bunx|pnpx|node|bun|deno)$/.test(basename(command).replace(/\.(cmd|exe)$/i, ''))) {
    const first = args.find((a) => !a.startsWith('-'));
    if (first) {
      // "@openai/codex@0.169.0" → "codex"; "@google/gemini-cli" → "gemini-cli"
      const pkg = first.replace(/^@[^/]+\//, '').replace(/@.*$/, '');
      const hit = byName(pkg) ?? targets.find((t) => t.name === pkg);
      if (hit) return hit;
    }
  }
  return generic;
}
