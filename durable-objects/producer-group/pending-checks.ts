/**
 * Check-backs waiting for a producer of the group, oldest first, held in memory and bounded
 * both by count and by bytes: a check carries its half message's body (up to 4 MiB, more in
 * base64), so a count alone lets a dozen large ones take the object's memory. Going over a
 * bound drops the oldest; a dropped check is raised again by its queue at the next interval.
 */
import type { TransactionCheck } from "../../protocol/transaction.js";

export interface CheckBudget {
  /** Checks held at most. */
  maxChecks: number;
  /** Bytes of checks held at most (checkBytes); at least one largest check must fit. */
  maxBytes: number;
}

/** Room for ids, names, the queue and numbers of a check beyond its strings counted below. */
const FIXED_BYTES = 512;

/**
 * About the size of a check in memory and as JSON: its base64 body, tags, keys and
 * properties, plus a fixed allowance for the rest. Counts characters, which is bytes for the
 * ASCII that bodies (base64) and names are made of.
 */
export function checkBytes(check: TransactionCheck): number {
  const m = check.message;
  let n = FIXED_BYTES + m.body.length + m.tags.length + m.msgId.length + m.bornHost.length;
  n += check.transactionId.length + check.producerGroup.length + m.topic.length + m.brokerName.length;
  for (const key of m.keys) n += key.length + 3;
  for (const [k, v] of Object.entries(m.properties)) n += k.length + v.length + 6;
  return n;
}

interface Held {
  check: TransactionCheck;
  bytes: number;
}

export class PendingChecks {
  /** Insertion order is age: the first entry is the oldest. */
  private readonly held = new Map<string, Held>();
  private heldBytes = 0;

  constructor(private readonly budget: CheckBudget) {}

  get size(): number {
    return this.held.size;
  }

  get bytes(): number {
    return this.heldBytes;
  }

  /**
   * Queues a check; a newer check of the same transaction replaces an undelivered older one
   * and goes to the back of the line. Returns how many older checks were dropped to make room.
   */
  add(check: TransactionCheck): number {
    this.remove(check.transactionId);
    const bytes = checkBytes(check);
    this.held.set(check.transactionId, { check, bytes });
    this.heldBytes += bytes;
    let dropped = 0;
    while (this.held.size > 1 && (this.held.size > this.budget.maxChecks || this.heldBytes > this.budget.maxBytes)) {
      const oldest = this.held.keys().next().value;
      if (oldest === undefined) break;
      this.remove(oldest);
      dropped++;
    }
    return dropped;
  }

  /** Takes up to `max` checks, oldest first, stopping before `maxBytes` is passed (one at least). */
  take(max: number, maxBytes: number): TransactionCheck[] {
    const out: TransactionCheck[] = [];
    let bytes = 0;
    for (const [id, held] of this.held) {
      if (out.length >= max || (out.length > 0 && bytes + held.bytes > maxBytes)) break;
      out.push(held.check);
      bytes += held.bytes;
      this.remove(id);
    }
    return out;
  }

  private remove(transactionId: string): void {
    const held = this.held.get(transactionId);
    if (!held) return;
    this.held.delete(transactionId);
    this.heldBytes -= held.bytes;
  }
}
