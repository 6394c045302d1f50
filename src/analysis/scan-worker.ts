// Worker thread of a parallel analysis pass: reads the byte ranges the main thread hands it,
// prepares each record (prepare.ts) and posts the range's prepared items, bad lines and line
// count back. Installs the same --registry/--pricing files as the main thread first.
import { openSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { usePricingFile } from '../llm/pricing.js';
import { useRegistryFiles } from '../llm/registry.js';
import { eachChunkRecord, RangeReader, type ChunkBadLine } from './chunk-reader.js';
import { createLlmReader } from './llm-layer.js';
import { RangePreparer, type PrepareOptions, type PreparedItem } from './prepare.js';

export interface WorkerSetup extends PrepareOptions {
  file: string;
  requests: boolean;
  registryFiles: string[];
  pricingFiles: string[];
}

export interface RangeTask {
  index: number;
  start: number;
  end: number;
}

export interface RangeResult {
  index: number;
  items: PreparedItem[];
  bad: ChunkBadLine[];
  lines: number;
  /** File offset just past the range's lines. */
  stop: number;
}

const setup = workerData as WorkerSetup;
if (setup.registryFiles.length) useRegistryFiles(setup.registryFiles);
for (const f of setup.pricingFiles) usePricingFile(f);
const fd = openSync(setup.file, 'r');
const reader = new RangeReader(fd);
const port = parentPort!;

// The main thread terminates this thread when it has what it needs (the file closes with it).
port.on('message', (task: RangeTask) => {
  // A fresh reader and preparer per range: nothing carries over from ranges this thread did before.
  // Responses-API chains need every earlier exchange of the file: the main thread does those.
  const llmFacts = createLlmReader(setup.requests ? { requests: true, defer: (d) => d.api === 'openai.responses' } : { requests: false });
  const preparer = new RangePreparer(llmFacts, setup);
  const items: PreparedItem[] = [];
  // Most exchanges of a range share their payload keys: later ones name the first.
  const keyShapes = new Map<string, number>();
  const bad: ChunkBadLine[] = [];
  const { bytes, begin } = reader.read(task.start, task.end);
  const { lines, stop } = eachChunkRecord(
    bytes,
    begin,
    (r) => {
      const item = preparer.prepare(r);
      if (item.keys && typeof item.keys !== 'number') {
        const shape = `${item.keys.request.join('\0')}\u0001${item.keys.response.join('\0')}`;
        const first = keyShapes.get(shape);
        if (first !== undefined) item.keys = first;
        else keyShapes.set(shape, items.length);
      }
      items.push(item);
    },
    (b) => bad.push(b),
  );
  const result: RangeResult = { index: task.index, items, bad, lines, stop };
  port.postMessage(result);
});
