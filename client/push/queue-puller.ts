/**
 * The pull loop of each queue a push consumer reads (RocketMQ's PullMessageService): long-polls
 * the broker from the queue's next offset, hands what it finds to the consume service, and
 * holds back while the queue has too many unprocessed messages (flow control). A pull the
 * broker refuses because the group moved the queue ends the loop (the rebalance fence).
 */
import type { MemberFence } from "../../protocol/consumer.js";
import { isMQError } from "../../protocol/errors.js";
import type { MessageExt } from "../message.js";
import { pullMessages } from "../pull-api.js";
import { sleep } from "../timing.js";
import type { Transport } from "../transport.js";
import type { QueueChannels } from "../queue-channels.js";
import type { QueueTask } from "./queue-task.js";

export interface QueuePullerOptions {
  /** Told of a pull that failed (the loop waits pullRetryDelayMs and pulls again). */
  onError?: (error: unknown, where: string) => void;
  transport: Transport;
  group: string;
  /** Messages per pull. */
  pullBatchSize: number;
  /** Pulling of a queue pauses while this many of its messages are unprocessed. */
  pullThresholdForQueue: number;
  /** Broker long-poll hold per pull. */
  pollMaxWaitMs: number;
  /** Pause after a failed pull. */
  pullRetryDelayMs: number;
  /** Where a queue with no position yet starts. */
  startOffset: (task: QueueTask) => Promise<number>;
  /** Commits the queue's offset (after OFFSET_ILLEGAL moved the position). */
  commit: (task: QueueTask) => Promise<void>;
  /** The member fence pulls carry (CLUSTERING), or undefined. */
  fence: () => MemberFence | undefined;
  /** Hands pulled messages to the consume service; waiting here holds back the next pull. */
  consume: (task: QueueTask, messages: MessageExt[]) => Promise<void>;
  /** The broker refused the pull: the group moved this queue to another member. */
  onNotOwner: (task: QueueTask) => void;
  /** Pull channels to the queues' masters (pullChannels), or undefined to pull over HTTP only. */
  channels?: QueueChannels | undefined;
}

/** Pause between checks while a queue is over its unprocessed-message threshold. */
const FLOW_CONTROL_PAUSE_MS = 50;

export class QueuePuller {
  constructor(private readonly o: QueuePullerOptions) {}

  /** Pulls `task`'s queue until its signal aborts or the broker refuses it; never rejects. */
  run(task: QueueTask): Promise<void> {
    // A queue let go keeps no channel open: its object may hold another member's soon.
    return this.loop(task)
      .catch(() => undefined)
      .finally(() => this.o.channels?.release(task.mq));
  }

  private async loop(task: QueueTask): Promise<void> {
    const signal = task.abort.signal;
    while (!signal.aborted) {
      try {
        if (task.nextOffset < 0) task.nextOffset = await this.o.startOffset(task);
        if (task.pq.count >= this.o.pullThresholdForQueue) {
          await sleep(FLOW_CONTROL_PAUSE_MS, signal);
          continue;
        }
        const fence = this.o.fence();
        const result = await pullMessages(this.o.transport, task.mq, {
          offset: task.nextOffset,
          maxNums: this.o.pullBatchSize,
          expression: task.subscription.expression,
          expressionType: task.subscription.expressionType,
          maxWaitMs: this.o.pollMaxWaitMs,
          signal,
          channels: this.o.channels,
          ...(fence ? { group: this.o.group, fence } : {}),
        });
        if (signal.aborted) break;
        task.nextOffset = result.nextBeginOffset;
        if (result.pullStatus === "FOUND") {
          const messages = result.msgFoundList.map(forListener);
          task.pq.add(messages);
          await this.o.consume(task, messages);
        } else if (result.pullStatus === "OFFSET_ILLEGAL") {
          await this.o.commit(task);
        }
      } catch (e) {
        if (signal.aborted) break;
        if (isMQError(e) && e.code === "NOT_QUEUE_OWNER") {
          this.o.onNotOwner(task);
          return;
        }
        this.o.onError?.(e, `pull ${task.mq.brokerName}/${task.mq.topic}/${task.mq.queueId}`);
        await sleep(this.o.pullRetryDelayMs, signal);
      }
    }
  }
}

/** The listener sees a retried message under its original topic, as RocketMQ restores it. */
function forListener(m: MessageExt): MessageExt {
  const original = m.properties.RETRY_TOPIC;
  return original && m.topic.startsWith("%RETRY%") ? { ...m, topic: original } : m;
}
