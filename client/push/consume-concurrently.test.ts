import { afterEach, describe, expect, it, vi } from "vitest";
import type { MessageModel } from "../../protocol/consumer.js";
import type { MessageQueue } from "../../protocol/message.js";
import { Semaphore } from "../concurrency.js";
import type { ConsumeConcurrentlyContext, ConsumeConcurrentlyStatus, MessageListener } from "../consume-types.js";
import type { MessageExt } from "../message.js";
import { mx } from "../test-support/messages.js";
import { sendBackBroker } from "../test-support/send-back-broker.js";
import { ConsumeConcurrently } from "./consume-concurrently.js";
import { QueueTask } from "./queue-task.js";

const MQ: MessageQueue = { topic: "T", brokerName: "broker-a", queueId: 0 };

type Listener = (msgs: MessageExt[], context: ConsumeConcurrentlyContext) => ConsumeConcurrentlyStatus | Promise<ConsumeConcurrentlyStatus>;

/**
 * A service over a broker that records send-backs (failing the first `refuse`), with the
 * listener given; `running` and the queue's messages in flight can be looked at.
 */
function setUp(
  listener: Listener,
  opts: { model?: MessageModel; batch?: number; slots?: number; refuse?: number; onError?: (e: unknown, where: string) => void } = {},
) {
  const { sendBacks, transport } = sendBackBroker(opts.refuse);
  const l: MessageListener = { consumeMessage: listener };
  const slots = new Semaphore(opts.slots ?? 4);
  let running = true;
  const service = new ConsumeConcurrently({
    ...(opts.onError ? { onError: opts.onError } : {}),
    transport,
    group: "G1",
    model: opts.model ?? "CLUSTERING",
    consumeMessageBatchMaxSize: opts.batch ?? 1,
    maxReconsumeTimes: 16,
    slots,
    listener: () => l,
    isRunning: () => running,
  });
  const task = new QueueTask(MQ, { topic: "T", expressionType: "TAG", expression: "*" });
  return { service, task, slots, sendBacks, stop: () => (running = false) };
}

/** Pulled messages, as the puller hands them over: in flight in the queue, then dispatched. */
async function deliver(s: ReturnType<typeof setUp>, messages: MessageExt[]): Promise<void> {
  s.task.pq.add(messages);
  await s.service.dispatch(s.task, messages);
}

afterEach(() => {
  vi.useRealTimers();
});

describe("ConsumeConcurrently", () => {
  it("tells onError of a listener that threw, and treats the batch as RECONSUME_LATER", async () => {
    const errors: string[] = [];
    const s = setUp(
      () => {
        throw new Error("boom");
      },
      { onError: (e, where) => errors.push(`${where}: ${(e as Error).message}`) },
    );
    await deliver(s, [mx(0)]);
    await vi.waitFor(() => expect(s.task.pq.count).toBe(0));
    expect(errors).toEqual(["listener: boom"]);
    expect(s.sendBacks).toHaveLength(1);
  });

  it("calls the listener in batches of consumeMessageBatchMaxSize and removes consumed messages", async () => {
    const batches: number[][] = [];
    const s = setUp((msgs) => (batches.push(msgs.map((m) => m.queueOffset)), "CONSUME_SUCCESS"), { batch: 2 });
    await deliver(s, [mx(0), mx(1), mx(2), mx(3), mx(4)]);
    await vi.waitFor(() => expect(s.task.pq.count).toBe(0));
    expect(batches.sort((a, b) => a[0]! - b[0]!)).toEqual([[0, 1], [2, 3], [4]]);
    expect(s.sendBacks).toEqual([]);
  });

  it("gives the listener the queue under the messages' topic, the ladder's delay level and no ackIndex yet", async () => {
    const contexts: ConsumeConcurrentlyContext[] = [];
    const s = setUp((_msgs, ctx) => (contexts.push({ ...ctx }), "CONSUME_SUCCESS"));
    await deliver(s, [mx(0, { topic: "Orders" })]);
    await vi.waitFor(() => expect(s.task.pq.count).toBe(0));
    expect(contexts).toEqual([{ messageQueue: { ...MQ, topic: "Orders" }, delayLevelWhenNextConsume: 0, ackIndex: Number.MAX_SAFE_INTEGER }]);
  });

  it("with CONSUME_SUCCESS, messages after ackIndex are sent back with the listener's delay level", async () => {
    const s = setUp(
      (_msgs, ctx) => {
        ctx.ackIndex = 0;
        ctx.delayLevelWhenNextConsume = 5;
        return "CONSUME_SUCCESS";
      },
      { batch: 3 },
    );
    await deliver(s, [mx(0), mx(1), mx(2)]);
    await vi.waitFor(() => expect(s.task.pq.count).toBe(0));
    expect(s.sendBacks).toEqual([
      { messageQueue: MQ, queueOffset: 1, delayLevel: 5, maxReconsumeTimes: 16 },
      { messageQueue: MQ, queueOffset: 2, delayLevel: 5, maxReconsumeTimes: 16 },
    ]);
  });

  it("RECONSUME_LATER, a throw or no status send the whole batch back", async () => {
    const answers: (() => ConsumeConcurrentlyStatus)[] = [
      () => "RECONSUME_LATER",
      () => {
        throw new Error("handler failed");
      },
      () => undefined as unknown as ConsumeConcurrentlyStatus,
    ];
    const s = setUp((msgs) => answers[msgs[0]!.queueOffset]!());
    await deliver(s, [mx(0), mx(1), mx(2)]);
    await vi.waitFor(() => expect(s.task.pq.count).toBe(0));
    expect(s.sendBacks.map((b) => b.queueOffset).sort()).toEqual([0, 1, 2]);
  });

  it("BROADCASTING drops a failed message instead of sending it back", async () => {
    const s = setUp(() => "RECONSUME_LATER", { model: "BROADCASTING" });
    await deliver(s, [mx(0)]);
    await vi.waitFor(() => expect(s.task.pq.count).toBe(0));
    expect(s.sendBacks).toEqual([]);
  });

  it("a queue already let go sends nothing back: its messages stay uncommitted for the next owner", async () => {
    let finish!: () => void;
    const s = setUp(() => new Promise<ConsumeConcurrentlyStatus>((r) => (finish = () => r("RECONSUME_LATER"))));
    await deliver(s, [mx(0)]);
    s.task.pq.dropped = true;
    finish();
    await s.task.listenersIdle();
    expect(s.sendBacks).toEqual([]);
  });

  it("stops handing out a queue's messages once it is being let go", async () => {
    const seen: number[] = [];
    const s = setUp((msgs) => (seen.push(msgs[0]!.queueOffset), "CONSUME_SUCCESS"), { slots: 1 });
    await s.slots.acquire(); // the one slot is busy: dispatch waits with the first message
    const dispatched = deliver(s, [mx(0), mx(1)]);
    s.task.abort.abort();
    s.slots.release();
    await dispatched;
    await s.task.listenersIdle();
    expect(seen).toEqual([0]);
    expect(s.task.pq.count).toBe(1);
  });

  it("a send-back that fails consumes the message here again after 5 s, one reconsume later", async () => {
    vi.useFakeTimers();
    const seen: [number, number][] = [];
    const s = setUp(
      (msgs) => {
        const m = msgs[0]!;
        seen.push([m.queueOffset, m.reconsumeTimes]);
        return m.reconsumeTimes === 0 ? "RECONSUME_LATER" : "CONSUME_SUCCESS";
      },
      { refuse: 1 },
    );
    await deliver(s, [mx(0)]);
    await vi.advanceTimersByTimeAsync(4999);
    expect(seen).toEqual([[0, 0]]);
    expect(s.task.pq.count).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(seen).toEqual([
      [0, 0],
      [0, 1],
    ]);
    expect(s.task.pq.count).toBe(0);
    expect(s.sendBacks).toEqual([]);
  });

  it("no local retry once the queue was let go or the consumer stopped", async () => {
    vi.useFakeTimers();
    let calls = 0;
    const s = setUp(() => (calls++, "RECONSUME_LATER"), { refuse: 2 });
    await deliver(s, [mx(0)]);
    await vi.advanceTimersByTimeAsync(0);
    s.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(calls).toBe(1);
  });

  it("counts its listener calls on the queue, so letting it go can wait for them", async () => {
    let finish!: () => void;
    const s = setUp(() => new Promise<ConsumeConcurrentlyStatus>((r) => (finish = () => r("CONSUME_SUCCESS"))));
    await deliver(s, [mx(0)]);
    let idle = false;
    void s.task.listenersIdle().then(() => (idle = true));
    await new Promise((r) => setImmediate(r));
    expect(idle).toBe(false);
    expect(s.slots.inUse).toBe(1);
    finish();
    await vi.waitFor(() => expect(idle).toBe(true));
    expect(s.slots.inUse).toBe(0);
  });
});
