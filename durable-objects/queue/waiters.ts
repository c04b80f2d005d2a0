/**
 * Parked long-poll pulls of one queue. Each waiter carries its own timer, so a waiter whose
 * caller went away is released when its time is up; an append wakes every waiter at once.
 * No polling loop: the object sleeps until an append or a timer fires.
 */
import { Limits } from "../../protocol/limits.js";
import { toRpcError } from "../../protocol/errors.js";

interface Waiter {
  resolve: (woken: boolean) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class Waiters {
  private readonly waiting = new Set<Waiter>();

  constructor(private readonly max: number = Limits.maxWaitersPerQueue) {}

  get size(): number {
    return this.waiting.size;
  }

  /** Resolves true when woken by an append, false when `timeoutMs` passed first. */
  wait(timeoutMs: number): Promise<boolean> {
    if (this.waiting.size >= this.max) {
      throw toRpcError("TOO_MANY_WAITERS", `this queue already holds ${this.max} parked pulls; retry later`);
    }
    return new Promise<boolean>((resolve) => {
      const waiter: Waiter = {
        resolve,
        timer: setTimeout(() => {
          this.waiting.delete(waiter);
          resolve(false);
        }, timeoutMs),
      };
      this.waiting.add(waiter);
    });
  }

  wakeAll(): void {
    for (const waiter of this.waiting) {
      clearTimeout(waiter.timer);
      waiter.resolve(true);
    }
    this.waiting.clear();
  }
}
