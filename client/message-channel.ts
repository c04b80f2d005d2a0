/**
 * The async-iterator form of a push consumer: listener calls hand messages to one loop, one at
 * a time. A message counts as consumed when the loop body finishes and the loop asks for the
 * next one. Leaving the loop any other way (a throw, `break` or `return`) gives back the message
 * in hand, as a throwing listener does: JavaScript tells the iterator the same thing in all
 * three cases, and a message whose handling may have failed must not count as consumed.
 * Messages still waiting when the loop ends are given back too. To stop after a message that
 * was handled, close() the channel (the consumer's abort signal does): the body finishes, the
 * loop asks for the next message, that one counts as consumed and the loop ends.
 */
import type { MessageExt } from "./message.js";

interface Pending {
  message: MessageExt;
  settle: (consumed: boolean) => void;
}

export class MessageChannel implements AsyncIterableIterator<MessageExt> {
  private readonly queue: Pending[] = [];
  private current: Pending | undefined;
  private waiter: ((p: Pending | undefined) => void) | undefined;
  private closed = false;

  /** Called by the listener: resolves true once the loop consumed the message, false if given back. */
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

  /** The loop asks for the next message: the one it held is consumed. */
  async next(): Promise<IteratorResult<MessageExt>> {
    this.current?.settle(true);
    this.current = undefined;
    if (this.closed) return { done: true, value: undefined };
    const next = this.queue.shift() ?? (await new Promise<Pending | undefined>((resolve) => (this.waiter = resolve)));
    if (!next) return { done: true, value: undefined };
    this.current = next;
    return { done: false, value: next.message };
  }

  /** The loop left early (throw, break, return): the message in hand was not consumed. */
  async return(): Promise<IteratorResult<MessageExt>> {
    this.current?.settle(false);
    this.current = undefined;
    this.close();
    return { done: true, value: undefined };
  }

  /**
   * No more messages: waiting ones are given back and a waiting next() ends the loop. The
   * message in hand is settled by what the loop does next (next() or return()).
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const p of this.queue.splice(0)) p.settle(false);
    this.waiter?.(undefined);
    this.waiter = undefined;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
