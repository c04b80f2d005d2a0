/**
 * Concurrent consumption (RocketMQ's ConsumeMessageConcurrentlyService): pulled messages go to
 * the listener in batches of consumeMessageBatchMaxSize, up to consumeThreadMax calls at once
 * across all queues. The status and ackIndex split each batch into consumed and failed; in
 * CLUSTERING a failed message is sent back for the retry topic (or consumed again here after
 * 5 s when the send-back fails, as RocketMQ does), in BROADCASTING it is dropped.
 */
import type { MessageModel } from "../../protocol/consumer.js";
import type { Semaphore } from "../concurrency.js";
import type { ConsumeConcurrentlyContext, ConsumeConcurrentlyStatus, MessageListener } from "../consume-types.js";
import type { MessageExt } from "../message.js";
import type { Transport } from "../transport.js";
import type { QueueTask } from "./queue-task.js";
import { sendMessageBack } from "./send-back.js";

export interface ConsumeConcurrentlyOptions {
  /** Told of a listener that threw (its messages are consumed again later, as RECONSUME_LATER). */
  onError?: (error: unknown, where: string) => void;
  transport: Transport;
  group: string;
  model: MessageModel;
  /** Messages per listener call. */
  consumeMessageBatchMaxSize: number;
  /** Sent with each send-back: past it the broker dead-letters the message. */
  maxReconsumeTimes: number;
  /** The listener-call slots shared by every queue (consumeThreadMax). */
  slots: Semaphore;
  listener: () => MessageListener | undefined;
  isRunning: () => boolean;
}

/** A send-back that failed: the message is consumed again here after this long (RocketMQ: 5 s). */
const LOCAL_RETRY_DELAY_MS = 5000;

export class ConsumeConcurrently {
  constructor(private readonly o: ConsumeConcurrentlyOptions) {}

  /** Starts listener calls for `messages`; resolves once each has a slot, which holds back the next pull. */
  async dispatch(task: QueueTask, messages: MessageExt[]): Promise<void> {
    const size = this.o.consumeMessageBatchMaxSize;
    for (let i = 0; i < messages.length; i += size) {
      // A queue being let go stops handing out messages; the rest stay uncommitted for the next owner.
      if (task.abort.signal.aborted) return;
      const batch = messages.slice(i, i + size);
      // Waiting for a slot here also holds back the next pull: flow control.
      await this.o.slots.acquire();
      void this.consume(task, batch).finally(() => this.o.slots.release());
    }
  }

  private consume(task: QueueTask, messages: MessageExt[]): Promise<void> {
    return task.trackListenerCall(() => this.run(task, messages));
  }

  private async run(task: QueueTask, messages: MessageExt[]): Promise<void> {
    const listener = this.o.listener();
    if (!listener || listener.orderly) return;
    const context: ConsumeConcurrentlyContext = {
      messageQueue: { ...task.mq, topic: messages[0]?.topic ?? task.mq.topic },
      delayLevelWhenNextConsume: 0,
      ackIndex: Number.MAX_SAFE_INTEGER,
    };
    let status: ConsumeConcurrentlyStatus;
    try {
      status = (await listener.consumeMessage(messages, context)) ?? "RECONSUME_LATER";
    } catch (e) {
      this.o.onError?.(e, "listener");
      status = "RECONSUME_LATER";
    }
    const ackIndex = status === "CONSUME_SUCCESS" ? Math.min(context.ackIndex, messages.length - 1) : -1;
    const failed = messages.slice(ackIndex + 1);
    const done = messages.slice(0, ackIndex + 1);
    if (this.o.model === "CLUSTERING" && !task.pq.dropped) {
      for (const m of failed) {
        const { transport, group, maxReconsumeTimes } = this.o;
        if (await sendMessageBack(transport, group, task.mq, m, context.delayLevelWhenNextConsume, maxReconsumeTimes)) done.push(m);
        else this.retryLocally(task, m);
      }
    } else {
      done.push(...failed); // BROADCASTING: a failed message is dropped, as in RocketMQ
    }
    task.pq.remove(done);
  }

  /** A send-back that failed: consume the message again here, one redelivery later. */
  private retryLocally(task: QueueTask, m: MessageExt): void {
    setTimeout(() => {
      if (task.pq.dropped || !this.o.isRunning()) return;
      const again = { ...m, reconsumeTimes: m.reconsumeTimes + 1 };
      task.pq.remove([m]);
      task.pq.add([again]);
      void this.o.slots.acquire().then(() => this.consume(task, [again]).finally(() => this.o.slots.release()));
    }, LOCAL_RETRY_DELAY_MS);
  }
}
