import { describe, expect, it, vi } from "vitest";
import { isMQError } from "../protocol/errors.js";
import type { ConsumeConcurrentlyContext, MessageListener } from "./consume-types.js";
import { bodyText, type MessageExt } from "./message.js";
import { PushConsumer } from "./push-consumer.js";
import { fakeBroker } from "./test-support/fake-broker.js";

const TOPIC = "TopicA";
const GROUP = "G1";

function consumer(fetch: ReturnType<typeof fakeBroker>["fetch"]): PushConsumer {
  const c = new PushConsumer({
    endpoint: "http://127.0.0.1:1",
    credentials: null,
    fetch,
    group: GROUP,
    consumeFromWhere: "CONSUME_FROM_FIRST_OFFSET",
    persistConsumerOffsetIntervalMs: 60_000,
    heartbeatIntervalMs: 60_000,
  });
  c.subscribe(TOPIC);
  return c;
}

describe("PushConsumer listeners", () => {
  it("item 12: a plain async function is a concurrent listener; returning nothing consumes the messages", async () => {
    const broker = fakeBroker(TOPIC, GROUP, ["a", "b", "c"]);
    const c = consumer(broker.fetch);
    const seen: string[] = [];
    const contexts: ConsumeConcurrentlyContext[] = [];
    c.registerMessageListener(async (msgs: MessageExt[], ctx: ConsumeConcurrentlyContext) => {
      for (const m of msgs) seen.push(bodyText(m));
      contexts.push(ctx);
    });
    await c.start();
    // Inside the test timeout, so a failure says what was delivered.
    await vi.waitFor(() => expect(seen, "deliveries").toHaveLength(3), { timeout: 4_000, interval: 5 });
    await c.shutdown();
    expect(seen.sort()).toEqual(["a", "b", "c"]);
    expect(contexts.map((ctx) => ctx.messageQueue)).toEqual([broker.mq, broker.mq, broker.mq]);
    expect(broker.sendBacks).toEqual([]);
    expect(broker.commits.at(-1)).toBe(3);
  });

  it("item 12: a plain function's status counts: RECONSUME_LATER and a throw send the message back", async () => {
    const broker = fakeBroker(TOPIC, GROUP, ["ok", "later", "throw", "success"]);
    const c = consumer(broker.fetch);
    const seen: string[] = [];
    c.registerMessageListener((msgs) => {
      const body = bodyText(msgs[0]!);
      seen.push(body);
      if (body === "later") return "RECONSUME_LATER";
      if (body === "throw") throw new Error("handler failed");
      return body === "success" ? "CONSUME_SUCCESS" : undefined;
    });
    await c.start();
    await vi.waitFor(() => expect(seen, "deliveries").toHaveLength(4), { timeout: 4_000, interval: 5 });
    await c.shutdown();
    expect(broker.sendBacks.map((s) => s.queueOffset).sort()).toEqual([1, 2]);
    expect(broker.commits.at(-1)).toBe(4);
  });

  it("item 12: registerMessageListener refuses what is not a listener, at once", () => {
    const c = consumer(fakeBroker(TOPIC, GROUP, []).fetch);
    for (const bad of [undefined, null, 7, "CONSUME_SUCCESS", {}, { consumeMessage: "x" }]) {
      let error: unknown;
      try {
        c.registerMessageListener(bad as unknown as MessageListener);
      } catch (e) {
        error = e;
      }
      expect(isMQError(error) && error.code).toBe("BAD_REQUEST");
    }
  });
});

describe("PushConsumer.messages()", () => {
  it("item 14: a throw inside for await sends the message back for redelivery, as a throwing listener does", async () => {
    const broker = fakeBroker(TOPIC, GROUP, ["a", "b"]);
    const c = consumer(broker.fetch);
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const m of c.messages()) {
          seen.push(bodyText(m));
          if (bodyText(m) === "b") throw new Error("handler failed");
        }
      })(),
    ).rejects.toThrow("handler failed");
    expect(seen).toEqual(["a", "b"]);
    // "a" finished and is consumed; "b" goes to the retry topic on the ladder (delay level 0).
    expect(broker.sendBacks).toEqual([{ queueOffset: 1, delayLevel: 0 }]);
    expect(broker.commits.at(-1)).toBe(2);
  });

  it("aborting the signal in the body stops after the message in hand, which counts as consumed (item 14's way to stop)", async () => {
    const broker = fakeBroker(TOPIC, GROUP, ["a", "b", "c"]);
    const c = consumer(broker.fetch);
    const stop = new AbortController();
    const seen: string[] = [];
    for await (const m of c.messages(stop.signal)) {
      seen.push(bodyText(m));
      if (bodyText(m) === "b") stop.abort();
    }
    expect(seen).toEqual(["a", "b"]);
    // "c" may have reached the consumer before it stopped: then it was given back unseen.
    const back = broker.sendBacks.map((s) => s.queueOffset);
    expect(back).toEqual(back.includes(2) ? [2] : []);
    expect(broker.commits.at(-1)).toBe(back.includes(2) ? 3 : 2);
  });
});
