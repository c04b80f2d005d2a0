import { describe, expect, it } from "vitest";
import type { ConsumeFromWhere, MemberFence, MessageModel } from "../../protocol/consumer.js";
import type { MessageQueue } from "../../protocol/message.js";
import { MemoryOffsetStore } from "../offset-store.js";
import { mx } from "../test-support/messages.js";
import { Transport, type FetchLike } from "../transport.js";
import { ConsumeOffsets } from "./consume-offsets.js";
import { QueueTask } from "./queue-task.js";

const MQ: MessageQueue = { topic: "T", brokerName: "broker-a", queueId: 0 };
const RETRY: MessageQueue = { topic: "%RETRY%G1", brokerName: "broker-a", queueId: 0 };

interface Broker {
  /** Committed offset per queue path; absent = none (-1). */
  offsets: Map<string, number>;
  commits: { path: string; body: unknown }[];
  /** Answer commits with this error code instead. */
  refuseWith?: string;
}

/** A broker holding offsets 10..50 of every queue, the stored consume offsets, and a timestamp index at 33. */
function setUp(model: MessageModel, consumeFromWhere: ConsumeFromWhere = "CONSUME_FROM_LAST_OFFSET") {
  const broker: Broker = { offsets: new Map(), commits: [] };
  const fetch: FetchLike = async (input, init) => {
    const url = new URL(input);
    const m = /^(\/brokers\/broker-a\/topics\/[^/]+\/queues\/0)(\/.*)$/.exec(url.pathname);
    if (!m) return Response.json({ code: "NOT_FOUND", message: url.pathname }, { status: 404 });
    const [, queue, rest] = m as unknown as [string, string, string];
    if (rest === "/stats") return Response.json({ minOffset: 10, maxOffset: 50 });
    if (rest === "/offsets/search") return Response.json({ offset: Number(url.searchParams.get("timestamp")) === 1234 ? 33 : -1 });
    if (rest === "/groups/G1/offset" && (init.method ?? "GET") === "GET") return Response.json({ offset: broker.offsets.get(queue) ?? -1 });
    if (rest === "/groups/G1/offset" && init.method === "PUT") {
      if (broker.refuseWith) return Response.json({ code: broker.refuseWith, message: "refused" }, { status: 409 });
      broker.commits.push({ path: queue, body: JSON.parse(init.body as string) });
      return Response.json({ ok: true });
    }
    return Response.json({ code: "NOT_FOUND", message: url.pathname }, { status: 404 });
  };
  const store = new MemoryOffsetStore();
  let refusals = 0;
  let fence: MemberFence | undefined;
  const offsets = new ConsumeOffsets({
    transport: new Transport({ endpoint: "http://mq.test", credentials: null, fetch }),
    group: "G1",
    model,
    offsetStore: store,
    consumeFromWhere,
    consumeTimestampMs: 1234,
    fence: () => fence,
    onFenceRefused: () => refusals++,
  });
  return {
    offsets,
    broker,
    store,
    refusals: () => refusals,
    setFence: (f: MemberFence) => (fence = f),
  };
}

const task = (mq = MQ) => new QueueTask(mq, { topic: mq.topic, expressionType: "TAG", expression: "*" });

describe("ConsumeOffsets.startOffset", () => {
  it("CLUSTERING starts from the broker's committed offset when there is one", async () => {
    const s = setUp("CLUSTERING", "CONSUME_FROM_FIRST_OFFSET");
    s.broker.offsets.set("/brokers/broker-a/topics/T/queues/0", 17);
    expect(await s.offsets.startOffset(MQ)).toBe(17);
  });

  it("BROADCASTING starts from its own store, never the broker's", async () => {
    const s = setUp("BROADCASTING", "CONSUME_FROM_FIRST_OFFSET");
    s.broker.offsets.set("/brokers/broker-a/topics/T/queues/0", 17);
    s.store.update(MQ, 21);
    expect(await s.offsets.startOffset(MQ)).toBe(21);
  });

  it("with no stored offset follows consumeFromWhere; a retry queue starts at its oldest (LAST) or newest (TIMESTAMP)", async () => {
    const cases: [ConsumeFromWhere, MessageQueue, number][] = [
      ["CONSUME_FROM_LAST_OFFSET", MQ, 50],
      ["CONSUME_FROM_LAST_OFFSET", RETRY, 10],
      ["CONSUME_FROM_FIRST_OFFSET", MQ, 10],
      ["CONSUME_FROM_FIRST_OFFSET", RETRY, 10],
      ["CONSUME_FROM_TIMESTAMP", MQ, 33],
      ["CONSUME_FROM_TIMESTAMP", RETRY, 50],
    ];
    for (const [where, mq, expected] of cases) {
      for (const model of ["CLUSTERING", "BROADCASTING"] as const) {
        expect([where, mq.topic, model, await setUp(model, where).offsets.startOffset(mq)]).toEqual([where, mq.topic, model, expected]);
      }
    }
  });
});

describe("ConsumeOffsets.commit", () => {
  it("CLUSTERING commits the smallest offset in flight, with the fence, and skips a commit that changes nothing", async () => {
    const s = setUp("CLUSTERING");
    const fence = { clientId: "c1", generation: 3, offsetResetSeq: 0 };
    s.setFence(fence);
    const t = task();
    await s.offsets.commit(t); // no position yet: nothing to commit
    t.nextOffset = 8;
    t.pq.add([mx(5), mx(6), mx(7)]);
    t.pq.remove([mx(5)]);
    await s.offsets.commit(t);
    await s.offsets.commit(t);
    t.pq.remove([mx(6), mx(7)]);
    await s.offsets.commit(t);
    expect(s.broker.commits.map((c) => c.body)).toEqual([
      { offset: 6, fence },
      { offset: 8, fence },
    ]);
    expect(t.lastCommitted).toBe(8);
  });

  it("a commit refused by the fence asks the member to heartbeat, and is tried again next round", async () => {
    for (const code of ["NOT_QUEUE_OWNER", "STALE_OFFSET_RESET"]) {
      const s = setUp("CLUSTERING");
      const t = task();
      t.nextOffset = 4;
      s.broker.refuseWith = code;
      await s.offsets.commit(t);
      expect([code, s.refusals(), t.lastCommitted]).toEqual([code, 1, -1]);
      delete s.broker.refuseWith;
      await s.offsets.commit(t);
      expect(s.broker.commits.map((c) => c.body)).toEqual([{ offset: 4 }]);
    }
  });

  it("another failure is left for the next round without a heartbeat", async () => {
    const s = setUp("CLUSTERING");
    const t = task();
    t.nextOffset = 4;
    s.broker.refuseWith = "SERVICE_UNAVAILABLE";
    await s.offsets.commit(t);
    expect([s.refusals(), t.lastCommitted]).toEqual([0, -1]);
  });

  it("BROADCASTING writes to its store; commitAll persists it", async () => {
    const s = setUp("BROADCASTING");
    let persisted = 0;
    s.store.persist = async () => void persisted++;
    const a = task();
    const b = task({ ...MQ, queueId: 1 });
    a.nextOffset = 3;
    b.nextOffset = 9;
    await s.offsets.commitAll([a, b]);
    expect([await s.store.read(a.mq), await s.store.read(b.mq), persisted]).toEqual([3, 9, 1]);
    expect(s.broker.commits).toEqual([]);
  });
});
