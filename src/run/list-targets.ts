// `agenttap run --list-targets`: the targets, what selects them, and how each mode reaches them.
import { targets } from '../targets/registry.js';

export function formatTargetList(): string {
  const rows = targets.map((t) => ({
    name: t.name,
    commands: t.commands.length ? t.commands.join(', ') : '(--target only)',
    reverse: t.launch ? t.upstreams.flatMap((u) => Object.keys(u.baseUrlEnv)).concat(t.reverseArgs?.length ? ['-c args'] : []).join(', ') || '-' : 'manual steps',
    title: t.title,
  }));
  const w = (k: 'name' | 'commands' | 'reverse') => Math.max(k.length, ...rows.map((r) => r[k].length));
  const head = `${'TARGET'.padEnd(w('name'))}  ${'COMMANDS'.padEnd(w('commands'))}  ${'REVERSE MODE'.padEnd(w('reverse'))}  DESCRIPTION`;
  const body = rows.map((r) => `${r.name.padEnd(w('name'))}  ${r.commands.padEnd(w('commands'))}  ${r.reverse.padEnd(w('reverse'))}  ${r.title}`);
  return [head, ...body, '', 'Without --target, the target is inferred from the command name; other commands run as generic.', ''].join('\n');
}
