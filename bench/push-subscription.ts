/**
 * Push-subscription benchmarks (docs/push-subscriptions.md): the server delivers a topic's
 * messages to a webhook on this machine (a local server may call http:// on loopback), with no
 * client process. Measured as the push consumer's scenarios in bench/consume.ts are, so the run
 * reports them as ratios: draining the same backlog, and born-to-receiver latency at a fixed rate.
 */
import { createServer, type Server } from "node:http";
import { Admin, Producer, type PushBatch } from "../client/index.js";
import type { LoadResult } from "./load.js";
import { clockMs, percentile, sendAtRate } from "./consume.js";
import { fillBacklog } from "./backlog.js";

/** A webhook receiver that hands every batch to `onBatch` and answers 200 (all succeeded). */
async function receiver(onBatch: (batch: PushBatch) => void): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      onBatch(JSON.parse(Buffer.concat(chunks).toString()) as PushBatch);
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/push`, server };
}

/** Sends `backlog` messages, then times a push subscription (100 per batch, 4 in flight per queue) delivering them all. */
export async function pushSubscriptionDrain(endpoint: string, backlog: number, log: (line: string) => void): Promise<LoadResult> {
  const admin = new Admin({ endpoint, credentials: null });
  const topic = await fillBacklog(endpoint, "BenchPushDrain", backlog);
  const group = `bench_pushsub_${Date.now()}`;
  const total = (await admin.consumerProgress(group, topic)).queues.reduce((n, q) => n + q.brokerOffset, 0);
  let delivered = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => (done = r));
  const hook = await receiver((b) => {
    delivered += b.messages.length;
    if (delivered >= total) done();
  });
  try {
    const started = performance.now();
    await admin.putPushSubscription(group, { topic, target: { type: "webhook", url: hook.url }, maxBatchSize: 100, maxBatchTimeoutMs: 0, maxConcurrency: 4 });
    await finished;
    const seconds = (performance.now() - started) / 1000;
    log(`  push subscription delivered ${delivered} of ${total} messages in ${seconds.toFixed(2)} s`);
    await admin.deletePushSubscription(group);
    return {
      name: "flaremq: push subscription 1 KiB backlog",
      ops: total,
      seconds,
      opsPerSec: total / seconds,
      p50Ms: Number.NaN,
      p99Ms: Number.NaN,
      items: total,
    };
  } finally {
    hook.server.close();
  }
}

/** Sends at `ratePerSec` for `durationMs` to a topic with a push subscription; born-to-receiver latency. */
export async function pushSubscriptionLatency(endpoint: string, ratePerSec: number, durationMs: number): Promise<LoadResult> {
  const admin = new Admin({ endpoint, credentials: null });
  const topic = `BenchPushLatency${Date.now()}`;
  await admin.createTopic(topic, { queueNums: 4 });
  const latencies: number[] = [];
  const hook = await receiver((b) => {
    for (const m of b.messages) latencies.push(clockMs() - Number(m.properties.sentAt));
  });
  const group = `bench_pushlat_${Date.now()}`;
  try {
    await admin.putPushSubscription(group, { topic, target: { type: "webhook", url: hook.url }, maxBatchSize: 100, maxBatchTimeoutMs: 0, maxConcurrency: 4 });
    const producer = new Producer({ endpoint, credentials: null, group: "bench_pushlat_pg" });
    await producer.start();
    const { count, started } = await sendAtRate(producer, topic, ratePerSec, durationMs);
    while (latencies.length < count) await new Promise((r) => setTimeout(r, 20));
    await producer.shutdown();
    await admin.deletePushSubscription(group);
    latencies.sort((a, b) => a - b);
    const seconds = (performance.now() - started) / 1000;
    return {
      name: `flaremq: push subscription latency at ${ratePerSec} msg/s`,
      ops: count,
      seconds,
      opsPerSec: count / seconds,
      p50Ms: percentile(latencies, 0.5),
      p99Ms: percentile(latencies, 0.99),
      items: count,
    };
  } finally {
    hook.server.close();
  }
}
