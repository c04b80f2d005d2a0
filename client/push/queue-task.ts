/**
 * One queue a push consumer reads (RocketMQ's PullRequest with its ProcessQueue): where its
 * pulling stands, its messages in flight, and the loops and listener calls working on it, so
 * that letting the queue go can stop them and wait for them before committing.
 */
import type { Subscription } from "../../protocol/consumer.js";
import type { MessageQueue } from "../../protocol/message.js";
import { ProcessQueue } from "../process-queue.js";

export class QueueTask {
  readonly pq = new ProcessQueue();
  /** Next offset to pull; -1 until the start offset is known. */
  nextOffset = -1;
  /** Offset last committed, so a commit that would change nothing is skipped. */
  lastCommitted = -1;
  /** Aborted when the queue is let go or the consumer stops: ends the pull loop and orderly pauses. */
  readonly abort = new AbortController();
  /** Settles when the pull loop of this queue ends (it never rejects). */
  pullDone: Promise<void> = Promise.resolve();
  /** True while the orderly loop of this queue runs. */
  orderlyRunning = false;
  /** Settles when the orderly loop of this queue ends. */
  orderlyDone: Promise<void> = Promise.resolve();
  /** Listener calls running for this queue, and who waits for them to finish. */
  private listenerCalls = 0;
  private readonly idle: (() => void)[] = [];

  constructor(
    readonly mq: MessageQueue,
    readonly subscription: Subscription,
  ) {}

  /** Runs one listener call of this queue, counted (from the call on) so `listenersIdle` waits for it. */
  async trackListenerCall(call: () => Promise<void>): Promise<void> {
    this.listenerCalls++;
    try {
      await call();
    } finally {
      if (--this.listenerCalls === 0) for (const wake of this.idle.splice(0)) wake();
    }
  }

  /** Settles once no listener call of this queue is running. */
  async listenersIdle(): Promise<void> {
    while (this.listenerCalls > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
  }
}
