/** A closed-loop load generator: `concurrency` workers run `op` until the time is up. */

export interface LoadResult {
  name: string;
  ops: number;
  seconds: number;
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** Items per op (messages per pull, say), for item throughput. */
  items: number;
}

export async function runLoad(
  name: string,
  options: { durationMs: number; concurrency: number },
  op: () => Promise<number | void>,
  onProgress: (fraction: number, ops: number) => void,
): Promise<LoadResult> {
  const latencies: number[] = [];
  let items = 0;
  const started = performance.now();
  const endAt = started + options.durationMs;
  const ticker = setInterval(() => onProgress(Math.min(1, (performance.now() - started) / options.durationMs), latencies.length), 200);
  try {
    await Promise.all(
      Array.from({ length: options.concurrency }, async () => {
        while (performance.now() < endAt) {
          const t0 = performance.now();
          const n = await op();
          latencies.push(performance.now() - t0);
          items += typeof n === "number" ? n : 1;
        }
      }),
    );
  } finally {
    clearInterval(ticker);
  }
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pick = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  onProgress(1, latencies.length);
  return { name, ops: latencies.length, seconds, opsPerSec: latencies.length / seconds, p50Ms: pick(0.5), p99Ms: pick(0.99), items };
}

/** A one-line progress bar on stderr. */
export function progressBar(label: string): (fraction: number, ops: number) => void {
  let done = false;
  return (fraction, ops) => {
    // Without a terminal, print one line per scenario instead of redrawing.
    if (!process.stderr.isTTY) {
      if (fraction >= 1 && !done) process.stderr.write(`  done: ${label} (${ops} ops)\n`);
      done ||= fraction >= 1;
      return;
    }
    const width = 30;
    const filled = Math.round(fraction * width);
    process.stderr.write(`\r  ${"█".repeat(filled)}${"░".repeat(width - filled)} ${label.padEnd(34)} ${String(ops).padStart(7)} ops`);
    if (fraction >= 1) process.stderr.write("\n");
  };
}

/**
 * An open pipeline: one caller issues callback-form sends as fast as the client's in-flight
 * cap admits them (`issue` resolves once a send holds a slot) and completions are counted
 * by callback, so the figure is the client's real async throughput.
 */
export async function runAsyncLoad(
  name: string,
  durationMs: number,
  issue: (onDone: (ok: boolean) => void) => Promise<void>,
  onProgress: (fraction: number, ops: number) => void,
): Promise<LoadResult> {
  const latencies: number[] = [];
  let failures = 0;
  let outstanding = 0;
  let drained: (() => void) | undefined;
  const started = performance.now();
  const endAt = started + durationMs;
  const ticker = setInterval(() => onProgress(Math.min(1, (performance.now() - started) / durationMs), latencies.length), 200);
  try {
    while (performance.now() < endAt) {
      const t0 = performance.now();
      outstanding++;
      await issue((ok) => {
        if (ok) latencies.push(performance.now() - t0);
        else failures++;
        outstanding--;
        if (outstanding === 0) drained?.();
      });
    }
    if (outstanding > 0) await new Promise<void>((resolve) => (drained = resolve));
  } finally {
    clearInterval(ticker);
  }
  if (failures > 0) throw new Error(`${name}: ${failures} sends failed`);
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pick = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  onProgress(1, latencies.length);
  return { name, ops: latencies.length, seconds, opsPerSec: latencies.length / seconds, p50Ms: pick(0.5), p99Ms: pick(0.99), items: latencies.length };
}
