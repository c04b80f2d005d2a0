/** Helpers shared by the Durable Object tests (imported by *.test.ts; not a test itself). */
import { expect } from "vitest";
import type { StoredMessage } from "../protocol/message.js";
import type { PullRequest, QueueDO } from "./queue.js";
import { holdPull } from "../cluster/long-polls.js";
import type { QueueData } from "../protocol/route.js";
import { env } from "cloudflare:test";

const encoder = new TextEncoder();

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

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
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
export async function waitForParked(q: DurableObjectStub<QueueDO>, n: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await q.stats()).parkedPulls === n) return;
    await sleep(5);
  }
  throw new Error(`never saw ${n} parked pulls`);
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
