/**
 * Delivery of delayed messages (RocketMQ's ScheduleMessageService): a delayed message is held
 * invisible in delayed-store.ts until due, then the alarm moves it into the commit log, where
 * it gets its queue offset, as in RocketMQ. One alarm run moves a bounded batch into one log
 * row, as a group commit does; more due work re-arms the alarm at once.
 */
import type { StoredMessage } from "../../protocol/message.js";
import type { CommitLog } from "./commit-log.js";
import type { DelayedStore } from "./delayed-store.js";
import { GROUP_COMMIT_MAX_BYTES } from "./group-commit.js";

/** Delayed messages one alarm run moves at most. */
const MAX_DELAYED_PER_RUN = 1000;
/** Stored bytes of the delayed messages one alarm run moves into one log row, as a group commit. */
const MAX_DELAYED_BYTES_PER_RUN = GROUP_COMMIT_MAX_BYTES;

export interface DelayedDeliveryDeps {
  delayed: DelayedStore;
  log: CommitLog;
  storage: Pick<DurableObjectStorage, "sync" | "transactionSync">;
  /** Points the alarm at the earliest due work (a held message's due time included). */
  armAlarm(): Promise<void>;
  /** After due messages became durable in the log: wakes parked pulls, makes a push due. */
  delivered(now: number): void;
}

export class DelayedDelivery {
  constructor(private readonly deps: DelayedDeliveryDeps) {}

  /** Holds `message` until `dueAt`: durable, invisible, and the alarm set for it. */
  async hold(message: StoredMessage, dueAt: number, level: number): Promise<void> {
    this.deps.delayed.add(message, dueAt, level);
    await this.deps.armAlarm();
    await this.deps.storage.sync();
  }

  /** Moves due delayed messages into the log, one bounded row per run. */
  async deliverDue(now: number): Promise<void> {
    const { delayed, log, storage } = this.deps;
    let delivered = 0;
    storage.transactionSync(() => {
      const due = delayed.takeDue(now, MAX_DELAYED_PER_RUN, MAX_DELAYED_BYTES_PER_RUN);
      if (due.length > 0) log.append(due, now);
      delivered = due.length;
    });
    if (delivered === 0) return;
    await storage.sync();
    this.deps.delivered(now);
  }
}
