// `agenttap task swe-bench --index N -o DIR [--dataset FILE]`: prepare a real task to capture an agent on.
import type { Command } from 'commander';
import { CliError, usageError } from './errors.js';

export function register(program: Command): void {
  const task = program.command('task').description('prepare a real task workspace to capture an agent on');
  task
    .command('swe-bench')
    .description('clone a SWE-bench instance at its base commit, write TASK.md, and print the agenttap run command')
    .requiredOption('-o, --out <dir>', 'workspace directory')
    .option('-i, --index <n>', 'instance index (0-based)', '0')
    .option('--dataset <file>', 'local dataset: JSONL, JSON array or Parquet (offline)')
    .option('--hf-dataset <name>', 'Hugging Face dataset when no --dataset is given', 'princeton-nlp/SWE-bench_Lite')
    .option('--split <name>', 'dataset split', 'test')
    .option('--repo-url <url>', 'clone from here instead of https://github.com/<repo>.git (a mirror or local path)')
    .option('--agent <command>', 'agent command shown in the printed run line', undefined)
    .option('--force', 're-clone even if the repository is already there')
    .action(async (opts: { out: string; index: string; dataset?: string; hfDataset: string; split: string; repoUrl?: string; agent?: string; force?: boolean }) => {
      const index = Number(opts.index);
      if (!Number.isInteger(index) || index < 0) throw usageError(`--index must be a whole number >= 0, got "${opts.index}"`);
      const { loadInstanceFromFile, loadInstanceFromHub, prepareTask, TaskError } = await import('../tasks/swe-bench.js');
      try {
        const instance = opts.dataset
          ? await loadInstanceFromFile(opts.dataset, index, (l) => process.stderr.write(`${l}\n`))
          : await loadInstanceFromHub(opts.hfDataset, opts.split, index, process.env['AGENTTAP_HF_DATASETS_SERVER'] || undefined);
        process.stderr.write(`instance ${instance.instance_id} (${instance.repo} @ ${instance.base_commit.slice(0, 12)})\n`);
        const t = await prepareTask(instance, {
          outDir: opts.out,
          ...(opts.repoUrl ? { repoUrl: opts.repoUrl } : {}),
          ...(opts.agent ? { agentCommand: opts.agent } : {}),
          force: !!opts.force,
        });
        process.stdout.write(`repository: ${t.repoDir}\ntask:       ${t.taskFile}\n\nrun the agent through agenttap:\n  ${t.command}\n`);
      } catch (e) {
        if (e instanceof TaskError) throw new CliError(e.message, 1, e.code);
        throw e;
      }
    });
}
