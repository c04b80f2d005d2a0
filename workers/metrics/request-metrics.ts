/**
 * Counts of the requests this isolate served, per operation of the API table and status, with a
 * latency histogram, and sends by SendStatus: the Worker-side part of GET /metrics. They live in
 * the isolate's memory, so on Cloudflare (many isolates, each short-lived) a scrape sees one
 * isolate's share since it started; locally (`npm start`, one isolate) it sees everything.
 * Workers Analytics and Workers Logs are the deployment-wide view.
 */

/** Upper bounds of the latency buckets, in seconds (Prometheus' default set, trimmed at 10 s). */
export const LATENCY_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

interface OperationStats {
  /** Requests by HTTP status. */
  byStatus: Map<number, number>;
  /** Cumulative counts per bucket (LATENCY_BUCKETS_S), then +Inf. */
  buckets: number[];
  sumSeconds: number;
  count: number;
}

const operations = new Map<string, OperationStats>();
const sends = new Map<string, number>();
/** At most this many operation keys are kept; a path that is not in the table counts as "other". */
const MAX_OPERATIONS = 200;

/** Records one answered request of `operation` ("GET /groups/:group/progress"). */
export function recordRequest(operation: string, status: number, seconds: number): void {
  const key = operations.has(operation) || operations.size < MAX_OPERATIONS ? operation : "other";
  let s = operations.get(key);
  if (!s) {
    s = { byStatus: new Map(), buckets: new Array<number>(LATENCY_BUCKETS_S.length + 1).fill(0), sumSeconds: 0, count: 0 };
    operations.set(key, s);
  }
  s.byStatus.set(status, (s.byStatus.get(status) ?? 0) + 1);
  for (let i = 0; i < LATENCY_BUCKETS_S.length; i++) if (seconds <= LATENCY_BUCKETS_S[i]!) s.buckets[i]!++;
  s.buckets[LATENCY_BUCKETS_S.length]!++;
  s.sumSeconds += seconds;
  s.count++;
}

/** Records the outcome of stored messages: SEND_OK, FLUSH_SLAVE_TIMEOUT, ... */
export function recordSends(status: string, messages: number): void {
  sends.set(status, (sends.get(status) ?? 0) + messages);
}

export function requestStats(): ReadonlyMap<string, Readonly<OperationStats>> {
  return operations;
}

export function sendStats(): ReadonlyMap<string, number> {
  return sends;
}
