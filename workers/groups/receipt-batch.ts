/**
 * The receipt handles of one ack (or of the acks a receive carries), read and grouped per queue,
 * so that each queue gets one call and writes one row, with each handle's status kept in the
 * order of the request. A handle that cannot be read stays RECEIPT_HANDLE_INVALID and goes to
 * no queue.
 */
import type { MessageQueue } from "../../protocol/message.js";
import { decodeReceiptHandle, type AckStatus, type PopAckResultWire } from "../../protocol/receipt-handle.js";

/** One queue's handles, as its object takes them, and where each stands in the request. */
export interface QueueHandles {
  mq: MessageQueue;
  handles: { offset: number; nonce: number }[];
  at: number[];
}

/** The same key for a queue however it was reached. */
export function queueKey(mq: MessageQueue): string {
  return JSON.stringify([mq.brokerName, mq.topic, mq.queueId]);
}

export class ReceiptBatch {
  /** Each queue the handles name, by queueKey. */
  readonly perQueue = new Map<string, QueueHandles>();
  private readonly statuses: AckStatus[];

  constructor(private readonly receiptHandles: readonly string[]) {
    this.statuses = receiptHandles.map(() => "RECEIPT_HANDLE_INVALID");
    receiptHandles.forEach((text, at) => {
      const handle = decodeReceiptHandle(text);
      if (!handle) return;
      const mq = { brokerName: handle.brokerName, topic: handle.topic, queueId: handle.queueId };
      const key = queueKey(mq);
      const entry = this.perQueue.get(key) ?? { mq, handles: [], at: [] };
      entry.handles.push({ offset: handle.queueOffset, nonce: handle.nonce });
      entry.at.push(at);
      this.perQueue.set(key, entry);
    });
  }

  /** The topics the handles name (each needs the caller's right before anything is acked). */
  topics(): Set<string> {
    return new Set([...this.perQueue.values()].map((q) => q.mq.topic));
  }

  /** Of `queues`, the one most handles name, or undefined when they name none of them. */
  busiestOf(queues: readonly MessageQueue[]): number | undefined {
    let best: number | undefined;
    let most = 0;
    queues.forEach((mq, i) => {
      const count = this.perQueue.get(queueKey(mq))?.handles.length ?? 0;
      if (count > most) [best, most] = [i, count];
    });
    return best;
  }

  /** Records what a queue's object answered for its handles, in the order they were given. */
  settle(key: string, outcomes: readonly AckStatus[]): void {
    this.perQueue.get(key)?.at.forEach((at, i) => (this.statuses[at] = outcomes[i]!));
  }

  results(): PopAckResultWire["results"] {
    return this.receiptHandles.map((receiptHandle, i) => ({ receiptHandle, status: this.statuses[i]! }));
  }
}
