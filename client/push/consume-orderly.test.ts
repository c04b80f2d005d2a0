import { afterEach, describe, expect, it, vi } from "vitest";
import type { MessageQueue } from "../../protocol/message.js";
import { Semaphore } from "../concurrency.js";
import { orderly, type ConsumeOrderlyStatus } from "../consume-types.js";
import type { MessageExt } from "../message.js";
import { mx } from "../test-support/messages.js";
import { sendBackBroker } from "../test-support/send-back-broker.js";
import type { Transport } from "../transport.js";
import { clampSuspendMs, ConsumeOrderly, ORDERLY_MAX_RECONSUME_TIMES, type ConsumeOrderlyOptions } from "./consume-orderly.js";
import { QueueTask } from "./queue-task.js";

const MQ: MessageQueue = { topic: "T", brokerName: "broker-a", queueId: 0 };

function setUp(
  transport: Transport,
  listener: (msgs: MessageExt[]) => ConsumeOrderlyStatus,
  extra: Partial<ConsumeOrderlyOptions> = {},
): { service: ConsumeOrderly; task: QueueTask; slots: Semaphore } {
  const slots = new Semaphore(4);
  const l = orderly((msgs) => listener(msgs));
  const service = new ConsumeOrderly({
    transport,
    group: "G1",
    consumeMessageBatchMaxSize: 1,
    suspendCurrentQueueTimeMillis: 10,
    maxReconsumeTimes: ORDERLY_MAX_RECONSUME_TIMES,
    slots,
    listener: () => l,
    isRunning: () => true,
    ...extra,
  });
  return { service, task: new QueueTask(MQ, { topic: "T", expressionType: "TAG", expression: "*" }), slots };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("ConsumeOrderly", () => {
  it("offers the queue's messages in offset order, one call at a time, and removes each on SUCCESS", async () => {
    const { transport, sendBacks } = sendBackBroker();
    const seen: number[] = [];
    let running = 0;
    let peak = 0;
    const { service, task } = setUp(transport, (msgs) => {
      peak = Math.max(peak, ++running);
      seen.push(...msgs.map((m) => m.queueOffset));
      running--;
      return "SUCCESS";
    });
    task.pq.add([mx(2), mx(0), mx(1)]);
    service.dispatch(task);
    expect(task.orderlyRunning).toBe(true);
    service.dispatch(task); // already running: no second loop
    await task.orderlyDone;
    expect(seen).toEqual([0, 1, 2]);
    expect(peak).toBe(1);
    expect(task.pq.count).toBe(0);
    expect(task.orderlyRunning).toBe(false);
    expect(sendBacks).toEqual([]);
  });

  it("offers a suspended message again with one more reconsumeTimes, then dead-letters it at maxReconsumeTimes and moves on", async () => {
    const { transport, sendBacks } = sendBackBroker();
    const seen: [number, number][] = [];
    const { service, task } = setUp(
      transport,
      (msgs) => {
        const m = msgs[0]!;
        seen.push([m.queueOffset, m.reconsumeTimes]);
        return m.queueOffset === 0 ? "SUSPEND_CURRENT_QUEUE_A_MOMENT" : "SUCCESS";
      },
      { maxReconsumeTimes: 2 },
    );
    task.pq.add([mx(0), mx(1)]);
    service.dispatch(task);
    await task.orderlyDone;
    expect(seen).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
      [1, 0],
    ]);
    expect(sendBacks).toEqual([{ messageQueue: MQ, queueOffset: 0, delayLevel: -1, maxReconsumeTimes: 2 }]);
    expect(task.pq.count).toBe(0);
  });

  it("starts counting from the reconsumeTimes the broker delivered", async () => {
    const { transport, sendBacks } = sendBackBroker();
    const seen: number[] = [];
    const { service, task } = setUp(
      transport,
      (msgs) => {
        seen.push(msgs[0]!.reconsumeTimes);
        return "SUSPEND_CURRENT_QUEUE_A_MOMENT";
      },
      { maxReconsumeTimes: 3 },
    );
    task.pq.add([mx(0, { reconsumeTimes: 2 })]);
    service.dispatch(task);
    await task.orderlyDone;
    expect(seen).toEqual([2, 3]);
    expect(sendBacks.map((s) => s.queueOffset)).toEqual([0]);
  });

  it("keeps a message the broker would not dead-letter, and offers it again after the pause", async () => {
    const { transport, sendBacks } = sendBackBroker(1);
    const seen: number[] = [];
    const { service, task } = setUp(
      transport,
      (msgs) => {
        seen.push(msgs[0]!.reconsumeTimes);
        return "SUSPEND_CURRENT_QUEUE_A_MOMENT";
      },
      { maxReconsumeTimes: 0 },
    );
    task.pq.add([mx(0)]);
    service.dispatch(task);
    await task.orderlyDone;
    // The first dead-letter send-back was refused: the message came back once more.
    expect(seen).toEqual([0, 1]);
    expect(sendBacks).toEqual([{ messageQueue: MQ, queueOffset: 0, delayLevel: -1, maxReconsumeTimes: 0 }]);
    expect(task.pq.count).toBe(0);
  });

  it("a throw or no status suspends the queue, like SUSPEND_CURRENT_QUEUE_A_MOMENT", async () => {
    const { transport } = sendBackBroker();
    const seen: number[] = [];
    const { service, task } = setUp(transport, (msgs) => {
      const m = msgs[0]!;
      seen.push(m.reconsumeTimes);
      if (m.reconsumeTimes === 0) throw new Error("handler failed");
      if (m.reconsumeTimes === 1) return undefined as unknown as ConsumeOrderlyStatus;
      return "SUCCESS";
    });
    task.pq.add([mx(0)]);
    service.dispatch(task);
    await task.orderlyDone;
    expect(seen).toEqual([0, 1, 2]);
  });

  it("an unlimited maxReconsumeTimes never dead-letters", async () => {
    const { transport, sendBacks } = sendBackBroker();
    let calls = 0;
    const { service, task } = setUp(transport, () => (++calls < 20 ? "SUSPEND_CURRENT_QUEUE_A_MOMENT" : "SUCCESS"));
    task.pq.add([mx(0, { reconsumeTimes: 1_000 })]);
    service.dispatch(task);
    await task.orderlyDone;
    expect(calls).toBe(20);
    expect(sendBacks).toEqual([]);
  });

  it("letting the queue go ends the suspend pause at once and stops offering messages", async () => {
    vi.useFakeTimers();
    const { transport } = sendBackBroker();
    let calls = 0;
    const { service, task } = setUp(
      transport,
      () => {
        calls++;
        return "SUSPEND_CURRENT_QUEUE_A_MOMENT";
      },
      { suspendCurrentQueueTimeMillis: 30_000 },
    );
    task.pq.add([mx(0)]);
    service.dispatch(task);
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toBe(1);
    let ended = false;
    void task.orderlyDone.then(() => (ended = true));
    await vi.advanceTimersByTimeAsync(1000);
    expect(ended).toBe(false);
    task.abort.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(ended).toBe(true);
    expect(calls).toBe(1);
    expect(task.pq.count).toBe(1);
  });

  it("the listener may change the pause in its context, within 10 ms .. 30 s", async () => {
    expect([clampSuspendMs(0), clampSuspendMs(10), clampSuspendMs(500), clampSuspendMs(30_000), clampSuspendMs(60_000)]).toEqual([10, 10, 500, 30_000, 30_000]);
    vi.useFakeTimers();
    const { transport } = sendBackBroker();
    let calls = 0;
    const slots = new Semaphore(1);
    const l = orderly((_msgs, context) => {
      calls++;
      context.suspendCurrentQueueTimeMillis = 200;
      return calls < 2 ? "SUSPEND_CURRENT_QUEUE_A_MOMENT" : "SUCCESS";
    });
    const service = new ConsumeOrderly({
      transport,
      group: "G1",
      consumeMessageBatchMaxSize: 1,
      suspendCurrentQueueTimeMillis: 30_000,
      maxReconsumeTimes: ORDERLY_MAX_RECONSUME_TIMES,
      slots,
      listener: () => l,
      isRunning: () => true,
    });
    const task = new QueueTask(MQ, { topic: "T", expressionType: "TAG", expression: "*" });
    task.pq.add([mx(0)]);
    service.dispatch(task);
    await vi.advanceTimersByTimeAsync(199);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toBe(2);
    await task.orderlyDone;
    expect(task.pq.count).toBe(0);
  });

  it("takes one listener-call slot per call and gives it back", async () => {
    const { transport } = sendBackBroker();
    let inUse = -1;
    const { service, task, slots } = setUp(transport, () => {
      inUse = slots.inUse;
      return "SUCCESS";
    });
    task.pq.add([mx(0)]);
    service.dispatch(task);
    await task.orderlyDone;
    expect(inUse).toBe(1);
    expect(slots.inUse).toBe(0);
  });
});
