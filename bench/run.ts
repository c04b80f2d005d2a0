/**
 * `npm run bench`: flaremq throughput and latency through the real HTTP path, reported as
 * ratios against baselines measured in the same run on the same machine (a no-op Worker, a
 * no-op Durable Object RPC, one raw SQLite insert per request), because shared machines are
 * noisy and absolute numbers are not comparable between runs.
 *
 * Flags: --duration-s <n> per scenario (default 5), --concurrency <n> (default 32),
 * --backlog <n> messages for the consume scenario (default 20000), --latency-rate <msg/s> (default 200),
 * --idle-s <n>: each idle window, without and with waiting clients (default 60; bench/idle.ts), --idle-only: the idle cost alone,
 * --consume-only: draining a backlog alone, by the push consumer and by POP (bench/consume.ts, bench/pop.ts).
 * --push-only: the push consumer's drain and latency and the push subscription's (bench/push-subscription.ts) alone.
 * --single-sends-only: only the single-message sends (sequential; 256 in flight, auto-batched and not;
 * the batch-32 and no-op Worker rates they are compared with; bench/single-sends.ts).
 * --targets-only: issue 16's targets table alone (bench/targets.ts): the scenarios its targets name, their
 * baselines, cost per message and a met / not met line per target; the full run ends with the same.
 * --steady-rate <msg/s>: the steady single-send rate of the targets (default 1000).
 * --scaling-only: throughput over 1, 2, 4, 8, 16 queues of a topic (bench/scaling.ts).
 * --capacity-only: the capacity model's inputs: CPU per request in the Worker and per message in the
 * queue objects, from a CPU profile of the server isolate (bench/capacity.ts), with --inspector-port <n> (default 9329).
 *
 * The flaremq server runs under the test configuration (TEST_FAULTS_ENABLED), which serves its
 * billing meters (bench/meter.ts) and changes nothing else at the default settings.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { Miniflare } from "miniflare";
import { Admin, Producer, PullConsumer, type MessageQueue } from "../client/index.js";
import { startServer } from "../scripts/server.js";
import { ROOT } from "../scripts/build.js";
import { progressBar, runAsyncLoad, runLoad, type LoadResult } from "./load.js";
import { baselineLatency, drainBacklog, endToEndLatency } from "./consume.js";
import { idleCost, idleReport } from "./idle.js";
import { drainsSideBySide, popReport } from "./pop.js";
import { readQueuesOf } from "./topic-queues.js";
import { pushSubscriptionDrain, pushSubscriptionLatency } from "./push-subscription.js";
import { singleSends } from "./single-sends.js";
import { targetReport, targetScenarios } from "./targets.js";
import { scaling } from "./scaling.js";
import { withProcess } from "./process-cpu.js";
import { capacity } from "./capacity.js";
import { countingFetch, producerRequests, startMeter, type ScenarioCost } from "./meter.js";
import { body1k } from "./backlog.js";

const { values } = parseArgs({
  options: {
    "duration-s": { type: "string" },
    concurrency: { type: "string" },
    backlog: { type: "string" },
    "latency-rate": { type: "string" },
    "idle-s": { type: "string" },
    "idle-only": { type: "boolean" },
    "consume-only": { type: "boolean" },
    help: { type: "boolean", short: "h" },
    "push-only": { type: "boolean" },
    "single-sends-only": { type: "boolean" },
    "targets-only": { type: "boolean" },
    "steady-rate": { type: "string" },
    "scaling-only": { type: "boolean" },
    "capacity-only": { type: "boolean" },
    "inspector-port": { type: "string" },
  },
});
if (values.help) {
  console.log(`usage: npm run bench -- [flags]
  --duration-s <n>      seconds per scenario (default 5)
  --concurrency <n>     requests in flight in the throughput scenarios (default 32)
  --backlog <n>         messages to drain in the consume scenarios (default 20000)
  --latency-rate <n>    messages per second in the end-to-end latency scenario (default 200)
  --idle-s <n>          each idle window, without and with waiting clients (default 60)
  --idle-only           the idle cost alone
  --consume-only        draining a backlog alone: push consumer and POP
  --push-only           the push consumer's and the push subscription's drain and latency alone
  --single-sends-only   single-message sends alone: sequential, 256 in flight (auto-batched and not)
  --targets-only        issue 16's targets alone: their scenarios, baselines, cost per message, met / not met
  --steady-rate <n>     messages per second of the targets' steady single-send scenario (default 1000)
  --scaling-only        throughput of single and batch sends over 1, 2, 4, 8, 16 queues of a topic
  --capacity-only       CPU per Worker request and per message in the queue objects (a CPU profile), and one queue's ceiling
  --inspector-port <n>  the server isolate's inspector port for --capacity-only (default 9329)`);
  process.exit(0);
}
const idleMs = Number(values["idle-s"] ?? "60") * 1000;
const backlog = Number(values.backlog ?? "20000");
const latencyRate = Number(values["latency-rate"] ?? "200");
const steadyRate = Number(values["steady-rate"] ?? "1000");
const durationMs = Number(values["duration-s"] ?? "5") * 1000;
const concurrency = Number(values.concurrency ?? "32");
const load = { durationMs, concurrency };
const BENCH_ACCOUNT = { accessKey: "bench", secretKey: "bench-secret-0123456789" };
interface Cost {
  rows: number;
  slaveRows: number;
  messages: number;
}

const stateDir = await mkdtemp(path.join(os.tmpdir(), "flaremq-bench-"));

/** The idle cost, on a server of its own under the test configuration (it serves the objects' activity). */
async function measureIdle(skipBuild: boolean): Promise<string[]> {
  const idleServer = await startServer({ port: 0, stateDir: path.join(stateDir, "flaremq-idle"), skipBuild, vars: { TEST_FAULTS_ENABLED: "true" } });
  try {
    return idleReport(await idleCost(idleServer.url, idleMs, (l) => console.error(l)));
  } finally {
    await idleServer.stop();
  }
}

if (values["idle-only"]) {
  try {
    for (const line of await measureIdle(false)) console.log(line);
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
  process.exit(0);
}

if (values["consume-only"]) {
  const { value: consumeServer, pid: consumePid } = await withProcess(() => startServer({ port: 0, stateDir: path.join(stateDir, "flaremq-consume") }));
  try {
    const { drain, drainOverHttp, popped, serverCpu } = await drainsSideBySide(consumeServer.url, backlog, (l) => console.error(l), consumePid);
    console.log(`push consume: ${Math.round(drain.opsPerSec)} messages/s draining ${drain.ops}`);
    console.log(popReport(popped, drain, serverCpu, drainOverHttp));
  } finally {
    await consumeServer.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
  process.exit(0);
}

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
// The inspector only for the CPU profile: an open inspector may slow the isolate.
const inspectorPort = values["capacity-only"] ? Number(values["inspector-port"] ?? "9329") : undefined;
const { value: server, pid: serverPid } = await withProcess(() =>
  startServer({
    port: 0,
    stateDir: path.join(stateDir, "flaremq"),
    vars: { TEST_FAULTS_ENABLED: "true" },
    ...(inspectorPort === undefined ? {} : { inspectorPort }),
  }),
);
const targetOptions = { durationMs, concurrency, backlog, steadyRate, log: (l: string) => console.error(l) };

const fmt = (n: number, d = 0) => n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
const billedCells = (name: string): string => {
  const c = billed.get(name);
  return c ? `${fmt(c.workerRequests, 3)} | ${fmt(c.objectRequests, 3)} | ${fmt(c.rowsWritten, 3)} | $${fmt(c.dollarsPerMillion, 3)}` : "– | – | – | –";
};

/** The push subscription against the push consumer, both measured now, as ratios. */
async function pushSubscriptionReport(drain: LoadResult, latency: LoadResult): Promise<string[]> {
  const subDrain = await pushSubscriptionDrain(server.url, backlog, (l) => console.error(l));
  const subLatency = await pushSubscriptionLatency(server.url, latencyRate, durationMs);
  return [
    `push subscription (webhook, 100 per batch, 4 in flight per queue): ${fmt(subDrain.opsPerSec)} messages/s draining ${fmt(subDrain.ops)}, ${fmt(subDrain.opsPerSec / drain.opsPerSec, 2)}× the push consumer's drain (${fmt(drain.opsPerSec)} messages/s)`,
    `push subscription latency at ${latencyRate} msg/s: p50 ${fmt(subLatency.p50Ms, 1)} ms, p99 ${fmt(subLatency.p99Ms, 1)} ms; ${fmt(subLatency.p50Ms / latency.p50Ms, 2)}× the push consumer's p50 (${fmt(latency.p50Ms, 1)} ms), ${fmt(subLatency.p99Ms / latency.p99Ms, 2)}× its p99`,
  ];
}

if (values["push-only"]) {
  try {
    const drain = await drainBacklog(server.url, backlog, (l) => console.error(l));
    const latency = await endToEndLatency(server.url, latencyRate, durationMs);
    for (const line of await pushSubscriptionReport(drain, latency)) console.log(line);
  } finally {
    await server.stop();
    await baseline.dispose();
    await rm(stateDir, { recursive: true, force: true });
  }
  process.exit(0);
}

console.error(`flaremq bench: ${durationMs / 1000}s per scenario, concurrency ${concurrency}, node ${process.version}`);
const results: LoadResult[] = [];
/** What each metered scenario cost per message (the server's meters; bench/meter.ts). */
const billed = new Map<string, ScenarioCost>();
/** Runs a scenario; with `meterOn` (its server and its clients' request count) its cost per message too. */
async function scenario(
  name: string,
  op: () => Promise<number | void>,
  meterOn?: { endpoint: string; count: { readonly requests: number } },
): Promise<LoadResult> {
  const finish = meterOn ? await startMeter(meterOn.endpoint, meterOn.count) : undefined;
  const r = await runLoad(name, load, op, progressBar(name));
  results.push(r);
  const c = await finish?.(r.items);
  if (c) billed.set(name, c);
  return r;
}
const fetchOk = async (url: string, init?: RequestInit) => {
  const res = await fetch(url, init);
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`${url}: ${res.status}`);
};

/** Runs `body` against the servers, then stops them and exits. */
async function only(body: () => Promise<string[]>): Promise<never> {
  try {
    for (const line of await body()) console.log(line);
  } finally {
    await server.stop();
    await baseline.dispose();
    await rm(stateDir, { recursive: true, force: true });
  }
  process.exit(0);
}

if (values["targets-only"]) {
  await only(async () => {
    const run = await targetScenarios(server.url, baselineUrl, targetOptions);
    return [...run.singles.lines, ...targetReport(run)];
  });
}
if (inspectorPort !== undefined) {
  await only(async () => (await capacity(server.url, inspectorPort, serverPid, targetOptions)).lines);
}
if (values["scaling-only"]) {
  await only(async () => (await scaling(server.url, serverPid, durationMs)).lines);
}

if (values["single-sends-only"]) {
  try {
    for (let i = 0; i < 50; i++) await fetchOk(`${baselineUrl}/noop`);
    const { lines } = await singleSends(server.url, baselineUrl, durationMs);
    for (const line of lines) console.log(line);
  } finally {
    await server.stop();
    await baseline.dispose();
    await rm(stateDir, { recursive: true, force: true });
  }
  process.exit(0);
}

try {
  // Warm up both servers (isolates, Durable Object creation) before measuring.
  for (let i = 0; i < 50; i++) {
    await fetchOk(`${baselineUrl}/do`);
    await fetchOk(`${baselineUrl}/sqlite`, { method: "POST", body: body1k });
  }
  const noopWorker = await scenario("baseline: no-op Worker", () => fetchOk(`${baselineUrl}/noop`));
  const noopDo = await scenario("baseline: no-op Durable Object RPC", () => fetchOk(`${baselineUrl}/do`));
  const rawInsert = await scenario("baseline: raw 1 KiB SQLite insert", () => fetchOk(`${baselineUrl}/sqlite`, { method: "POST", body: body1k }));

  const admin = new Admin({ endpoint: server.url, credentials: null });
  const counted = countingFetch();
  const producer = new Producer({
    endpoint: server.url,
    credentials: null,
    group: "bench_pg",
    sendMsgTimeoutMs: 30_000,
    maxInflightSends: concurrency,
    fetch: counted.fetch,
  });
  const onServer = { endpoint: server.url, count: producerRequests(counted.count, producer) };
  await producer.start();
  /**
   * Rows written per stored message over every queue of a topic (a cost figure), on the
   * masters and on their slaves (replication lands right after the sends).
   */
  const rowsPerMessage = async (topic: string, on: Admin = admin): Promise<Cost> => {
    await new Promise((r) => setTimeout(r, 500));
    const cost: Cost = { rows: 0, slaveRows: 0, messages: 0 };
    for (const mq of readQueuesOf(await on.topicRoute(topic), topic)) {
      const master = (await on.queueStats(mq)) as unknown as { rowsWritten: number; messagesAppended: number };
      const slave = (await on.queueStats(mq, { brokerId: 1 })) as unknown as { rowsWritten: number };
      cost.rows += master.rowsWritten;
      cost.slaveRows += slave.rowsWritten;
      cost.messages += master.messagesAppended;
    }
    return cost;
  };
  const cost = new Map<string, Cost>();
  const newTopic = async (name: string, queueNums: number, brokers?: string[]) => {
    await admin.createTopic(name, brokers ? { queueNums, brokers } : { queueNums });
    for (let i = 0; i < 20; i++) await producer.send({ topic: name, body: body1k });
    return name;
  };

  const topic = await newTopic("BenchSync", 4); // 8 queues over 2 brokers
  const send = await scenario(
    "flaremq: sync send 1 KiB, 8 queues",
    async () => {
      await producer.send({ topic, body: body1k });
    },
    onServer,
  );
  cost.set(send.name, await rowsPerMessage(topic));

  // The same sync send against a server with accounts: every request signed and verified.
  const signedServer = await startServer({
    port: 0,
    stateDir: path.join(stateDir, "flaremq-signed"),
    skipBuild: true,
    vars: { FLAREMQ_ACCOUNTS: JSON.stringify([{ ...BENCH_ACCOUNT, admin: true }]), TEST_FAULTS_ENABLED: "true" },
  });
  let signedSend: LoadResult;
  try {
    const signedAdmin = new Admin({ endpoint: signedServer.url, credentials: BENCH_ACCOUNT });
    await signedAdmin.createTopic("BenchSigned", { queueNums: 4 });
    const signedCount = countingFetch();
    const signedProducer = new Producer({
      endpoint: signedServer.url,
      credentials: BENCH_ACCOUNT,
      group: "bench_pg",
      sendMsgTimeoutMs: 30_000,
      fetch: signedCount.fetch,
    });
    await signedProducer.start();
    for (let i = 0; i < 20; i++) await signedProducer.send({ topic: "BenchSigned", body: body1k });
    signedSend = await scenario(
      "flaremq: sync send 1 KiB, 8 queues, signed",
      async () => {
        await signedProducer.send({ topic: "BenchSigned", body: body1k });
      },
      { endpoint: signedServer.url, count: signedCount.count },
    );
  } finally {
    await signedServer.stop();
  }

  // The same sync send with other broker roles: no slave at all, and SYNC_MASTER (the send
  // waits for the slave). The default (ASYNC_MASTER, one slave) is the first scenario.
  const roleSends = new Map<string, LoadResult>();
  for (const [label, vars] of [
    ["no slaves", { BROKER_SLAVES: "0" }],
    ["SYNC_MASTER", { BROKER_ROLE: "SYNC_MASTER" }],
  ] as const) {
    const roleServer = await startServer({
      port: 0,
      stateDir: path.join(stateDir, `flaremq-${label}`),
      skipBuild: true,
      vars: { ...vars, TEST_FAULTS_ENABLED: "true" },
    });
    try {
      const roleAdmin = new Admin({ endpoint: roleServer.url, credentials: null });
      await roleAdmin.createTopic("BenchRole", { queueNums: 4 });
      const roleCount = countingFetch();
      const roleProducer = new Producer({ endpoint: roleServer.url, credentials: null, group: "bench_pg", sendMsgTimeoutMs: 30_000, fetch: roleCount.fetch });
      await roleProducer.start();
      for (let i = 0; i < 20; i++) await roleProducer.send({ topic: "BenchRole", body: body1k });
      const r = await scenario(
        `flaremq: sync send 1 KiB, 8 queues, ${label}`,
        async () => {
          await roleProducer.send({ topic: "BenchRole", body: body1k });
        },
        { endpoint: roleServer.url, count: roleCount.count },
      );
      roleSends.set(label, r);
      if (label !== "no slaves") cost.set(r.name, await rowsPerMessage("BenchRole", roleAdmin));
    } finally {
      await roleServer.stop();
    }
  }

  const oneTopic = await newTopic("BenchOneQueue", 1, ["broker-a"]);
  const oneQueue: MessageQueue = { topic: oneTopic, brokerName: "broker-a", queueId: 0 };
  const sendOne = await scenario(
    "flaremq: sync send 1 KiB, 1 queue",
    async () => {
      await producer.send({ topic: oneTopic, body: body1k }, { messageQueue: oneQueue });
    },
    onServer,
  );
  cost.set(sendOne.name, await rowsPerMessage(oneTopic));

  // Async: one caller keeps up to 256 callback-form sends outstanding (the in-flight cap).
  const asyncTopic = await newTopic("BenchAsync", 4);
  const asyncName = `flaremq: async send 1 KiB, ${concurrency} in flight`;
  const finishAsync = await startMeter(server.url, onServer.count);
  const asyncSend = await runAsyncLoad(
    asyncName,
    durationMs,
    (onDone) => producer.send({ topic: asyncTopic, body: body1k }, { onSuccess: () => onDone(true), onException: () => onDone(false) }),
    progressBar(asyncName),
  );
  results.push(asyncSend);
  const asyncCost = await finishAsync(asyncSend.items);
  if (asyncCost) billed.set(asyncName, asyncCost);
  cost.set(asyncSend.name, await rowsPerMessage(asyncTopic));

  const batchTopic = await newTopic("BenchBatch", 4);
  const batch = Array.from({ length: 32 }, () => ({ topic: batchTopic, body: body1k }));
  const batchSend = await scenario(
    "flaremq: batch send 32 x 1 KiB",
    async () => {
      await producer.send(batch);
      return 32;
    },
    onServer,
  );
  cost.set(batchSend.name, await rowsPerMessage(batchTopic));

  const consumer = new PullConsumer({ endpoint: server.url, credentials: null, group: "bench_cg", fetch: counted.fetch });
  const queues = await consumer.fetchSubscribeMessageQueues(topic);
  const offsets = new Map(queues.map((q) => [q, 0]));
  let turn = 0;
  const pull = await scenario(
    "flaremq: pull 32 x 1 KiB",
    async () => {
      const mq = queues[turn++ % queues.length]!;
      const r = await consumer.pull(mq, "*", offsets.get(mq)!, 32, { maxWaitMs: 0 });
      offsets.set(mq, r.pullStatus === "FOUND" ? r.nextBeginOffset : 0);
      return r.msgFoundList.length;
    },
    onServer,
  );

  const { drain, drainOverHttp, popped, serverCpu } = await drainsSideBySide(server.url, backlog, (l) => console.error(l), serverPid);
  results.push(drain, popped);
  const latencyBaseline = await baselineLatency(`${baselineUrl}/noop`, latencyRate, durationMs);
  results.push(latencyBaseline);
  const latency = await endToEndLatency(server.url, latencyRate, durationMs);
  results.push(latency);

  const pushSubscriptionLines = await pushSubscriptionReport(drain, latency);
  console.log(
    "\n| scenario | requests/s | messages/s | p50 ms | p99 ms | msgs/s ÷ no-op Worker req/s | msgs/s ÷ raw SQLite insert/s | rows written / message (master + slave) | Worker requests / message | object requests / message | all rows / message | $ / M messages |",
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of results) {
    const msgsPerSec = r.name.includes("baseline") ? r.opsPerSec : r.items / r.seconds;
    const c = cost.get(r.name);
    console.log(
      `| ${r.name} | ${fmt(r.opsPerSec)} | ${r.name.includes("baseline") ? "–" : fmt(msgsPerSec)} | ${Number.isNaN(r.p50Ms) ? "–" : fmt(r.p50Ms, 2)} | ${Number.isNaN(r.p99Ms) ? "–" : fmt(r.p99Ms, 2)} | ${fmt(msgsPerSec / noopWorker.opsPerSec, 2)} | ${fmt(msgsPerSec / rawInsert.opsPerSec, 2)} | ${c ? `${fmt(c.rows / c.messages, 3)} + ${fmt(c.slaveRows / c.messages, 3)}` : "–"} | ${billedCells(r.name)} |`,
    );
  }
  const pulledPerSec = pull.items / pull.seconds;
  console.log('(the last four columns from the server\'s meters: docs/performance.md, "What a message costs")');
  console.log(
    `\npull: ${fmt(pulledPerSec)} messages/s (${fmt(pull.items / Math.max(1, pull.ops), 1)} per pull), ${fmt(pulledPerSec / noopWorker.opsPerSec, 2)}× the no-op Worker request rate`,
  );
  console.log(`send latency p50 ${fmt(send.p50Ms, 2)} ms vs no-op DO RPC p50 ${fmt(noopDo.p50Ms, 2)} ms (${fmt(send.p50Ms / noopDo.p50Ms, 2)}×)`);
  console.log(`single-queue send: ${fmt(sendOne.opsPerSec / rawInsert.opsPerSec, 2)}× the raw one-insert-per-request rate`);
  console.log(
    `async send: ${fmt(asyncSend.opsPerSec / send.opsPerSec, 2)}× sync send; batch send: ${fmt(batchSend.items / batchSend.seconds / send.opsPerSec, 2)}× sync send in messages/s`,
  );
  const noSlaves = roleSends.get("no slaves")!;
  const syncMaster = roleSends.get("SYNC_MASTER")!;
  console.log(
    `replication: ASYNC_MASTER with one slave ${fmt(send.opsPerSec / noSlaves.opsPerSec, 2)}× the no-slave rate; SYNC_MASTER ${fmt(syncMaster.opsPerSec / noSlaves.opsPerSec, 2)}× (p50 ${fmt(syncMaster.p50Ms, 2)} ms vs ${fmt(noSlaves.p50Ms, 2)} ms)`,
  );
  console.log(`signed sync send (accounts configured): ${fmt(signedSend.opsPerSec / send.opsPerSec, 2)}× the unsigned rate`);
  console.log(
    `push consume: ${fmt(drain.opsPerSec)} messages/s draining ${fmt(drain.ops)} (${fmt(drain.opsPerSec / noopWorker.opsPerSec, 2)}× the no-op Worker request rate)`,
  );
  console.log(popReport(popped, drain, serverCpu, drainOverHttp));
  console.log(
    `end-to-end latency at ${latencyRate} msg/s: p50 ${fmt(latency.p50Ms, 1)} ms, p99 ${fmt(latency.p99Ms, 1)} ms; no-op Worker round trip p50 ${fmt(latencyBaseline.p50Ms, 1)} ms, p99 ${fmt(latencyBaseline.p99Ms, 1)} ms (${fmt(latency.p50Ms / latencyBaseline.p50Ms, 1)}× at p50)`,
  );
  for (const line of pushSubscriptionLines) console.log(line);
  const targets = await targetScenarios(server.url, baselineUrl, targetOptions);
  for (const line of targets.singles.lines) console.log(line);
  for (const line of (await scaling(server.url, serverPid, durationMs)).lines) console.log(line);
  for (const line of await measureIdle(true)) console.log(line);
  for (const line of targetReport(targets)) console.log(line);
} finally {
  await server.stop();
  await baseline.dispose();
  await rm(stateDir, { recursive: true, force: true });
}
