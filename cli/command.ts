/** The shape of a CLI command (`<noun> <verb>`) and what it gets to run with. */
import { Admin, Producer, type FetchLike } from "../client/index.js";
import { readQueues } from "../client/routes.js";
import type { Flags, FlagSpecs } from "./args.js";
import type { Output } from "./output.js";
import { Progress } from "./progress.js";

/** Producer group the CLI sends with (`message send`). */
export const CLI_PRODUCER_GROUP = "flaremq_cli";

export interface Context {
  readonly admin: Admin;
  readonly progress: Progress;
  /** Readable queues of a topic (what the client's per-queue fan-outs visit), for progress totals. */
  readQueueCount(topic: string): Promise<number>;
  /** A started producer of the CLI's group; the caller shuts it down. */
  producer(): Promise<Producer>;
}

export interface Verb {
  summary: string;
  flags: FlagSpecs;
  run(ctx: Context, flags: Flags): Promise<Output>;
}

export interface Noun {
  summary: string;
  verbs: Record<string, Verb>;
}

export function createContext(endpointList: string, stderr: { isTTY?: boolean; write(text: string): unknown }): Context {
  // A comma-separated list fails over in order, like RocketMQ's namesrvAddr.
  const endpoint = endpointList
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e.length > 0);
  const progress = new Progress(stderr);
  const fetch: FetchLike = progress.wrap((input, init) => globalThis.fetch(input, init));
  const admin = new Admin({ endpoint, fetch });
  return {
    admin,
    progress,
    readQueueCount: async (topic) => readQueues(topic, await admin.topicRoute(topic)).length,
    producer: async () => {
      const producer = new Producer({ endpoint, group: CLI_PRODUCER_GROUP, fetch });
      await producer.start();
      return producer;
    },
  };
}
