/**
 * Issue 16's steady-rate measure: single-message sends at a fixed rate (1,000 msg/s by default),
 * the producer's auto-batching on (its default), read by a push consumer parked on every queue
 * of an 8-queue topic. Reports the rate achieved (messages received over the time from the first
 * send to the last receipt: a server that cannot keep up falls behind and the rate drops), the
 * send-to-receive latency p50/p99/p999 (born time stamped by the sender, taken when the
 * listener sees it; one clock, this process), and what it cost per message on the server's
 * meters (bench/meter.ts): the producer's and the consumer's requests (pulls, offset commits,
 * heartbeats) and everything the objects did for them, slaves included.
 */
import { Admin, Producer, PushConsumer, concurrently } from "../client/index.js";
import { clockMs, percentile, sendAtRate } from "./consume.js";
import { countingFetch, producerRequests, startMeter, type ScenarioCost } from "./meter.js";

export interface SteadyRateResult {
  name: string;
  targetRate: number;
  /** Messages received per second, first send to last receipt. */
  achievedRate: number;
  sent: number;
  received: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  cost: ScenarioCost | null;
}

/** Stops waiting for stragglers this long after the last send was due. */
const DRAIN_GRACE_MS = 30_000;

/** `autoBatchHoldMs`: the producer's linger (default 0, as the producer's own default). */
export async function steadyRate(
  endpoint: string,
  ratePerSec: number,
  durationMs: number,
  options: { autoBatchHoldMs?: number } = {},
): Promise<SteadyRateResult> {
  const admin = new Admin({ endpoint, credentials: null });
  const topic = `BenchSteady${Date.now()}`;
  await admin.createTopic(topic, { queueNums: 4 }); // 8 queues over 2 brokers
  const { fetch, count } = countingFetch();
  const latencies: number[] = [];
  let lastReceipt = 0;
  const consumer = new PushConsumer({
    endpoint,
    credentials: null,
    group: `bench_steady_cg_${Date.now()}`,
    heartbeatIntervalMs: 2000,
    sessionTimeoutMs: 10_000,
    fetch,
  });
  consumer.subscribe(topic);
  consumer.registerMessageListener(
    concurrently((msgs) => {
      const now = clockMs();
      for (const m of msgs) latencies.push(now - Number(m.properties.sentAt));
      lastReceipt = performance.now();
      return "CONSUME_SUCCESS";
    }),
  );
  await consumer.start();
  while (consumer.assignedQueues.filter((q) => q.topic === topic).length < 8) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 300)); // parked pulls are in place
  const producer = new Producer({
    endpoint,
    credentials: null,
    group: "bench_steady_pg",
    sendMsgTimeoutMs: 30_000,
    maxInflightSends: 100_000,
    fetch,
    ...(options.autoBatchHoldMs ? { autoBatchHoldMs: options.autoBatchHoldMs } : {}),
  });
  await producer.start();
  await producer.send({ topic, body: new Uint8Array(1024), properties: { sentAt: String(clockMs()) } }); // route cached
  while (latencies.length < 1) await new Promise((r) => setTimeout(r, 20));
  latencies.length = 0;

  const finish = await startMeter(endpoint, producerRequests(count, producer));
  const { count: sent, started } = await sendAtRate(producer, topic, ratePerSec, durationMs);
  const deadline = performance.now() + DRAIN_GRACE_MS;
  while (latencies.length < sent && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const received = latencies.length;
  const seconds = (lastReceipt - started) / 1000;
  await producer.shutdown();
  await consumer.shutdown(); // commits the consumed offsets: part of the cost
  const cost = await finish(received);
  latencies.sort((a, b) => a - b);
  return {
    name: `steady ${ratePerSec} msg/s single sends (auto-batching${options.autoBatchHoldMs ? `, autoBatchHoldMs ${options.autoBatchHoldMs}` : ""}) to a push consumer`,
    targetRate: ratePerSec,
    achievedRate: received / seconds,
    sent,
    received,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    p999Ms: percentile(latencies, 0.999),
    cost,
  };
}
