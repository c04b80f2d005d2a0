/** Helpers for consumer end-to-end tests: fast timings, collecting consumers, delivery logs, balance, pulls seen, crashes. */
import { onTestFinished } from "vitest";
import {
  PushConsumer,
  concurrently,
  type ConsumeConcurrentlyFunction,
  type FetchLike,
  type MessageExt,
  type MessageSelector,
  type PushConsumerOptions,
} from "../client/index.js";
import { waitFor, type TestServer } from "./helpers.js";

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

export interface CollectingConsumerOptions {
  /** The subscription of `topic`; default "*". */
  expression?: string | MessageSelector;
  /** What the listener answers for each call (nothing: CONSUME_SUCCESS); it sees every message first. */
  answer?: ConsumeConcurrentlyFunction;
  /** Consumer options beyond endpoint, credentials and group, over FAST. */
  options?: Partial<PushConsumerOptions>;
}

/**
 * A started push consumer of `group` on `topic` of `server` (FAST timings, signing as the
 * server's credentials) whose listener keeps every message it is given, in the order given, in
 * `seen`, then answers as `answer` says. It is shut down when the test ends, whatever happens.
 */
export async function collectingConsumer(
  server: TestServer,
  group: string,
  topic: string,
  { expression = "*", answer = () => "CONSUME_SUCCESS", options = {} }: CollectingConsumerOptions = {},
): Promise<{ consumer: PushConsumer; seen: MessageExt[] }> {
  const seen: MessageExt[] = [];
  const consumer = new PushConsumer({ endpoint: server.url, credentials: server.credentials, group, ...FAST, ...options });
  consumer.subscribe(topic, expression);
  consumer.registerMessageListener(
    concurrently((msgs, context) => {
      seen.push(...msgs);
      return answer(msgs, context);
    }),
  );
  onTestFinished(() => consumer.shutdown());
  await consumer.start();
  return { consumer, seen };
}

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

/**
 * A fetch that notes the queues of `topic` a consumer has pulled from, as "broker/queueId". A
 * consumer pulls a queue only once it knows where to start in it, so "every queue pulled" is the
 * moment from which a message sent is one it will read.
 */
export function pullWatch(topic: string): { fetch: FetchLike; pulled: Set<string> } {
  const pulled = new Set<string>();
  const pullPath = /\/brokers\/([^/]+)\/topics\/([^/]+)\/queues\/(\d+)\/messages\?/;
  return {
    pulled,
    fetch: (input, init) => {
      const pull = pullPath.exec(input);
      if (pull && (init.method ?? "GET") === "GET" && decodeURIComponent(pull[2]!) === topic) pulled.add(`${decodeURIComponent(pull[1]!)}/${pull[3]}`);
      return fetch(input, init);
    },
  };
}
