/**
 * The async-iterator form of a push consumer: listener calls hand messages to one loop, one at
 * a time. A message counts as consumed when the loop asks for the next one (or leaves);
 * messages still waiting when the loop ends are released as RECONSUME_LATER.
 */
import type { MessageExt } from "./message.js";

interface Pending {
  message: MessageExt;
  settle: (consumed: boolean) => void;
}

export class MessageChannel {
  private readonly queue: Pending[] = [];
  private current: Pending | undefined;
  private waiter: ((p: Pending | undefined) => void) | undefined;
  private closed = false;

  /** Called by the listener: resolves true once the loop consumed the message. */
  deliver(message: MessageExt): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    return new Promise<boolean>((settle) => {
      const pending = { message, settle };
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = undefined;
        w(pending);
      } else {
        this.queue.push(pending);
      }
    });
  }

  async next(): Promise<IteratorResult<MessageExt>> {
    this.current?.settle(true);
    this.current = undefined;
    if (this.closed) return { done: true, value: undefined };
    const next = this.queue.shift() ?? (await new Promise<Pending | undefined>((resolve) => (this.waiter = resolve)));
    if (!next) return { done: true, value: undefined };
    this.current = next;
    return { done: false, value: next.message };
  }

  /** Ends the loop: the current message counts as consumed, waiting ones are released. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.current?.settle(true);
    this.current = undefined;
    for (const p of this.queue.splice(0)) p.settle(false);
    this.waiter?.(undefined);
    this.waiter = undefined;
  }
}
