// Errors a command reports to the user as one line (no stack), with the documented exit code:
// 1 runtime failure, 2 bad usage (DESIGN.md section 6).
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export function usageError(message: string): CliError {
  return new CliError(message, 2, 'usage');
}
