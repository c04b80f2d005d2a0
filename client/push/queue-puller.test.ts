import { afterEach, describe, expect, it, vi } from "vitest";
import type { MemberFence } from "../../protocol/consumer.js";
import type { MessageExtWire, MessageQueue, PullResultWire } from "../../protocol/message.js";
import type { MessageExt } from "../message.js";
import { mx } from "../test-support/messages.js";
import { Transport, type FetchLike } from "../transport.js";
import { QueuePuller, type QueuePullerOptions } from "./queue-puller.js";
import { QueueTask } from "./queue-task.js";

const MQ: MessageQueue = { topic: "T", brokerName: "broker-a", queueId: 0 };

type PullAnswer = PullResultWire | { status: number; code: string } | "hang";

interface Pull {
  query: Record<string, string>;
}

/** Answers the queue's pulls from `answers` in turn, then holds them (an idle long poll). */
function fakeQueue(answers: PullAnswer[]) {
  const pulls: Pull[] = [];
  const fetch: FetchLike = async (input, init) => {
    const url = new URL(input);
    if (url.pathname !== "/brokers/broker-a/topics/T/queues/0/messages") return Response.json({ code: "NOT_FOUND", message: url.pathname }, { status: 404 });
    pulls.push({ query: Object.fromEntries(url.searchParams) });
    const answer = answers.shift() ?? "hang";
    if (answer === "hang") {
      return new Promise<Response>((_resolve, reject) => {
        const signal = init.signal!;
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
    }
    if ("code" in answer) return Response.json({ code: answer.code, message: answer.code }, { status: answer.status });
    return Response.json(answer);
  };
  return { pulls, transport: new Transport({ endpoint: "http://mq.test", credentials: null, fetch }) };
}

function found(from: number, wire: MessageExtWire[]): PullResultWire {
  return { pullStatus: "FOUND", nextBeginOffset: from + wire.length, minOffset: 0, maxOffset: from + wire.length, messages: wire };
}

function wire(offset: number, extra: Partial<MessageExt> = {}): MessageExtWire {
  return { ...mx(offset, extra), body: btoa("x") };
}

function setUp(transport: Transport, extra: Partial<QueuePullerOptions> = {}) {
  const consumed: MessageExt[][] = [];
  const events: string[] = [];
  const puller = new QueuePuller({
    transport,
    group: "G1",
    pullBatchSize: 32,
    pullThresholdForQueue: 1000,
    pollMaxWaitMs: 15_000,
    pullRetryDelayMs: 3000,
    startOffset: async () => 0,
    commit: async (task) => {
      events.push(`commit@${task.nextOffset}`);
    },
    fence: () => undefined,
    consume: async (_task, messages) => {
      consumed.push(messages);
    },
    onNotOwner: () => events.push("notOwner"),
    ...extra,
  });
  const task = new QueueTask(MQ, { topic: "T", expressionType: "TAG", expression: "TagA || TagB" });
  return { puller, task, consumed, events };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("QueuePuller", () => {
  it("pulls from the start offset, hands found messages to consume and keeps them in flight", async () => {
    const { transport, pulls } = fakeQueue([found(5, [wire(5), wire(6)])]);
    const { puller, task, consumed } = setUp(transport, { startOffset: async () => 5 });
    task.pullDone = puller.run(task);
    await vi.waitFor(() => expect(pulls).toHaveLength(2));
    expect(pulls[0]!.query).toEqual({ offset: "5", maxNums: "32", expression: "TagA || TagB", maxWaitMs: "15000" });
    expect(pulls[1]!.query.offset).toBe("7");
    expect(consumed.map((batch) => batch.map((m) => m.queueOffset))).toEqual([[5, 6]]);
    expect(task.pq.count).toBe(2);
    expect(task.nextOffset).toBe(7);
    task.abort.abort();
    await task.pullDone;
  });

  it("carries the member fence and group when there is one", async () => {
    const { transport, pulls } = fakeQueue([]);
    const fence: MemberFence = { clientId: "c1", generation: 4, offsetResetSeq: 0 };
    const { puller, task } = setUp(transport, { fence: () => fence });
    task.pullDone = puller.run(task);
    await vi.waitFor(() => expect(pulls).toHaveLength(1));
    expect(pulls[0]!.query).toMatchObject({ group: "G1", clientId: "c1", generation: "4" });
    task.abort.abort();
    await task.pullDone;
  });

  it("gives a retried message back its original topic", async () => {
    const retried = wire(0, { topic: "%RETRY%G1", properties: { RETRY_TOPIC: "Orders" } });
    const notRetried = wire(1, { topic: "T", properties: { RETRY_TOPIC: "Orders" } });
    const { transport, pulls } = fakeQueue([found(0, [retried, notRetried])]);
    const { puller, task, consumed } = setUp(transport);
    task.pullDone = puller.run(task);
    await vi.waitFor(() => expect(pulls).toHaveLength(2));
    expect(consumed[0]!.map((m) => m.topic)).toEqual(["Orders", "T"]);
    task.abort.abort();
    await task.pullDone;
  });

  it("commits the moved position after OFFSET_ILLEGAL", async () => {
    const illegal: PullResultWire = { pullStatus: "OFFSET_ILLEGAL", nextBeginOffset: 40, minOffset: 40, maxOffset: 50, messages: [] };
    const { transport, pulls } = fakeQueue([illegal]);
    const { puller, task, events } = setUp(transport);
    task.pullDone = puller.run(task);
    await vi.waitFor(() => expect(pulls).toHaveLength(2));
    expect(events).toEqual(["commit@40"]);
    expect(pulls[1]!.query.offset).toBe("40");
    task.abort.abort();
    await task.pullDone;
  });

  it("ends the loop when the broker says the group moved the queue (NOT_QUEUE_OWNER)", async () => {
    const { transport, pulls } = fakeQueue([{ status: 409, code: "NOT_QUEUE_OWNER" }]);
    const { puller, task, events } = setUp(transport);
    await puller.run(task);
    expect(events).toEqual(["notOwner"]);
    expect(pulls).toHaveLength(1);
  });

  it("pauses pullRetryDelayMs after a failed pull, and stopping ends the pause at once", async () => {
    vi.useFakeTimers();
    const { transport, pulls } = fakeQueue([
      { status: 503, code: "SERVICE_UNAVAILABLE" },
      { status: 503, code: "SERVICE_UNAVAILABLE" },
    ]);
    const { puller, task } = setUp(transport);
    let ended = false;
    void puller.run(task).then(() => (ended = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(pulls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2999);
    expect(pulls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(pulls).toHaveLength(2);
    task.abort.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(ended).toBe(true);
    expect(pulls).toHaveLength(2);
  });

  it("holds back while the queue has pullThresholdForQueue unprocessed messages (flow control)", async () => {
    vi.useFakeTimers();
    const { transport, pulls } = fakeQueue([]);
    const { puller, task } = setUp(transport, { pullThresholdForQueue: 2 });
    task.pq.add([mx(0), mx(1)]);
    task.nextOffset = 2;
    task.pullDone = puller.run(task);
    await vi.advanceTimersByTimeAsync(500);
    expect(pulls).toHaveLength(0);
    task.pq.remove([mx(0)]);
    await vi.advanceTimersByTimeAsync(50);
    expect(pulls).toHaveLength(1);
    expect(pulls[0]!.query.offset).toBe("2");
    task.abort.abort();
    await vi.advanceTimersByTimeAsync(0);
    await task.pullDone;
  });

  it("waits for consume before the next pull: a busy consume service holds the queue back", async () => {
    vi.useFakeTimers();
    const { transport, pulls } = fakeQueue([found(0, [wire(0)]), found(1, [wire(1)])]);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const { puller, task } = setUp(transport, { consume: () => gate });
    task.pullDone = puller.run(task);
    await vi.advanceTimersByTimeAsync(1000);
    expect(pulls).toHaveLength(1);
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(pulls).toHaveLength(3);
    task.abort.abort();
    await vi.advanceTimersByTimeAsync(0);
    await task.pullDone;
  });
});
