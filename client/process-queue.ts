/**
 * Messages of one queue pulled but not yet consumed, as RocketMQ's ProcessQueue. The offset
 * safe to commit is the smallest still in flight, or one past the highest pulled when none
 * is: a crash redelivers only what was not finished.
 */
import type { MessageExt } from "./message.js";

export class ProcessQueue {
  private readonly inFlight = new Map<number, MessageExt>();
  private maxPulled = -1;
  dropped = false;

  get count(): number {
    return this.inFlight.size;
  }

  add(messages: readonly MessageExt[]): void {
    for (const m of messages) {
      this.inFlight.set(m.queueOffset, m);
      this.maxPulled = Math.max(this.maxPulled, m.queueOffset);
    }
  }

  remove(messages: readonly MessageExt[]): void {
    for (const m of messages) this.inFlight.delete(m.queueOffset);
  }

  /** Messages in offset order, for orderly consumption. */
  head(n: number): MessageExt[] {
    return [...this.inFlight.values()].sort((a, b) => a.queueOffset - b.queueOffset).slice(0, n);
  }

  /** The offset to commit given that everything before `pulledUpTo` was pulled. */
  commitOffset(pulledUpTo: number): number {
    let min = Number.POSITIVE_INFINITY;
    for (const offset of this.inFlight.keys()) if (offset < min) min = offset;
    return min === Number.POSITIVE_INFINITY ? pulledUpTo : min;
  }
}
