/**
 * Which queue an object is: the (broker, topic, queueId) it learns from its first write, its
 * member of the broker (0: the master's queue; >0: a slave that only takes replication) and
 * the epoch of its log. Kept in the one-row `identity` table, because alarms and check-backs
 * carry no queue name and must still know it after a restart.
 *
 * The epoch is set when a master first stores and renewed by a purge; a slave takes its
 * master's. A new epoch is always later than the one before, so slaves can tell an old log's
 * late pushes from the new log's (see replicator.ts).
 */
import type { MessageQueue } from "../../protocol/message.js";

export class QueueIdentity {
  private queue: MessageQueue | null = null;
  private member = 0;
  private logEpoch = 0;
  /** The epoch before the last purge (memory), so the next one is later. */
  private lastEpoch = 0;

  constructor(
    private readonly sql: SqlStorage,
    private readonly now: () => number = Date.now,
  ) {
    const id = sql
      .exec<{ broker: string; topic: string; queue_id: number; broker_id: number; epoch: number }>(
        "SELECT broker, topic, queue_id, broker_id, epoch FROM identity",
      )
      .toArray()[0];
    if (!id) return;
    this.queue = { brokerName: id.broker, topic: id.topic, queueId: id.queue_id };
    this.member = id.broker_id;
    this.logEpoch = id.epoch;
    // A master stored before epochs existed gets one now.
    if (this.member === 0 && this.logEpoch === 0) {
      this.logEpoch = this.now();
      sql.exec("UPDATE identity SET epoch = ?", this.logEpoch);
    }
  }

  /** The queue, or null until the first write names it. */
  get mq(): MessageQueue | null {
    return this.queue;
  }

  /** 0: this object is its broker's master queue; >0: a slave that only takes replication. */
  get brokerId(): number {
    return this.member;
  }

  get epoch(): number {
    return this.logEpoch;
  }

  /** Stores who this object is on its first write; later calls change nothing. */
  remember(mq: MessageQueue, brokerId = 0, epoch?: number): void {
    if (this.queue) return;
    const e = epoch ?? Math.max(this.now(), this.lastEpoch + 1);
    this.sql.exec(
      "INSERT OR REPLACE INTO identity (id, broker, topic, queue_id, broker_id, epoch) VALUES (0, ?, ?, ?, ?, ?)",
      mq.brokerName,
      mq.topic,
      mq.queueId,
      brokerId,
      e,
    );
    this.queue = { brokerName: mq.brokerName, topic: mq.topic, queueId: mq.queueId };
    this.member = brokerId;
    this.logEpoch = e;
  }

  /**
   * Forgets the identity after a purge emptied the storage. The next epoch is later than this
   * one, so slaves drop what they hold of the old log and refuse late pushes from it.
   */
  forget(): void {
    this.queue = null;
    this.member = 0;
    this.lastEpoch = this.logEpoch;
    this.logEpoch = 0;
  }

  /** How log lines name this queue: topic/broker/queueId, and @brokerId for a slave. */
  name(objectId: string): string {
    const mq = this.queue;
    if (!mq) return `(unnamed queue object ${objectId})`;
    return `${mq.topic}/${mq.brokerName}/${mq.queueId}${this.member === 0 ? "" : `@${this.member}`}`;
  }
}
