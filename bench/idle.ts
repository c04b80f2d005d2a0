/**
 * The idle cost of waiting clients (docs/performance.md, "Idle cost"): one PushConsumer on an
 * 8-queue topic and one TransactionProducer, attached with their default timings (15 s pull hold,
 * 20 s watch and check poll, 30 s heartbeat) while no message flows.
 *
 * How it is measured: the server runs under the test configuration, which serves what its objects
 * did, per class (GET /_test/activity; durable-objects/shared/activity.ts): activations (a call
 * arriving while none was in progress: a request, or several overlapping ones) and busy time
 * (wall time with a call in progress, which is what is billed as duration; between calls an
 * object holds no request and no timer, so it may hibernate, as test/workerd/idle-cost.test.ts
 * checks). The clients' own HTTP requests to the Worker are counted by their injected fetch.
 * Both are read once the clients are parked (and their first offset commits made) and again
 * `idleMs` later; the difference is scaled to an hour. The same window without any client first
 * gives the deployment's own background (brokers heartbeating to the NameServers every 30 s), so
 * the clients' share is the difference. A window counts whole long-poll cycles (15 s or 20 s
 * each): one cycle more or less per waiter is the measurement's grain.
 */
import { Admin, PushConsumer, TransactionProducer, concurrently, type FetchLike } from "../client/index.js";

export interface ClassActivity {
  activations: number;
  busyMs: number;
}

export interface IdleCost {
  idleMs: number;
  /** Per object class, over the idle window with the clients attached. */
  classes: Record<string, ClassActivity>;
  /** Per object class, over a window as long without any client. */
  background: Record<string, ClassActivity>;
  /** HTTP requests the clients made to the Worker over the idle window. */
  consumerRequests: number;
  producerRequests: number;
  /** Objects holding a parked waiter, per class: what the design before this one kept awake all the time. */
  waitingObjects: Record<string, number>;
}

function countingFetch(): { fetch: FetchLike; count: () => number } {
  let n = 0;
  return {
    fetch: (input, init) => {
      n++;
      return fetch(input, init);
    },
    count: () => n,
  };
}

async function activity(endpoint: string): Promise<Record<string, ClassActivity>> {
  const res = await fetch(`${endpoint}/_test/activity`);
  if (!res.ok) throw new Error(`GET /_test/activity: ${res.status} (is the server under the test configuration?)`);
  return ((await res.json()) as { classes: Record<string, ClassActivity> }).classes;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What each class did between two readings of its activity. */
function delta(before: Record<string, ClassActivity>, after: Record<string, ClassActivity>): Record<string, ClassActivity> {
  const out: Record<string, ClassActivity> = {};
  for (const [name, a] of Object.entries(after)) {
    const b = before[name] ?? { activations: 0, busyMs: 0 };
    out[name] = { activations: a.activations - b.activations, busyMs: a.busyMs - b.busyMs };
  }
  return out;
}

/** Measures against a server started with TEST_FAULTS_ENABLED=true and nothing else running on it. */
export async function idleCost(endpoint: string, idleMs: number, log: (line: string) => void): Promise<IdleCost> {
  const admin = new Admin({ endpoint, credentials: null });
  const topic = `BenchIdle${Date.now()}`;
  await admin.createTopic(topic, { queueNums: 4 }); // two brokers: 8 queues
  log(`  idle: ${idleMs / 1000} s without clients (the deployment's background)`);
  await sleep(2000);
  const quiet = await activity(endpoint);
  await sleep(idleMs);
  const background = delta(quiet, await activity(endpoint));

  const consumerCalls = countingFetch();
  const consumer = new PushConsumer({ endpoint, credentials: null, group: "bench_idle_cg", fetch: consumerCalls.fetch });
  consumer.subscribe(topic);
  consumer.registerMessageListener(concurrently(() => "CONSUME_SUCCESS"));
  const producerCalls = countingFetch();
  const producer = new TransactionProducer({
    endpoint,
    credentials: null,
    group: "bench_idle_tx",
    fetch: producerCalls.fetch,
    transactionListener: { executeLocalTransaction: () => "COMMIT_MESSAGE", checkLocalTransaction: () => "COMMIT_MESSAGE" },
  });
  await consumer.start();
  await producer.start();
  try {
    // Parked: a pull on each of the 8 queues and the 2 of the group's retry topic, the check poll.
    for (;;) {
      const queues = consumer.assignedQueues;
      // A push consumer's pull waits in its pull channel (or, over HTTP, as a parked long poll).
      const parked = await Promise.all(
        queues.map(async (mq) => {
          const stats = (await admin.queueStats(mq)) as unknown as { parkedPulls: number; pullChannels: number };
          return stats.parkedPulls + stats.pullChannels;
        }),
      );
      const polls = (await admin.producerGroupStatus("bench_idle_tx")).parkedPolls;
      if (queues.length === 10 && parked.every((n) => n === 1) && polls === 1) break;
      await sleep(200);
    }
    // Past the consumer's first offset commits (every 5 s, and only of offsets that moved).
    await sleep(6000);
    log(`  idle: clients parked; ${idleMs / 1000} s with no traffic`);
    const before = await activity(endpoint);
    // A pull channel's upgrade is a Worker request too.
    const consumerCount = () => consumerCalls.count() + consumer.pullChannelStats.opened;
    const [c0, p0] = [consumerCount(), producerCalls.count()];
    await sleep(idleMs);
    return {
      idleMs,
      classes: delta(before, await activity(endpoint)),
      background,
      consumerRequests: consumerCount() - c0,
      producerRequests: producerCalls.count() - p0,
      waitingObjects: { QueueDO: 10, ConsumerGroupDO: 1, ProducerGroupDO: 1 },
    };
  } finally {
    await consumer.shutdown();
    await producer.shutdown();
  }
}

/** Published unit prices (docs/performance.md): Durable Objects and Workers Standard, beyond the included amounts. */
const PRICE = { doRequestPerM: 0.15, gbSecondPerM: 12.5, gbPerObject: 0.128, workerRequestPerM: 0.3 };
const HOURS_PER_MONTH = 730;

/**
 * The report: per class and per idle hour, without and with the clients, and the awake time the
 * design before this one had (every object with a waiter in a call, all the time).
 */
export function idleReport(cost: IdleCost): string[] {
  const perHour = 3_600_000 / cost.idleMs;
  const fmt = (n: number, d = 0) => n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
  const lines = [
    `\nidle cost: one PushConsumer (8 queues + 2 retry queues) and one TransactionProducer with default timings, no traffic, ${fmt(cost.idleMs / 1000)} s windows, per idle hour:`,
    "| object class | without clients: activations / h | awake s / h | with the clients: activations / h | awake s / h | objects with a waiter | before: awake s / h |",
    "|---|---:|---:|---:|---:|---:|---:|",
  ];
  const sum = { quietActivations: 0, quietS: 0, activations: 0, busyS: 0, waiting: 0, beforeS: 0 };
  const names = [...new Set([...Object.keys(cost.background), ...Object.keys(cost.classes)])].sort();
  for (const name of names) {
    const q = cost.background[name] ?? { activations: 0, busyMs: 0 };
    const c = cost.classes[name] ?? { activations: 0, busyMs: 0 };
    const waiting = cost.waitingObjects[name] ?? 0;
    sum.quietActivations += q.activations * perHour;
    sum.quietS += (q.busyMs / 1000) * perHour;
    sum.activations += c.activations * perHour;
    sum.busyS += (c.busyMs / 1000) * perHour;
    sum.waiting += waiting;
    sum.beforeS += waiting * 3600;
    lines.push(
      `| ${name} | ${fmt(q.activations * perHour)} | ${fmt((q.busyMs / 1000) * perHour, 1)} | ${fmt(c.activations * perHour)} | ${fmt((c.busyMs / 1000) * perHour, 1)} | ${waiting} | ${fmt(waiting * 3600)} |`,
    );
  }
  lines.push(
    `| all | ${fmt(sum.quietActivations)} | ${fmt(sum.quietS, 1)} | ${fmt(sum.activations)} | ${fmt(sum.busyS, 1)} | ${sum.waiting} | ${fmt(sum.beforeS)} |`,
  );
  // The clients' share: what they added to the background, class by class (never below zero:
  // the brokers' own heartbeats vary from one window to the next). Activations count requests
  // (overlapping ones once); at idle they seldom overlap.
  let requests = 0;
  let awakeS = 0;
  for (const name of names) {
    const q = cost.background[name] ?? { activations: 0, busyMs: 0 };
    const c = cost.classes[name] ?? { activations: 0, busyMs: 0 };
    requests += Math.max(0, c.activations - q.activations) * perHour;
    awakeS += (Math.max(0, c.busyMs - q.busyMs) / 1000) * perHour;
  }
  // Per waiter: what each class holding waiters added, over its waiters (a group object's share
  // includes the member's heartbeats).
  const perWaiter = Object.entries(cost.waitingObjects).map(([name, n]) => {
    const q = cost.background[name] ?? { activations: 0, busyMs: 0 };
    const c = cost.classes[name] ?? { activations: 0, busyMs: 0 };
    const what = name === "QueueDO" ? "parked pull" : name === "ConsumerGroupDO" ? "watch (and heartbeats)" : "check poll";
    return `${what} ${fmt((Math.max(0, c.activations - q.activations) * perHour) / n)} requests, ${fmt((Math.max(0, c.busyMs - q.busyMs) * perHour) / n)} ms awake`;
  });
  lines.push(`per waiter and idle hour: ${perWaiter.join("; ")}`);
  const workerRequests = (cost.consumerRequests + cost.producerRequests) * perHour;
  const perMonth = (n: number, pricePerM: number) => (n * HOURS_PER_MONTH * pricePerM) / 1e6;
  const gbS = (s: number) => s * PRICE.gbPerObject;
  lines.push(
    `the clients' share: ${fmt(requests)} object requests / h, ${fmt(awakeS, 1)} object-s awake / h; Worker requests / h: consumer ${fmt(cost.consumerRequests * perHour)}, transaction producer ${fmt(cost.producerRequests * perHour)}`,
    `per month at list prices, beyond the included amounts: object requests $${fmt(perMonth(requests, PRICE.doRequestPerM), 2)} + duration $${fmt(perMonth(gbS(awakeS), PRICE.gbSecondPerM), 2)} ` +
      `+ Worker requests $${fmt(perMonth(workerRequests, PRICE.workerRequestPerM), 2)}; before, the duration of the waiting objects alone: $${fmt(perMonth(gbS(sum.beforeS), PRICE.gbSecondPerM), 2)}`,
  );
  return lines;
}
