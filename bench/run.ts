/**
 * `npm run bench`: flaremq throughput and latency through the real HTTP path, reported as
 * ratios against baselines measured in the same run on the same machine (a no-op Worker, a
 * no-op Durable Object RPC, one raw SQLite insert per request), because shared machines are
 * noisy and absolute numbers are not comparable between runs.
 *
 * Flags: --duration-s <n> per scenario (default 5), --concurrency <n> (default 32).
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { Miniflare } from "miniflare";
import { Admin, Producer, PullConsumer, type MessageQueue } from "../client/index.js";
import { startServer } from "../scripts/server.js";
import { ROOT } from "../scripts/build.js";
import { progressBar, runLoad, type LoadResult } from "./load.js";

const { values } = parseArgs({ options: { "duration-s": { type: "string" }, concurrency: { type: "string" } } });
const durationMs = Number(values["duration-s"] ?? "5") * 1000;
const concurrency = Number(values.concurrency ?? "32");
const load = { durationMs, concurrency };
const body1k = new Uint8Array(1024).map((_, i) => i % 251);

const stateDir = await mkdtemp(path.join(os.tmpdir(), "flaremq-bench-"));
const baseline = new Miniflare({
  modules: true,
  scriptPath: path.join(ROOT, "bench", "baseline-worker.js"),
  compatibilityDate: "2026-04-01",
  durableObjects: { NOOP: { className: "NoopDO", useSQLite: true } },
  durableObjectsPersist: path.join(stateDir, "baseline"),
  host: "127.0.0.1",
  port: 0,
});
const baselineUrl = (await baseline.ready).origin;
const server = await startServer({ port: 0, stateDir: path.join(stateDir, "flaremq") });

console.error(`flaremq bench: ${durationMs / 1000}s per scenario, concurrency ${concurrency}, node ${process.version}`);
const results: LoadResult[] = [];
async function scenario(name: string, op: () => Promise<number | void>): Promise<LoadResult> {
  const r = await runLoad(name, load, op, progressBar(name));
  results.push(r);
  return r;
}
const fetchOk = async (url: string, init?: RequestInit) => {
  const res = await fetch(url, init);
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
};

try {
  // Warm up both servers (isolates, Durable Object creation) before measuring.
  for (let i = 0; i < 50; i++) {
    await fetchOk(`${baselineUrl}/do`);
    await fetchOk(`${baselineUrl}/sqlite`, { method: "POST", body: body1k });
  }
  const noopWorker = await scenario("baseline: no-op Worker", () => fetchOk(`${baselineUrl}/noop`));
  const noopDo = await scenario("baseline: no-op Durable Object RPC", () => fetchOk(`${baselineUrl}/do`));
  const rawInsert = await scenario("baseline: raw 1 KiB SQLite insert", () =>
    fetchOk(`${baselineUrl}/sqlite`, { method: "POST", body: body1k }),
  );

  const admin = new Admin({ endpoint: server.url });
  const topic = "BenchTopic";
  await admin.createTopic(topic, { queueNums: 4 }); // 8 queues over 2 brokers
  const producer = new Producer({ endpoint: server.url, group: "bench_pg", sendMsgTimeoutMs: 30_000 });
  await producer.start();
  for (let i = 0; i < 50; i++) await producer.send({ topic, body: body1k });
  const send = await scenario("flaremq: sync send 1 KiB, 8 queues", async () => {
    await producer.send({ topic, body: body1k });
  });

  const oneQueue: MessageQueue = { topic, brokerName: "broker-a", queueId: 0 };
  const sendOne = await scenario("flaremq: sync send 1 KiB, 1 queue", async () => {
    await producer.send({ topic, body: body1k }, { messageQueue: oneQueue });
  });

  const consumer = new PullConsumer({ endpoint: server.url, group: "bench_cg" });
  const queues = await consumer.fetchSubscribeMessageQueues(topic);
  const offsets = new Map(queues.map((q) => [q, 0]));
  let turn = 0;
  const pull = await scenario("flaremq: pull 32 x 1 KiB", async () => {
    const mq = queues[turn++ % queues.length]!;
    const r = await consumer.pull(mq, "*", offsets.get(mq)!, 32, { maxWaitMs: 0 });
    offsets.set(mq, r.pullStatus === "FOUND" ? r.nextBeginOffset : 0);
    return r.msgFoundList.length;
  });

  let rows = 0;
  let messages = 0;
  for (const mq of queues) {
    const s = (await admin.queueStats(mq)) as unknown as { rowsWritten: number; messagesAppended: number };
    rows += s.rowsWritten;
    messages += s.messagesAppended;
  }

  const fmt = (n: number, d = 0) => n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
  console.log("\n| scenario | ops/s | p50 ms | p99 ms | vs no-op Worker | vs no-op DO RPC | vs raw SQLite insert |");
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  for (const r of results) {
    console.log(
      `| ${r.name} | ${fmt(r.opsPerSec)} | ${fmt(r.p50Ms, 2)} | ${fmt(r.p99Ms, 2)} | ${fmt(r.opsPerSec / noopWorker.opsPerSec, 2)} | ${fmt(r.opsPerSec / noopDo.opsPerSec, 2)} | ${fmt(r.opsPerSec / rawInsert.opsPerSec, 2)} |`,
    );
  }
  const pulledPerSec = pull.items / pull.seconds;
  console.log(`\npull: ${fmt(pulledPerSec)} messages/s (${fmt(pull.items / Math.max(1, pull.ops), 1)} per pull), ${fmt(pulledPerSec / noopWorker.opsPerSec, 2)}× the no-op Worker request rate`);
  console.log(`send latency p50 ${fmt(send.p50Ms, 2)} ms vs no-op DO RPC p50 ${fmt(noopDo.p50Ms, 2)} ms (${fmt(send.p50Ms / noopDo.p50Ms, 2)}×)`);
  console.log(`single-queue send: ${fmt(sendOne.opsPerSec / rawInsert.opsPerSec, 2)}× the raw one-insert-per-request rate`);
  console.log(`rows written per message: ${fmt(rows / messages, 3)} (${fmt(rows)} rows for ${fmt(messages)} messages, group commit)`);
} finally {
  await server.stop();
  await baseline.dispose();
  await rm(stateDir, { recursive: true, force: true });
}
