/** Promise helpers shared by the client's unit tests: a promise the test settles, and a flush. */

export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

/** A promise with its resolve and reject at hand, for a gate the test opens when it chooses. */
export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Lets every promise callback queued so far run, and those they queue in turn: a macrotask
 * (setTimeout 0) runs only after the microtask queue is empty. For code that only chains
 * promises (no timers, no I/O), what has not happened after a flush will not happen until the
 * test does something; code with timers is driven with vi.useFakeTimers instead.
 */
export function flush(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
