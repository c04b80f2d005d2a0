/**
 * Request ids for logs and error bodies: a random prefix made once per isolate, then a counter.
 * crypto.randomUUID() per request cost tens of microseconds of the isolate's one thread in a
 * profile (a few per cent of a send); an id only has to tell requests apart in the logs, and 64
 * random bits per isolate do that. The prefix is made on the first request, since a Worker may
 * not draw random numbers at startup.
 */
let prefix: string | undefined;
let count = 0;

export function nextRequestId(): string {
  prefix ??= crypto.randomUUID().replaceAll("-", "").slice(0, 16);
  count += 1;
  return `${prefix}-${count.toString(16)}`;
}
