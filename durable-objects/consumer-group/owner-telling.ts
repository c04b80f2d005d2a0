/**
 * Rebalance fencing, the group's half: before a member hears of its queues, each queue object is
 * told its new owner and the generation (QueueDO.setOwner), so a stale member is refused there
 * and a queue is read by at most one member of the group. This keeps the owner each queue was
 * last told (stored once the queue took it), and which queues may name another owner than that
 * (a telling that failed, or one a restart cut short), so the next rebalance tells them again.
 */
import type { Env } from "../../cluster/env.js";
import { queueStub } from "../../cluster/stubs.js";
import { parseQueueKey } from "./assignment.js";
import type { GroupStore } from "./group-store.js";

export class OwnerTelling {
  /** Owner this object last told each queue, keyed by queue. */
  private readonly told = new Map<string, string | null>();
  /**
   * Queues whose object may name another owner than `told` does, to be told again at the next
   * rebalance: one whose setOwner failed (it may have been applied all the same), and after a
   * restart that cut a telling short, every restored owner (an owner is stored only once its
   * queue took it, so the queue may have taken a newer one than was stored).
   */
  readonly untold = new Set<string>();
  /** Rebalances telling queues right now; storage says so while any is, so a restart knows. */
  private telling = 0;

  /** @param group the group's name as the object knows it now */
  constructor(
    private readonly env: Env,
    private readonly store: GroupStore,
    private readonly group: () => string,
  ) {}

  /** After a restart: the owners stored, every one of them untold if the object stopped mid-telling. */
  restore(owners: ReadonlyMap<string, string>, wasTelling: boolean): void {
    for (const [key, cid] of owners) {
      this.told.set(key, cid);
      if (wasTelling) this.untold.add(key);
    }
  }

  /** The owner the queue was last told, undefined if never (or told none since). */
  get(key: string): string | null | undefined {
    return this.told.get(key);
  }

  /** The queues that were told an owner. */
  keys(): IterableIterator<string> {
    return this.told.keys();
  }

  /** Tells each queue its owner; what a queue took is stored, what failed is told again later. */
  async tell(tell: [string, string | null][], generation: number): Promise<void> {
    if (this.telling++ === 0) this.store.saveTelling(true);
    try {
      await Promise.all(
        tell.map(async ([key, cid]) => {
          const q = parseQueueKey(key);
          const stub = queueStub(this.env, q.brokerName, q.topic, q.queueId);
          try {
            await stub.setOwner(this.group(), cid, generation);
          } catch (e) {
            // The queue keeps its old owner (or took the new one and the answer was lost) until the
            // next rebalance tells it again.
            console.warn(`setOwner ${q.topic}/${q.brokerName}/${q.queueId} failed: ${String(e)}`);
            this.untold.add(key);
            return;
          }
          this.untold.delete(key);
          if ((this.told.get(key) ?? null) === cid) return;
          if (cid === null) this.told.delete(key);
          else this.told.set(key, cid);
          this.store.saveOwner(key, cid);
        }),
      );
    } finally {
      if (--this.telling === 0) this.store.saveTelling(false);
    }
  }
}
