/** Helpers shared by the client tests (imported by *.test.ts; not a test itself). */
import { vi } from "vitest";
import { isMQError } from "../../protocol/errors.js";
import { Producer, type ProducerOptions } from "../producer.js";
import type { FetchLike } from "../transport.js";

/** A started producer whose round-robin starts at the first queue (Math.random() = 0). */
export async function startedProducer(fetch: FetchLike, extra: Partial<ProducerOptions> = {}): Promise<Producer> {
  const spy = vi.spyOn(Math, "random").mockReturnValue(0);
  // Fake deployments speak HTTP only: send channels (client/send-channel.ts) have their own tests.
  const producer = new Producer({ endpoint: "http://mq.test", fetch, group: "PG", sendChannels: false, ...extra });
  spy.mockRestore();
  await producer.start();
  return producer;
}

/** The MQError code a call fails with, "NO_ERROR", or NOT_MQERROR:… for anything else. */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return isMQError(e) ? e.code : `NOT_MQERROR:${String(e)}`;
  }
  return "NO_ERROR";
}
