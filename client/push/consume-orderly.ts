/**
 * Orderly consumption (RocketMQ's ConsumeMessageOrderlyService): one loop per queue hands the
 * listener its oldest unprocessed messages, in offset order, one call at a time. SUSPEND (or a
 * throw) pauses the queue and offers the same messages again, each counting one more
 * reconsume; a message past maxReconsumeTimes goes to the dead-letter queue (the retry
 * ladder's decision) and the queue moves on. Only the member that owns the queue reads it:
 * its pulls and commits are fenced, so a queue has one orderly reader across the group.
 */
import { nextRetryStep } from "../../protocol/retry-ladder.js";
import type { Semaphore } from "../concurrency.js";
import type { ConsumeOrderlyContext, ConsumeOrderlyStatus, MessageListener } from "../consume-types.js";
import { sleep } from "../timing.js";
import type { Transport } from "../transport.js";
import type { QueueTask } from "./queue-task.js";
import { sendMessageBack } from "./send-back.js";

export interface ConsumeOrderlyOptions {
  /** Told of a listener that threw (the queue is suspended a moment, as SUSPEND_CURRENT_QUEUE_A_MOMENT). */
  onError?: (error: unknown, where: string) => void;
  transport: Transport;
  group: string;
  /** Messages per listener call. */
  consumeMessageBatchMaxSize: number;
  /** Pause before suspended messages are offered again, unless the listener changes it in its context. */
  suspendCurrentQueueTimeMillis: number;
  /** Reconsumes before the dead-letter queue; orderly's default is unlimited (ORDERLY_MAX_RECONSUME_TIMES). */
  maxReconsumeTimes: number;
  /** The listener-call slots shared by every queue (consumeThreadMax). */
  slots: Semaphore;
  listener: () => MessageListener | undefined;
  isRunning: () => boolean;
}

/** RocketMQ: an orderly consumer with maxReconsumeTimes -1 retries without limit (Integer.MAX_VALUE). */
export const ORDERLY_MAX_RECONSUME_TIMES = Number.MAX_SAFE_INTEGER;

/** Bounds of the suspend pause, whatever the listener asks for (RocketMQ: 10 ms .. 30 s). */
const MIN_SUSPEND_MS = 10;
const MAX_SUSPEND_MS = 30_000;

export function clampSuspendMs(ms: number): number {
  return Math.min(MAX_SUSPEND_MS, Math.max(MIN_SUSPEND_MS, ms));
}

export class ConsumeOrderly {
  constructor(private readonly o: ConsumeOrderlyOptions) {}

  /** New messages for `task`'s queue: starts its orderly loop unless it is running. */
  dispatch(task: QueueTask): void {
    if (!task.orderlyRunning) task.orderlyDone = this.consume(task);
  }

  private async consume(task: QueueTask): Promise<void> {
    const listener = this.o.listener();
    if (!listener?.orderly) return;
    task.orderlyRunning = true;
    /** Failed attempts so far per offset, added to the reconsumeTimes the broker delivered. */
    const localRetries = new Map<number, number>();
    const max = this.o.maxReconsumeTimes;
    try {
      while (!task.pq.dropped && !task.abort.signal.aborted && this.o.isRunning() && task.pq.count > 0) {
        const batch = task.pq.head(this.o.consumeMessageBatchMaxSize).map((m) => ({
          ...m,
          reconsumeTimes: m.reconsumeTimes + (localRetries.get(m.queueOffset) ?? 0),
        }));
        const context: ConsumeOrderlyContext = { messageQueue: task.mq, suspendCurrentQueueTimeMillis: this.o.suspendCurrentQueueTimeMillis };
        let status: ConsumeOrderlyStatus;
        await this.o.slots.acquire();
        try {
          status = (await listener.consumeMessage(batch, context)) ?? "SUSPEND_CURRENT_QUEUE_A_MOMENT";
        } catch (e) {
          this.o.onError?.(e, "listener");
          status = "SUSPEND_CURRENT_QUEUE_A_MOMENT";
        } finally {
          this.o.slots.release();
        }
        if (task.pq.dropped) break;
        if (status === "SUCCESS") {
          task.pq.remove(batch);
          continue;
        }
        const exhausted = batch.filter((m) => nextRetryStep({ reconsumeTimes: m.reconsumeTimes, maxReconsumeTimes: max }).destination === "DLQ");
        for (const m of exhausted) {
          // Past maxReconsumeTimes the message goes to the dead-letter queue and the queue moves on;
          // if the broker cannot take it now, it stays and is offered again after the pause.
          if (await sendMessageBack(this.o.transport, this.o.group, task.mq, m, -1, max)) task.pq.remove([m]);
        }
        for (const m of batch) localRetries.set(m.queueOffset, (localRetries.get(m.queueOffset) ?? 0) + 1);
        await sleep(clampSuspendMs(context.suspendCurrentQueueTimeMillis), task.abort.signal);
      }
    } finally {
      task.orderlyRunning = false;
    }
  }
}
