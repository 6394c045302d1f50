// Progress for long reads: bytes read and records/s on stderr, redrawn in place, only when
// stderr is a terminal (nothing when piped, so scripts and tests see clean output).
export interface Progress {
  update(bytesRead: number, records: number): void;
  done(): void;
}

const silent: Progress = { update() {}, done() {} };

function mb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

export function createProgress(label: string, totalBytes?: number, stream: NodeJS.WriteStream = process.stderr): Progress {
  if (!stream.isTTY) return silent;
  const started = Date.now();
  let last = 0;
  let shown = false;
  return {
    update(bytesRead, records) {
      const now = Date.now();
      if (now - last < 200) return;
      last = now;
      const secs = Math.max(0.001, (now - started) / 1000);
      const pct = totalBytes ? ` (${Math.min(100, (100 * bytesRead) / totalBytes).toFixed(0)}%)` : '';
      stream.write(`\r\x1b[2K${label}: ${mb(bytesRead)}${totalBytes ? ` of ${mb(totalBytes)}` : ''}${pct}, ${records} records, ${Math.round(records / secs)} records/s`);
      shown = true;
    },
    done() {
      if (shown) stream.write('\r\x1b[2K');
    },
  };
}
