/**
 * POP (SimpleConsumer) benchmark: draining the same kind of backlog as bench/consume.ts's push
 * consumer, by receive (32 per call) and one batch ack per receive (given just before the next
 * receive, which carries it: client/held-acks.ts), with as many receive loops
 * as the topic has queues (the push consumer pulls every queue at once too). Reports the rate
 * and what POP state wrote: rows per consumed message over every queue of the topic.
 */
import { Admin, SimpleConsumer } from "../client/index.js";
import { fillBacklog } from "./backlog.js";
import { drainBacklog } from "./consume.js";
import { processCpuMs } from "./process-cpu.js";
import { readQueuesOf } from "./topic-queues.js";
import type { LoadResult } from "./load.js";

const RECEIVE_BATCH = 32;
const INVISIBLE_MS = 60_000;

export interface PopDrainResult extends LoadResult {
  /** POP state rows written over every queue, per message consumed. */
  rowsPerMessage: number;
  /** HTTP requests (receives, and acks that left on their own), per message consumed. */
  requestsPerMessage: number;
}

export async function popDrain(
  endpoint: string,
  backlog: number,
  log: (line: string) => void,
  options: { beforeDrain?: () => Promise<void> } = {},
): Promise<PopDrainResult> {
  const admin = new Admin({ endpoint, credentials: null });
  const topic = await fillBacklog(endpoint, "BenchPop", backlog);
  const group = `bench_pop_cg_${Date.now()}`;
  const queues = readQueuesOf(await admin.topicRoute(topic), topic);
  let total = 0;
  for (const mq of queues) total += ((await admin.queueStats(mq)) as unknown as { maxOffset: number }).maxOffset;

  // Requests as they leave, counted at fetch: an ack rides the next receive, so calls are not requests.
  let requests = 0;
  const countingFetch: typeof fetch = (input, init) => {
    requests++;
    return fetch(input, init);
  };
  const consumer = new SimpleConsumer({ endpoint, credentials: null, group, awaitDurationMs: 1000, fetch: countingFetch });
  consumer.subscribe(topic);
  let consumed = 0;
  // Each loop acks a batch as it asks for the next (as the push consumer commits while it
  // pulls), so the next receive carries the ack; a batch counts once its ack answered OK. The clock stops at the ack of the last
  // message, as the push drain's stops at its last message: a loop still parked in a receive
  // that finds nothing then waits out its long poll, which is not draining.
  let received = 0;
  let finishedAt = Number.NaN;
  const stop = new AbortController();
  const loop = async () => {
    const acks: Promise<void>[] = [];
    while (received < total) {
      const got = await consumer.receive(RECEIVE_BATCH, INVISIBLE_MS, { signal: stop.signal }).catch((e: unknown) => {
        if (stop.signal.aborted) return [];
        throw e;
      });
      if (stop.signal.aborted) break;
      if (got.length === 0) continue;
      received += got.length;
      acks.push(
        consumer.ackAll(got).then((statuses) => {
          consumed += statuses.filter((s) => s === "OK").length;
          if (consumed >= total && Number.isNaN(finishedAt)) {
            finishedAt = performance.now();
            stop.abort();
          }
        }),
      );
    }
    await Promise.all(acks);
  };
  await options.beforeDrain?.();
  const started = performance.now();
  await Promise.all(queues.map(() => loop()));
  const seconds = ((Number.isNaN(finishedAt) ? performance.now() : finishedAt) - started) / 1000;
  const requestsAtFinish = requests;
  let rows = 0;
  for (const mq of queues) rows += ((await admin.queueStats(mq)) as unknown as { popRowsWritten: number }).popRowsWritten;
  log(`  POP drained ${consumed} messages in ${seconds.toFixed(2)} s, ${requestsAtFinish} requests, ${rows} POP rows`);
  return {
    name: "flaremq: POP receive 32 + batch ack, 1 KiB backlog",
    ops: consumed,
    seconds,
    opsPerSec: consumed / seconds,
    p50Ms: Number.NaN,
    p99Ms: Number.NaN,
    items: consumed,
    rowsPerMessage: rows / consumed,
    requestsPerMessage: requestsAtFinish / consumed,
  };
}

/** Messages each consumer drains first, unmeasured, on the same server. */
const WARM_UP_BACKLOG = 4096;
/** Measured drains of each consumer, alternating; the faster of each is compared. */
const DRAIN_ROUNDS = 2;

/**
 * The push consumer's drain and POP's, as popReport compares them. Each is measured after a
 * first, unmeasured drain of its own on the same server, so both figures are of code the
 * isolate has compiled: in the full run the pull scenario has already run the push consumer's
 * path, and without this POP's drain alone would include the JIT's warm-up. Then each drains
 * DRAIN_ROUNDS times, the two alternating, and the faster drain of each is kept: on a shared
 * machine one drain of the same consumer ran at 14k and 35k msg/s in one run, and a ratio of
 * single drains said more about the noise than about the consumers.
 */
export async function drainsSideBySide(
  endpoint: string,
  backlog: number,
  log: (line: string) => void,
  serverPid: number | null = null,
): Promise<{ drain: LoadResult; drainOverHttp: LoadResult; popped: PopDrainResult; serverCpu: DrainCpu }> {
  await drainBacklog(endpoint, WARM_UP_BACKLOG, () => {});
  await drainBacklog(endpoint, WARM_UP_BACKLOG, () => {}, { pullChannels: false });
  await popDrain(endpoint, WARM_UP_BACKLOG, () => {});
  let drain: LoadResult | undefined;
  let drainOverHttp: LoadResult | undefined;
  let popped: PopDrainResult | undefined;
  const serverCpu: DrainCpu = { pushUsPerMessage: null, popUsPerMessage: null };
  // The server's CPU from the start of a drain (its backlog stored) to its return, per message.
  let cpuAtStart: number | null = null;
  const beforeDrain = async () => {
    cpuAtStart = processCpuMs(serverPid);
  };
  const usPerMessage = (messages: number): number | null => {
    const now = processCpuMs(serverPid);
    return now === null || cpuAtStart === null ? null : ((now - cpuAtStart) * 1000) / messages;
  };
  for (let round = 0; round < DRAIN_ROUNDS; round++) {
    const d = await drainBacklog(endpoint, backlog, log, { beforeDrain });
    const pushCpu = usPerMessage(d.ops);
    if (!drain || d.opsPerSec > drain.opsPerSec) [drain, serverCpu.pushUsPerMessage] = [d, pushCpu];
    const p = await popDrain(endpoint, backlog, log, { beforeDrain });
    const popCpu = usPerMessage(p.ops);
    if (!popped || p.opsPerSec > popped.opsPerSec) [popped, serverCpu.popUsPerMessage] = [p, popCpu];
    // POP is an HTTP protocol: beside the push consumer as it runs (over pull channels), the push consumer over HTTP.
    const h = await drainBacklog(endpoint, backlog, log, { pullChannels: false });
    if (!drainOverHttp || h.opsPerSec > drainOverHttp.opsPerSec) drainOverHttp = h;
  }
  return { drain: drain!, drainOverHttp: drainOverHttp!, popped: popped!, serverCpu };
}

/** The server process's CPU time per message drained, in the drains compared (null where /proc cannot tell). */
export interface DrainCpu {
  pushUsPerMessage: number | null;
  popUsPerMessage: number | null;
}

/** One line: POP's drain rate as a ratio of the push consumer's in the same run, and its cost per message. */
export function popReport(popped: PopDrainResult, drain: LoadResult, serverCpu?: DrainCpu, drainOverHttp?: LoadResult): string {
  const fmt = (n: number, d = 0) => n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
  const cpu =
    serverCpu?.popUsPerMessage != null && serverCpu.pushUsPerMessage != null
      ? `; server CPU ${fmt(serverCpu.popUsPerMessage)} µs per message (push consumer ${fmt(serverCpu.pushUsPerMessage)} µs, ${fmt(serverCpu.popUsPerMessage / serverCpu.pushUsPerMessage, 2)}×)`
      : "";
  return (
    `POP consume: ${fmt(popped.opsPerSec)} messages/s receiving 32 and acking each batch with the next receive, ` +
    `${fmt(popped.opsPerSec / drain.opsPerSec, 2)}× the push consumer's drain (the faster of ${DRAIN_ROUNDS} drains each)` +
    (drainOverHttp
      ? `, ${fmt(popped.opsPerSec / drainOverHttp.opsPerSec, 2)}× the push consumer's over HTTP (pullChannels false: ${fmt(drainOverHttp.opsPerSec)} messages/s)`
      : "") +
    "; " +
    `${fmt(popped.rowsPerMessage, 3)} POP rows and ${fmt(popped.requestsPerMessage, 3)} requests per message${cpu}`
  );
}
