/**
 * Helpers shared by the Durable Object tests (imported by *.test.ts; not a test itself): fresh
 * queue objects and names, stored messages, the outcomes tests compare, and the ways these
 * tests wait. They never sleep for a fixed time: they wait on a condition (vi.waitUntil), let the
 * clock pass a stored time, or run an object's alarm at a time they choose (atTime).
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { expect, vi } from "vitest";
import { queueObjectName } from "../cluster/stubs.js";
import type { MemberFence } from "../protocol/consumer.js";
import type { MessageQueue, StoredMessage } from "../protocol/message.js";
import type { QueueData } from "../protocol/route.js";
import type { EdgeMessage } from "../test/fuzz/limit-edge.js";
import type { ProducerGroupDO } from "./producer-group.js";
import type { PullRequest, QueueDO } from "./queue.js";
import { holdPull } from "../cluster/long-polls.js";
import type { HalfInfo } from "./queue/half-store.js";

const encoder = new TextEncoder();

/** A name no other test uses: `<prefix>-<uuid>`, so the object it names starts empty. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${crypto.randomUUID()}`;
}

/**
 * The queue object of queue 0 of a topic no other test uses (so it starts empty), named as the
 * broker names it, with its MessageQueue; `prefix` starts the topic name.
 */
export function newQueue(prefix = "T"): { q: DurableObjectStub<QueueDO>; mq: MessageQueue } {
  const mq: MessageQueue = { brokerName: "broker-a", topic: uniqueName(prefix), queueId: 0 };
  return { q: env.QUEUE.get(env.QUEUE.idFromName(queueObjectName(mq.brokerName, mq.topic, mq.queueId))), mq };
}

/** A new queue's master object and its slave's (the workerd-ha project runs one slave per broker). */
export function newReplicatedQueue(prefix = "R"): { mq: MessageQueue; master: DurableObjectStub<QueueDO>; slave: DurableObjectStub<QueueDO> } {
  const { q: master, mq } = newQueue(prefix);
  return { mq, master, slave: env.QUEUE.get(env.QUEUE.idFromName(queueObjectName(mq.brokerName, mq.topic, mq.queueId, 1))) };
}

/** A plain stored message numbered `i`: msgId `ID<i>`, body `m<i>`. */
export function msg(i: number, extra: Partial<StoredMessage> = {}): StoredMessage {
  return {
    msgId: `ID${i}`,
    tags: "",
    keys: [],
    properties: {},
    bornTimestamp: 1,
    bornHost: "",
    flag: 0,
    reconsumeTimes: 0,
    body: encoder.encode(`m${i}`),
    ...extra,
  };
}

/** A message at the edge of the documented limits (test/fuzz/limit-edge.ts) as the broker stores it. */
export function storedEdge(m: EdgeMessage, msgId: string): StoredMessage {
  return {
    msgId,
    tags: m.tags,
    keys: m.keys,
    properties: m.properties,
    bornTimestamp: 1_700_000_000_000,
    bornHost: "10.0.0.1:1",
    flag: 0,
    reconsumeTimes: 0,
    body: m.body,
  };
}

/** Index of the first differing byte, -1 when equal (length mismatch counts at the shorter length). */
export function firstDiff(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** The error a call fails with; fails the test if the call succeeds. */
export async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(Error);
    return e as Error;
  }
  throw new Error("expected the call to fail");
}

/** What a pull of an empty queue from offset 0 answers. */
export const NOTHING = { pullStatus: "NO_NEW_MSG", nextBeginOffset: 0, minOffset: 0, maxOffset: 0, entries: [] };

/** A commit's outcome: "OK", or the message it was refused with. */
export async function commitAs(q: DurableObjectStub<QueueDO>, group: string, offset: number, fence?: MemberFence): Promise<string> {
  try {
    await q.commitOffset(group, offset, fence);
    return "OK";
  } catch (e) {
    return (e as Error).message;
  }
}

/** How a queue refuses a pull or commit of a member that does not own it (rebalance fencing). */
export function notOwner(group: string, generation: number): string {
  return `[NOT_QUEUE_OWNER] this queue belongs to another member of group "${group}" since generation ${generation}; rebalance`;
}

/** How a queue refuses a commit of a member that has not seen the group's latest offset reset. */
export function staleReset(group: string): string {
  return `[STALE_OFFSET_RESET] the offsets of group "${group}" were reset; reload them before committing`;
}

/** The time a queue object's alarm is set for, or null. */
export function alarmOf(q: DurableObjectStub<QueueDO>): Promise<number | null> {
  return runInDurableObject(q, (_i, state) => state.storage.getAlarm());
}

/**
 * A pull held as the Worker holds it (cluster/long-polls.ts): answered at once when there is
 * something to answer, else parked on the queue until woken or `maxWaitMs` passes.
 */
export function heldPull(q: DurableObjectStub<QueueDO>, req: PullRequest & { maxWaitMs: number; account?: string }) {
  const { maxWaitMs, account = "", ...pull } = req;
  return holdPull(q, pull, { maxWaitMs, account });
}

/** Waits until `n` pulls are parked on the queue (so a later append really wakes a parked pull). */
export async function waitForParked(q: DurableObjectStub<QueueDO>, n: number, timeoutMs = 5000): Promise<void> {
  await vi.waitFor(async () => expect((await q.stats()).parkedPulls, "parked pulls").toBe(n), { timeout: timeoutMs, interval: 5 });
}

/**
 * Waits until this isolate's clock reads later than `ms`, so whatever is stored next is stamped
 * strictly after it (a millisecond or two). workerd's clock moves only across I/O, which the
 * timer between two looks is.
 */
export async function clockPast(ms: number): Promise<void> {
  await vi.waitUntil(() => Date.now() > ms, { timeout: 5000, interval: 1 });
}

/**
 * Runs `fn` with the clock reading `at` and puts the real clock back after it: the objects run
 * in the test's isolate, so an alarm run inside takes `at` as its now. Delayed messages and
 * checks due an hour from now are delivered at once, and none can come due on its own first.
 * Only Date is faked: timers, I/O and workerd's own alarms keep real time.
 */
export async function atTime<T>(at: number, fn: () => Promise<T>): Promise<T> {
  vi.useFakeTimers({ toFake: ["Date"], now: at });
  try {
    return await fn();
  } finally {
    vi.useRealTimers();
  }
}

/**
 * Runs a master queue object's alarm until no replication push is due and every slave has
 * acknowledged every row (workerd's own alarm may be running a push already).
 */
export async function replicate(master: DurableObjectStub<QueueDO>): Promise<void> {
  await vi.waitUntil(
    async () => {
      await runDurableObjectAlarm(master);
      const pushDue = await runInDurableObject(master, (instance) => (instance as unknown as { replication: { dueAt: number | null } }).replication.dueAt);
      if (pushDue !== null) return false;
      const status = await master.replicationStatus();
      return status.slaves.every((s) => s.ackedOffset === status.maxOffset);
    },
    { timeout: 10_000, interval: 10 },
  );
}

/**
 * The one fixed wait these tests keep: after what should happen has happened, a short time in
 * which what must NOT happen (a watch woken without cause) would show up if the code were wrong.
 * Nothing to wait for exists there; say at the call what is watched.
 */
export function quietPeriod(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Transactions (queue/transactions.test.ts, queue/transaction-check.test.ts).

/** TRANSACTION_CHECK_MAX and TRANSACTION_CHECK_INTERVAL_MS of wrangler.toml. */
export const CHECK_MAX = 15;
export const CHECK_INTERVAL_MS = 60_000;
/** How long a queue remembers a decision (DECIDED_RETENTION_MS in queue/transactions.ts). */
export const DECIDED_RETENTION_MS = 3600_000;

/** The producer group object of `name` (the one a queue raises its checks to). */
export function producerGroupObject(name: string): DurableObjectStub<ProducerGroupDO> {
  return env.PRODUCER_GROUP.get(env.PRODUCER_GROUP.idFromName(name));
}

/** A half message as the broker stores it: the transaction properties set, as RocketMQ does. */
export function half(id: string, pgroup: string, extra: Partial<StoredMessage> = {}): StoredMessage {
  return {
    msgId: id,
    tags: "TagT",
    keys: ["order-1", "k 2"],
    properties: { TRAN_MSG: "true", PGROUP: pgroup, user: "v", CHECK_IMMUNITY_TIME_IN_SECONDS: "6" },
    bornTimestamp: 1_700_000_000_123,
    bornHost: "10.0.0.2:4321",
    flag: 0,
    reconsumeTimes: 0,
    body: encoder.encode(`body of ${id}`),
    ...extra,
  };
}

/** The message as it becomes visible: the transaction markers are gone, everything else kept. */
export function visible(m: StoredMessage): StoredMessage {
  const { TRAN_MSG: _t, PGROUP: _g, ...properties } = m.properties;
  return { ...m, properties };
}

/** How a transaction given up after CHECK_MAX checks is listed. */
export function givenUp(transactionId: string, producerGroup: string): Record<keyof HalfInfo, unknown> {
  return {
    transactionId,
    producerGroup,
    state: "GIVEN_UP",
    bornTimestamp: expect.any(Number),
    checkTimes: CHECK_MAX,
    nextCheckAt: null,
    queueOffset: null,
    decidedAt: expect.any(Number),
  };
}

/** Makes every pending check due now, without waiting out the check interval. */
export function makeChecksDue(q: DurableObjectStub<QueueDO>): Promise<void> {
  return runInDurableObject(q, (_i, state) => {
    state.storage.sql.exec("UPDATE half SET check_at = 0 WHERE state = 'PENDING'");
  });
}

/** The half rows a queue keeps: id, state, checks so far and how much body each still holds. */
export function halfRows(q: DurableObjectStub<QueueDO>): Promise<Record<string, unknown>[]> {
  return runInDurableObject(q, (_i, state) =>
    state.storage.sql.exec("SELECT txid, state, check_times, extra_chunks, length(data) AS len FROM half ORDER BY txid").toArray(),
  );
}

/**
 * Puts a topic on brokers the way the Worker does: each broker object stores its share and
 * registers it with every NameServer instance before answering.
 */
export async function registerTopic(topic: string, queues: readonly QueueData[]): Promise<void> {
  for (const q of queues) {
    const broker = env.BROKER.get(env.BROKER.idFromName(q.brokerName));
    await broker.start(q.brokerName);
    await broker.upsertTopic(topic, { readQueueNums: q.readQueueNums, writeQueueNums: q.writeQueueNums, perm: q.perm }, "upsert");
  }
}

/**
 * A SqlStorage over `sql` that counts the rows every statement writes (`counter.written`, which a
 * test may reset), for pieces built on `exec(...).toArray()`/`.rowsWritten`. Reads consume their
 * cursors at once.
 */
export function rowCountingSql(sql: SqlStorage): { sql: SqlStorage; counter: { written: number } } {
  const counter = { written: 0 };
  const counting = {
    exec: (query: string, ...bindings: unknown[]) => {
      const cursor = sql.exec(query, ...bindings);
      const rows = cursor.toArray();
      counter.written += cursor.rowsWritten;
      return { toArray: () => rows, rowsWritten: cursor.rowsWritten };
    },
  } as unknown as SqlStorage;
  return { sql: counting, counter };
}
