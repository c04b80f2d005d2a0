/**
 * Two small concurrency tools for the producer: a semaphore that bounds outstanding async
 * sends (callers wait for a slot, nothing is dropped), and per-key serial chains so ordered
 * sends issued without awaiting each other still reach the broker in issue order.
 */
export class Semaphore {
  private available: number;
  private readonly waiting: (() => void)[] = [];
  /** Highest number of slots held at once, for tests and metrics. */
  peak = 0;

  constructor(readonly size: number) {
    this.available = size;
  }

  get inUse(): number {
    return this.size - this.available;
  }

  async acquire(): Promise<void> {
    if (this.available > 0) {
      this.available--;
    } else {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.peak = Math.max(this.peak, this.inUse);
  }

  release(): void {
    const next = this.waiting.shift();
    // Hand the slot straight to the next waiter, so the count never overshoots.
    if (next) next();
    else this.available++;
  }
}

export class KeyedSerializer {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs `task` after every earlier task of the same key has settled. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }
}
