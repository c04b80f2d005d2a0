/**
 * Idle costs nothing: with consumers and a transaction producer attached and no traffic, no
 * Durable Object has a call in progress or a timer pending, so every object may hibernate; the
 * waiting clients are parked as hibernatable sockets (the runtime's own view, getWebSockets):
 * long polls held by the Worker, and push consumers' pulls parked in their pull channels. Then a send still reaches the parked consumers at once,
 * even after every object was evicted from memory with its sockets hibernated.
 *
 * The real client classes run here inside workerd, reaching the Worker through SELF, in the same
 * isolate as the Worker and the objects: so the test can count every timer pending in the isolate
 * and tell, by the code that set it, the Worker's from an object's.
 */
import { SELF, env, evictDurableObject, listDurableObjectIds, runInDurableObject } from "cloudflare:test";
import { afterAll, describe, expect, it, vi } from "vitest";
import { Admin, LitePullConsumer, Producer, PushConsumer, TransactionProducer, bodyText, concurrently } from "../../client/index.js";
import type { ClientOptions } from "../../client/index.js";
import { activityOf, type Activity } from "../../durable-objects/shared/activity.js";
import { withTimeout } from "../../durable-objects/shared/timeout.js";

/** Every timer pending in this isolate, with the stack that set it. */
const pendingTimers = new Map<unknown, string>();
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;
const realSetInterval = globalThis.setInterval;
const realClearInterval = globalThis.clearInterval;
(Error as { stackTraceLimit?: number }).stackTraceLimit = 50;
globalThis.setTimeout = ((handler: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
  const id: unknown = realSetTimeout(
    (...a: unknown[]) => {
      pendingTimers.delete(id);
      handler(...a);
    },
    ms,
    ...args,
  );
  pendingTimers.set(id, new Error().stack ?? "");
  return id;
}) as typeof setTimeout;
globalThis.clearTimeout = (id?: unknown) => {
  pendingTimers.delete(id);
  realClearTimeout(id as number);
};
globalThis.setInterval = ((handler: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
  const id: unknown = realSetInterval(handler, ms, ...args);
  pendingTimers.set(id, new Error().stack ?? "");
  return id;
}) as typeof setInterval;
globalThis.clearInterval = (id?: unknown) => {
  pendingTimers.delete(id);
  realClearInterval(id as number);
};

/** Pending timers whose stack shows the given folder's code setting them. */
function timersSetIn(folder: string): string[] {
  return [...pendingTimers.values()].filter((stack) => stack.includes(`/${folder}/`));
}

const NAMESPACES = ["QUEUE", "CONSUMER_GROUP", "PRODUCER_GROUP", "NAMESRV", "BROKER", "ACCOUNTS", "REPLAY_GUARD"] as const;

interface ObjectView {
  namespace: (typeof NAMESPACES)[number];
  name: string;
  activity: Activity;
  /** Parked waiters, as the hibernation API lists them. */
  sockets: number;
  /** Of them, push consumers' pull channels: their pulls wait in the object, with no Worker timer. */
  pullChannels: number;
  alarm: number | null;
}

/** Every object of every namespace as it is now, looked at inside the object. */
async function everyObject(): Promise<ObjectView[]> {
  const views = await Promise.all(
    NAMESPACES.map(async (namespace) => {
      const ns = env[namespace] as unknown as DurableObjectNamespace;
      const ids = await listDurableObjectIds(ns);
      return Promise.all(
        ids.map((id) =>
          runInDurableObject(ns.get(id), async (instance, state) => ({
            namespace,
            name: id.toString(),
            activity: activityOf(instance),
            sockets: state.getWebSockets().length,
            pullChannels: state.getWebSockets("pull").length,
            alarm: await state.storage.getAlarm(),
          })),
        ),
      );
    }),
  );
  return views.flat();
}

const endpoint = "http://localhost";
const client: ClientOptions = { endpoint, credentials: null, fetch: (input, init) => SELF.fetch(input, init) };
let counter = 0;
const unique = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${++counter}`;

describe("idle cost", () => {
  const stops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  });

  it("the timer census sees a timer an object's code sets", async () => {
    // What the idle check below relies on: a timer set by code in durable-objects/ is told apart.
    const before = timersSetIn("durable-objects").length;
    const pending = withTimeout(new Promise(() => undefined), 50).catch(() => "timed out");
    expect(timersSetIn("durable-objects").length).toBe(before + 1);
    expect(await pending).toBe("timed out");
    expect(timersSetIn("durable-objects").length).toBe(before);
  });

  it("attached clients park without keeping any object busy, and a send still reaches them at once", { timeout: 120_000 }, async () => {
    const admin = new Admin(client);
    const topic = unique("Idle");
    await admin.createTopic(topic, { queueNums: 2 }); // two brokers: 4 queues
    const queues = 4;
    const retryQueues = 2; // the push group's retry topic: one queue per broker

    // Long waits everywhere (30 s, the most a poll may hold) and rare heartbeats: during the
    // check below no client's timer is due, so any call in progress would be a parked one.
    const received = new Map<string, number>();
    const pushGroup = unique("push");
    const pushConsumers = Array.from({ length: 3 }, () => {
      const c = new PushConsumer({ ...client, group: pushGroup, pollMaxWaitMs: 30_000, heartbeatIntervalMs: 60_000 });
      c.subscribe(topic);
      c.registerMessageListener(
        concurrently((msgs) => {
          for (const m of msgs) received.set(`push:${bodyText(m)}`, Date.now());
          return "CONSUME_SUCCESS";
        }),
      );
      return c;
    });
    for (const c of pushConsumers) {
      await c.start();
      stops.push(() => c.shutdown());
    }
    const lite = new LitePullConsumer({ ...client, group: unique("lite"), brokerSuspendMaxTimeMs: 30_000, heartbeatIntervalMs: 60_000 });
    lite.subscribe(topic);
    await lite.start();
    stops.push(() => lite.shutdown());
    const producerGroup = unique("tx");
    const txProducer = new TransactionProducer({
      ...client,
      group: producerGroup,
      checkPollWaitMs: 30_000,
      transactionListener: { executeLocalTransaction: () => "COMMIT_MESSAGE", checkLocalTransaction: () => "COMMIT_MESSAGE" },
    });
    await txProducer.start();
    stops.push(() => txProducer.shutdown());

    // Parked: each queue holds one pull of each group (and the push group's retry queues one),
    // each group object one watch per member, the producer group one check poll.
    const parked = (views: ObjectView[], namespace: ObjectView["namespace"]) =>
      views.filter((v) => v.namespace === namespace).reduce((n, v) => n + v.sockets, 0);
    await vi.waitFor(
      async () => {
        const views = await everyObject();
        expect([parked(views, "QUEUE"), parked(views, "CONSUMER_GROUP"), parked(views, "PRODUCER_GROUP")]).toEqual([2 * queues + retryQueues, 4, 1]);
      },
      { timeout: 30_000, interval: 200 },
    );

    // No traffic for a moment, then the census. A call in progress now would be a waiting one
    // (the design this replaces parks every long poll in its object, always in progress); a
    // real alarm can be running by chance, so a busy census is taken again, a few times at most.
    await new Promise((r) => setTimeout(r, 500));
    let views: ObjectView[] = [];
    for (let attempt = 0; attempt < 3; attempt++) {
      views = await everyObject();
      if (views.every((v) => v.activity.inFlight === 0)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(views.filter((v) => v.activity.inFlight > 0)).toEqual([]);
    // No timer set by an object's code is pending; the waits are the Worker's, one per parked socket.
    expect(timersSetIn("durable-objects")).toEqual([]);
    // Push consumers pull over pull channels (one per queue of the topic and of its retry topic),
    // parked in the objects; the lite consumer's long polls are held by the Worker.
    expect(views.reduce((n, v) => n + v.pullChannels, 0)).toBe(queues + retryQueues);
    const heldByWorker = views.reduce((n, v) => n + v.sockets - v.pullChannels, 0);
    expect(timersSetIn("cluster").filter((stack) => stack.includes("wake-wait.ts"))).toHaveLength(heldByWorker);
    // An object with nothing due has no alarm: no queue (nothing delayed, no transaction), no producer group.
    expect(views.filter((v) => (v.namespace === "QUEUE" || v.namespace === "PRODUCER_GROUP") && v.alarm !== null)).toEqual([]);

    // Every object leaves memory, its parked sockets hibernated: nothing in progress held any
    // of them. A send then wakes the parked consumers of both groups through the new instances.
    for (const v of views) await evictDurableObject(env[v.namespace].get(env[v.namespace].idFromString(v.name)));
    const producer = new Producer({ ...client, group: unique("pg") });
    await producer.start();
    stops.push(() => producer.shutdown());
    const sentAt = Date.now();
    await producer.send({ topic, body: "after idle" });
    const litePolled = lite.poll(10_000);
    await vi.waitFor(() => expect(received.has("push:after idle")).toBe(true), { timeout: 10_000, interval: 20 });
    expect((await litePolled).map(bodyText)).toEqual(["after idle"]);
    // Woken, not answered by a poll's end: the pulls hold 30 s.
    const latencyMs = received.get("push:after idle")! - sentAt;
    console.log(`send to parked PushConsumer after eviction: ${latencyMs} ms`);
    expect(latencyMs).toBeLessThan(5000);
  });
});
