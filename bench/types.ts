// The contract between `npm run bench` and each benchmark module (bench/<area>.bench.ts).
export interface BenchResult {
  /** What was measured, e.g. "sequential small requests p50 (forward TLS)". */
  metric: string;
  /** The measured value through agenttap (or of our code). */
  value: number;
  unit: string;
  /** The same measurement done directly / the floor, in the same run. */
  baseline?: number;
  /** value / baseline (or whatever ratio the target is stated in). */
  ratio?: number;
  /** The target as text, e.g. "≤ 2.0×". */
  target?: string;
  pass?: boolean;
}

export interface BenchModule {
  title: string;
  run(ctx: BenchContext): Promise<BenchResult[]>;
}

export interface BenchContext {
  /** `npm run bench -- --quick`: smaller sizes for a fast look. */
  quick: boolean;
  log(line: string): void;
}
