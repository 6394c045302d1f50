// Run an external client (curl, python3) without blocking the event loop, so an in-process
// proxy keeps serving while the client talks to it.
import { execFile } from 'node:child_process';

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runTool(cmd: string, args: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {}): Promise<ToolResult> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env: { ...process.env, ...opts.env }, timeout: opts.timeoutMs ?? 30_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** curl through the proxy; -sS, never the system proxy environment. */
export function curl(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ToolResult> {
  return runTool('curl', ['-sS', '--noproxy', '', ...args], { env: { http_proxy: '', https_proxy: '', HTTP_PROXY: '', HTTPS_PROXY: '', ...env } });
}
