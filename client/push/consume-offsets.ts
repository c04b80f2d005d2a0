/**
 * Where a push consumer starts reading a queue and what it commits (RocketMQ's
 * computePullFromWhere and OffsetStore). CLUSTERING offsets live on the broker and their
 * commits carry the member fence; BROADCASTING offsets live in the client's OffsetStore. The
 * committed offset is the smallest still being processed (ProcessQueue.commitOffset).
 */
import type { ConsumeFromWhere, MemberFence, MessageModel } from "../../protocol/consumer.js";
import { isMQError } from "../../protocol/errors.js";
import type { MessageQueue } from "../../protocol/message.js";
import type { OffsetStore } from "../offset-store.js";
import { commitOffset, fetchOffset, queueOffsets, searchOffset } from "../pull-api.js";
import type { Transport } from "../transport.js";
import type { QueueTask } from "./queue-task.js";

export interface ConsumeOffsetsOptions {
  transport: Transport;
  group: string;
  model: MessageModel;
  offsetStore: OffsetStore;
  consumeFromWhere: ConsumeFromWhere;
  /** For CONSUME_FROM_TIMESTAMP: epoch ms. */
  consumeTimestampMs: number;
  /** The member fence commits carry (CLUSTERING), or undefined. */
  fence: () => MemberFence | undefined;
  /** A commit was refused for a rebalance or an offset reset: the member heartbeats to learn why. */
  onFenceRefused: () => void;
}

export class ConsumeOffsets {
  constructor(private readonly o: ConsumeOffsetsOptions) {}

  /** The stored offset of `mq`, or where consumeFromWhere starts a queue that has none. */
  async startOffset(mq: MessageQueue): Promise<number> {
    const { transport } = this.o;
    const stored = this.o.model === "CLUSTERING" ? await fetchOffset(transport, this.o.group, mq) : ((await this.o.offsetStore.read(mq)) ?? -1);
    if (stored >= 0) return stored;
    const isRetry = mq.topic.startsWith("%RETRY%");
    const { minOffset, maxOffset } = await queueOffsets(transport, mq);
    switch (this.o.consumeFromWhere) {
      case "CONSUME_FROM_FIRST_OFFSET":
        return minOffset;
      case "CONSUME_FROM_TIMESTAMP":
        return isRetry ? maxOffset : searchOffset(transport, mq, this.o.consumeTimestampMs);
      default:
        return isRetry ? minOffset : maxOffset;
    }
  }

  /** Commits every queue's offset; BROADCASTING also persists its store (a failure waits for the next round). */
  async commitAll(tasks: readonly QueueTask[]): Promise<void> {
    await Promise.all(tasks.map((t) => this.commit(t)));
    if (this.o.model === "BROADCASTING") await this.o.offsetStore.persist().catch(() => undefined);
  }

  /** Commits one queue's offset if it moved; a refused or failed commit is left for the next round. */
  async commit(task: QueueTask): Promise<void> {
    if (task.nextOffset < 0) return;
    const offset = task.pq.commitOffset(task.nextOffset);
    if (offset === task.lastCommitted) return;
    if (this.o.model === "BROADCASTING") {
      this.o.offsetStore.update(task.mq, offset);
      task.lastCommitted = offset;
      return;
    }
    try {
      await commitOffset(this.o.transport, this.o.group, task.mq, offset, this.o.fence());
      task.lastCommitted = offset;
    } catch (e) {
      if (isMQError(e) && (e.code === "NOT_QUEUE_OWNER" || e.code === "STALE_OFFSET_RESET")) this.o.onFenceRefused();
    }
  }

  /** Writes the BROADCASTING store through (at shutdown). */
  persist(): Promise<void> {
    return this.o.offsetStore.persist();
  }
}
