/**
 * Single-message sends, the way most programs send (issue 16's measures): one at a time, each
 * awaited; and 256 single sends in flight, with the producer's auto-batching on and off, set
 * against the same 256 messages sent as 8 batches of 32 in flight and against a no-op Worker
 * request, all in the same run. Every row reports rows written and HTTP requests per message,
 * the two things Cloudflare bills a send by, and, on a server under the test configuration,
 * everything the objects did for it (bench/meter.ts) and the estimated cost per million
 * messages. Run alone with `npm run bench -- --single-sends-only`.
 */
import { Admin, Producer, type MessageQueue, type ProducerOptions } from "../client/index.js";
import { progressBar, runLoad, type LoadResult } from "./load.js";
import { countingFetch, producerRequests, startMeter, type ScenarioCost } from "./meter.js";
import { body1k } from "./backlog.js";

export interface SingleSendRow {
  result: LoadResult;
  /** Messages per second. */
  rate: number;
  rowsPerMessage: number;
  slaveRowsPerMessage: number;
  requestsPerMessage: number;
  /** Everything billed per message, from the server's meters (null without them). */
  cost: ScenarioCost | null;
}

export interface SingleSends {
  results: LoadResult[];
  lines: string[];
  noop: LoadResult;
  /** One raw 1 KiB insert through a Worker and an object, sequential: the floor of a durable send. */
  rawInsert: LoadResult;
  batch: SingleSendRow;
  sequential: SingleSendRow;
  /** The same over HTTP (sendChannels: false). */
  sequentialHttp: SingleSendRow;
  sequentialOff: SingleSendRow;
  inFlight: SingleSendRow;
  inFlightOff: SingleSendRow;
}

async function rowsWritten(admin: Admin, topic: string): Promise<{ rows: number; slaveRows: number; messages: number }> {
  // Replication lands right after the sends.
  await new Promise((r) => setTimeout(r, 500));
  const route = await admin.topicRoute(topic);
  const queues: MessageQueue[] = route.queueDatas.flatMap((q) =>
    Array.from({ length: q.writeQueueNums }, (_, queueId) => ({ topic, brokerName: q.brokerName, queueId })),
  );
  const total = { rows: 0, slaveRows: 0, messages: 0 };
  for (const mq of queues) {
    const master = (await admin.queueStats(mq)) as unknown as { rowsWritten: number; messagesAppended: number };
    const slave = (await admin.queueStats(mq, { brokerId: 1 })) as unknown as { rowsWritten: number };
    total.rows += master.rowsWritten;
    total.slaveRows += slave.rowsWritten;
    total.messages += master.messagesAppended;
  }
  return total;
}

export async function singleSends(endpoint: string, baselineUrl: string, durationMs: number): Promise<SingleSends> {
  const admin = new Admin({ endpoint, credentials: null });
  const results: LoadResult[] = [];
  const rows = new Map<string, SingleSendRow>();
  let n = 0;

  /** One scenario on a fresh 8-queue topic (4 per broker) and a fresh producer; warmed up first. */
  const measure = async (
    name: string,
    concurrency: number,
    options: Partial<ProducerOptions>,
    op: (producer: Producer, topic: string) => Promise<number | void>,
  ): Promise<SingleSendRow> => {
    const topic = `BenchSingle${Date.now()}x${n++}`;
    await admin.createTopic(topic, { queueNums: 4 });
    const { fetch, count } = countingFetch();
    const producer = new Producer({
      endpoint,
      credentials: null,
      group: "bench_single_pg",
      sendMsgTimeoutMs: 30_000,
      maxInflightSends: 1000,
      fetch,
      ...options,
    });
    await producer.start();
    await Promise.all(Array.from({ length: 32 }, () => producer.send({ topic, body: body1k })));
    const before = await rowsWritten(admin, topic);
    const counted = producerRequests(count, producer);
    const requestsBefore = counted.requests;
    const finish = await startMeter(endpoint, counted, 0);
    const result = await runLoad(name, { durationMs, concurrency }, () => op(producer, topic), progressBar(name));
    const requests = counted.requests - requestsBefore;
    await producer.shutdown();
    const cost = await finish(result.items);
    const after = await rowsWritten(admin, topic);
    const messages = after.messages - before.messages;
    const row: SingleSendRow = {
      result,
      rate: result.items / result.seconds,
      rowsPerMessage: (after.rows - before.rows) / messages,
      slaveRowsPerMessage: (after.slaveRows - before.slaveRows) / messages,
      requestsPerMessage: requests / messages,
      cost,
    };
    results.push(result);
    rows.set(name, row);
    return row;
  };

  const noop = await runLoad(
    "baseline: no-op Worker, sequential",
    { durationMs, concurrency: 1 },
    async () => {
      const res = await fetch(`${baselineUrl}/noop`);
      await res.arrayBuffer();
    },
    progressBar("no-op Worker, sequential"),
  );
  results.push(noop);
  // The floor of a durable single send on this machine: one Worker request, one object call, one
  // 1 KiB SQLite insert, and nothing of flaremq's.
  const rawInsert = await runLoad(
    "baseline: raw 1 KiB SQLite insert through a Worker and an object, sequential",
    { durationMs, concurrency: 1 },
    async () => {
      const res = await fetch(`${baselineUrl}/sqlite`, { method: "POST", body: body1k });
      await res.arrayBuffer();
    },
    progressBar("raw insert, sequential"),
  );
  results.push(rawInsert);
  const batch = await measure("batch send 32 x 1 KiB, 8 in flight (256 messages)", 8, {}, async (p, topic) => {
    await p.send(Array.from({ length: 32 }, () => ({ topic, body: body1k })));
    return 32;
  });
  const single = (p: Producer, topic: string) => p.send({ topic, body: body1k }).then(() => undefined);
  const sequential = await measure("single send 1 KiB, sequential, each awaited", 1, {}, single);
  const sequentialHttp = await measure("single send 1 KiB, sequential, over HTTP (sendChannels false)", 1, { sendChannels: false }, single);
  const sequentialOff = await measure("single send 1 KiB, sequential, autoBatch off", 1, { autoBatch: false }, single);
  const inFlight = await measure("256 single sends 1 KiB in flight", 256, {}, single);
  const inFlightOff = await measure("256 single sends 1 KiB in flight, autoBatch off", 256, { autoBatch: false }, single);

  const fmt = (v: number, d = 0) => v.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
  const lines = [
    "",
    "| single sends (1 KiB) | messages/s | p50 ms | p99 ms | ÷ batch-32 rate | ÷ no-op Worker req/s (sequential) | rows / message (master + slave) | requests / message | object requests / message | all rows / message | $ / M messages |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    `| ${noop.name} | ${fmt(noop.opsPerSec)} req/s | ${fmt(noop.p50Ms, 2)} | ${fmt(noop.p99Ms, 2)} | – | 1.00 | – | 1 | – | – | – |`,
    `| ${rawInsert.name} | ${fmt(rawInsert.opsPerSec)} | ${fmt(rawInsert.p50Ms, 2)} | ${fmt(rawInsert.p99Ms, 2)} | – | ${fmt(rawInsert.opsPerSec / noop.opsPerSec, 2)} | 1 + 0 | 1 | 1 | – | – |`,
  ];
  for (const [name, r] of rows) {
    lines.push(
      `| ${name} | ${fmt(r.rate)} | ${fmt(r.result.p50Ms, 2)} | ${fmt(r.result.p99Ms, 2)} | ${fmt(r.rate / batch.rate, 2)} | ${fmt(r.rate / noop.opsPerSec, 2)} | ${fmt(r.rowsPerMessage, 3)} + ${fmt(r.slaveRowsPerMessage, 3)} | ${fmt(r.requestsPerMessage, 3)} | ${r.cost ? fmt(r.cost.objectRequests, 3) : "–"} | ${r.cost ? fmt(r.cost.rowsWritten, 3) : "–"} | ${r.cost ? `$${fmt(r.cost.dollarsPerMillion, 3)}` : "–"} |`,
    );
  }
  lines.push(
    "",
    `sequential single send: p50 ${fmt(sequential.result.p50Ms, 2)} ms = ${fmt(sequential.result.p50Ms / noop.p50Ms, 2)}× the no-op Worker round trip (${fmt(noop.p50Ms, 2)} ms; target ≤ 1.5×), over send channels; ` +
      `over HTTP (sendChannels false): ${fmt(sequentialHttp.result.p50Ms / noop.p50Ms, 2)}×; autoBatch off: ${fmt(sequentialOff.result.p50Ms / noop.p50Ms, 2)}×; ` +
      `the floor of a send over HTTP, one raw insert through a Worker and an object: p50 ${fmt(rawInsert.p50Ms, 2)} ms = ${fmt(rawInsert.p50Ms / noop.p50Ms, 2)}×, so flaremq's send over HTTP is ${fmt(sequentialHttp.result.p50Ms / rawInsert.p50Ms, 2)}× that floor`,
    `256 single sends in flight: ${fmt(inFlight.rate)} msg/s = ${fmt(inFlight.rate / batch.rate, 2)}× the batch-32 rate (target ≥ 0.9×), ${fmt(inFlight.rate / inFlightOff.rate, 1)}× autoBatch off (${fmt(inFlightOff.rate)} msg/s), ${fmt(inFlight.requestsPerMessage, 3)} requests and ${fmt(inFlight.rowsPerMessage, 3)} master rows per message`,
  );
  return { results, lines, noop, rawInsert, batch, sequential, sequentialHttp, sequentialOff, inFlight, inFlightOff };
}
