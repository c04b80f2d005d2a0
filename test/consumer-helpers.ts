/** Helpers for consumer end-to-end tests: fast timings, delivery logs, waiting for conditions. */
import { PushConsumer, type MessageExt, type PushConsumerOptions } from "../client/index.js";

/** A short ladder: level 1-2 = 50 ms, the rest 100 ms, so retries take a fraction of a second. */
export const FAST_LEVELS = ["50ms", "50ms", ...Array.from({ length: 16 }, () => "100ms")].join(" ");

/** Consumer timings for tests: fast heartbeats, the shortest session the server allows. */
export const FAST: Partial<PushConsumerOptions> = {
  heartbeatIntervalMs: 500,
  sessionTimeoutMs: 3000,
  persistConsumerOffsetIntervalMs: 200,
  pollMaxWaitMs: 2000,
  pullRetryDelayMs: 200,
};

export interface Delivery {
  consumer: string;
  msgId: string;
  body: string;
  topic: string;
  queue: string;
  queueOffset: number;
  reconsumeTimes: number;
  at: number;
}

export function record(log: Delivery[], consumer: string, m: MessageExt): void {
  log.push({
    consumer,
    msgId: m.msgId,
    body: new TextDecoder().decode(m.body),
    topic: m.topic,
    queue: `${m.brokerName}/${m.queueId}`,
    queueOffset: m.queueOffset,
    reconsumeTimes: m.reconsumeTimes,
    at: Date.now(),
  });
}

export async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until the consumers' assignments cover `queueCount` queues of `topic` with no overlap. */
export async function waitForBalance(consumers: PushConsumer[], topic: string, queueCount: number): Promise<void> {
  await waitFor(`balanced assignment of ${topic}`, () => {
    const owned = consumers.flatMap((c) => c.assignedQueues.filter((q) => q.topic === topic).map((q) => `${q.brokerName}/${q.queueId}`));
    return owned.length === queueCount && new Set(owned).size === queueCount && consumers.every((c) => c.assignedQueues.some((q) => q.topic === topic));
  });
}

/** A fetch that can be cut off, to make a consumer vanish as a crashed process would. */
export function killableFetch(): { fetch: typeof fetch; kill: () => void } {
  let dead = false;
  const controllers = new Set<AbortController>();
  return {
    fetch: async (input, init) => {
      if (dead) throw new TypeError("connection refused");
      const c = new AbortController();
      controllers.add(c);
      const signal = init?.signal ? AbortSignal.any([init.signal, c.signal]) : c.signal;
      try {
        return await fetch(input, { ...init, signal });
      } finally {
        controllers.delete(c);
      }
    },
    kill: () => {
      dead = true;
      for (const c of controllers) c.abort();
    },
  };
}
