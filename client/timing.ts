/**
 * The client's two ways to wait, so every loop and bounded wait means the same thing:
 * `sleep` pauses a loop (between pulls, before a retry) and ends early when its signal
 * aborts; `withTimeout` bounds how long a caller waits for work that may hang.
 */
import { MQError } from "../protocol/errors.js";

/**
 * Resolves after `ms`, or as soon as `signal` aborts (at once if it already has). It never
 * rejects: an abort means "stop waiting", and the caller checks its signal afterwards to
 * decide whether to stop or to throw. The timer and the abort listener are removed either way,
 * so a loop that sleeps on one long-lived signal does not pile up listeners on it.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * Settles as `work` does, or rejects with a retriable MQError TIMEOUT if `work` has not
 * settled within `ms`. `work` itself is not cancelled (pass it a signal for that); the timer is
 * cleared as soon as `work` settles. `what` names the work in the error message.
 */
export function withTimeout<T>(work: Promise<T>, ms: number, what = "the operation"): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new MQError("TIMEOUT", `${what} did not finish within ${ms} ms`)), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
