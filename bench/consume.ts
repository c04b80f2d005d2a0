/** Consumer benchmarks: draining a backlog with a push consumer, and end-to-end latency at a fixed rate. */
import { Admin, Producer, PushConsumer, concurrently, type FetchLike } from "../client/index.js";
import type { LoadResult } from "./load.js";
import { body1k, fillBacklog } from "./backlog.js";

/**
 * Wall-clock milliseconds with a fraction (the bench's senders and receivers share this process,
 * so their stamps compare exactly): Date.now() counts whole milliseconds, which for latencies of a
 * millisecond or two says more about where the tick fell than about the latency.
 */
export function clockMs(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * Sends 1 KiB messages stamped with their send time (property `sentAt`, clockMs()) at `ratePerSec` for
 * `durationMs`, each at its due time whatever the others' answers; resolves once all answered.
 */
export async function sendAtRate(producer: Producer, topic: string, ratePerSec: number, durationMs: number): Promise<{ count: number; started: number }> {
  const count = Math.round((ratePerSec * durationMs) / 1000);
  const started = performance.now();
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / ratePerSec;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    sends.push(producer.send({ topic, body: body1k, properties: { sentAt: String(clockMs()) } }));
  }
  await Promise.all(sends);
  return { count, started };
}

export function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/**
 * Sends `backlog` messages in batches, then times one push consumer draining them, 32 per pull.
 * `fetch` is the consumer's (to count its requests); `beforeDrain` runs once the backlog is
 * stored, just before the consumer starts (to start a meter).
 */
export async function drainBacklog(
  endpoint: string,
  backlog: number,
  log: (line: string) => void,
  options: {
    fetch?: FetchLike;
    beforeDrain?: () => Promise<void>;
    /** false: the consumer pulls over HTTP only (its pulls each a request, as before pull channels). */
    pullChannels?: boolean;
    /** The consumer's Worker requests beside its fetch's: each pull channel's upgrade is added here. */
    upgrades?: { requests: number };
  } = {},
): Promise<LoadResult> {
  const admin = new Admin({ endpoint, credentials: null });
  const topic = await fillBacklog(endpoint, "BenchDrain", backlog);
  const total = (await admin.consumerProgress("bench_drain_cg", topic)).queues.reduce((n, q) => n + q.brokerOffset, 0);
  await options.beforeDrain?.();
  let consumed = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const consumer = new PushConsumer({
    endpoint,
    credentials: null,
    group: "bench_drain_cg",
    consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET",
    pullBatchSize: 32,
    consumeMessageBatchMaxSize: 32,
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.pullChannels === false ? { pullChannels: false } : {}),
    heartbeatIntervalMs: 2000,
    sessionTimeoutMs: 10_000,
  });
  consumer.subscribe(topic);
  consumer.registerMessageListener(
    concurrently((msgs) => {
      consumed += msgs.length;
      if (consumed >= total) done();
      return "CONSUME_SUCCESS";
    }),
  );
  const started = performance.now();
  await consumer.start();
  await finished;
  const seconds = (performance.now() - started) / 1000;
  await consumer.shutdown();
  if (options.upgrades) options.upgrades.requests += consumer.pullChannelStats.opened;
  log(`  drained ${total} messages in ${seconds.toFixed(2)} s`);
  return { name: "flaremq: push consume 1 KiB backlog", ops: total, seconds, opsPerSec: total / seconds, p50Ms: Number.NaN, p99Ms: Number.NaN, items: total };
}

/** Sends at `ratePerSec` for `durationMs` and measures born-to-listener latency. */
export async function endToEndLatency(endpoint: string, ratePerSec: number, durationMs: number): Promise<LoadResult> {
  const admin = new Admin({ endpoint, credentials: null });
  const topic = `BenchLatency${Date.now()}`;
  await admin.createTopic(topic, { queueNums: 4 });
  const latencies: number[] = [];
  const consumer = new PushConsumer({ endpoint, credentials: null, group: "bench_latency_cg", heartbeatIntervalMs: 2000, sessionTimeoutMs: 10_000 });
  consumer.subscribe(topic);
  consumer.registerMessageListener(
    concurrently((msgs) => {
      for (const m of msgs) latencies.push(clockMs() - Number(m.properties.sentAt));
      return "CONSUME_SUCCESS";
    }),
  );
  await consumer.start();
  while (consumer.assignedQueues.filter((q) => q.topic === topic).length < 8) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 300)); // parked pulls are in place
  const producer = new Producer({ endpoint, credentials: null, group: "bench_latency_pg" });
  await producer.start();
  const { count, started } = await sendAtRate(producer, topic, ratePerSec, durationMs);
  while (latencies.length < count) await new Promise((r) => setTimeout(r, 20));
  await consumer.shutdown();
  latencies.sort((a, b) => a - b);
  const seconds = (performance.now() - started) / 1000;
  return {
    name: `flaremq: end-to-end latency at ${ratePerSec} msg/s`,
    ops: count,
    seconds,
    opsPerSec: count / seconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    items: count,
  };
}

/** Round-trip latency of the no-op Worker at the same fixed rate, as the latency baseline. */
export async function baselineLatency(url: string, ratePerSec: number, durationMs: number): Promise<LoadResult> {
  const count = Math.round((ratePerSec * durationMs) / 1000);
  const latencies: number[] = [];
  const started = performance.now();
  const calls: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / ratePerSec;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const t0 = performance.now();
    calls.push(
      fetch(url).then(
        async (res) => {
          await res.arrayBuffer();
          latencies.push(performance.now() - t0);
        },
        // A machine that cannot keep the rate resets connections: those requests count as not served.
        () => undefined,
      ),
    );
  }
  await Promise.all(calls);
  latencies.sort((a, b) => a - b);
  const seconds = (performance.now() - started) / 1000;
  const failed = count - latencies.length;
  return {
    name: `baseline: no-op Worker round trip at ${ratePerSec} req/s${failed > 0 ? ` (${failed} requests failed)` : ""}`,
    ops: latencies.length,
    seconds,
    opsPerSec: latencies.length / seconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    items: count,
  };
}
