import { describe, expect, it } from "vitest";
import { mx } from "./test-support/messages.js";
import { MessageChannel } from "./message-channel.js";
import { flush } from "./test-support/promises.js";

/**
 * A promise's state once every pending callback ran: "pending" or its value. The channel only
 * chains promises (no timers), so a flush is the whole wait: a promise still pending after it
 * stays pending until the test calls the channel again.
 */
async function state<T>(p: Promise<T>): Promise<T | "pending"> {
  let result: T | "pending" = "pending";
  void p.then((v) => (result = v));
  await flush();
  return result;
}

describe("MessageChannel", () => {
  it("hands delivered messages to next() in order and acks each when the loop asks for the next", async () => {
    const ch = new MessageChannel();
    const d1 = ch.deliver(mx(1));
    const d2 = ch.deliver(mx(2));
    const d3 = ch.deliver(mx(3));
    const first = await ch.next();
    expect(first).toEqual({ done: false, value: mx(1) });
    // Being handed out is not being consumed.
    expect(await state(d1)).toBe("pending");
    const second = await ch.next();
    expect(second.value).toEqual(mx(2));
    expect(await state(d1)).toBe(true);
    expect(await state(d2)).toBe("pending");
    expect((await ch.next()).value).toEqual(mx(3));
    expect(await state(d2)).toBe(true);
    expect(await state(d3)).toBe("pending");
    // Closing (the abort signal) lets the body finish: asking for the next consumes it and ends the loop.
    ch.close();
    expect(await state(d3)).toBe("pending");
    expect(await ch.next()).toEqual({ done: true, value: undefined });
    expect(await d3).toBe(true);
  });

  it("wakes a waiting next() with the next delivery", async () => {
    const ch = new MessageChannel();
    const waiting = ch.next();
    expect(await state(waiting)).toBe("pending");
    const d1 = ch.deliver(mx(7));
    expect(await waiting).toEqual({ done: false, value: mx(7) });
    expect(await state(d1)).toBe("pending");
    const waitingAgain = ch.next();
    expect(await d1).toBe(true);
    expect(await state(waitingAgain)).toBe("pending");
    ch.close();
    expect(await waitingAgain).toEqual({ done: true, value: undefined });
  });

  it("close() releases waiting deliveries as not consumed and ends the iterator", async () => {
    const ch = new MessageChannel();
    const d1 = ch.deliver(mx(1));
    const d2 = ch.deliver(mx(2));
    const d3 = ch.deliver(mx(3));
    expect((await ch.next()).value).toEqual(mx(1));
    ch.close();
    expect(await d2).toBe(false);
    expect(await d3).toBe(false);
    expect(await ch.next()).toEqual({ done: true, value: undefined });
    expect(await d1).toBe(true);
    expect(await ch.next()).toEqual({ done: true, value: undefined });
    // Closing twice changes nothing.
    ch.close();
    expect(await ch.next()).toEqual({ done: true, value: undefined });
  });

  it("refuses deliveries after close", async () => {
    const ch = new MessageChannel();
    ch.close();
    expect(await ch.deliver(mx(1))).toBe(false);
    expect(await ch.next()).toEqual({ done: true, value: undefined });
  });

  it("item 14: a throw in a for-await body gives the message back, as a throwing listener does", async () => {
    const ch = new MessageChannel();
    const deliveries = [1, 2, 3, 4].map((i) => ch.deliver(mx(i)));
    const seen: number[] = [];
    await expect(
      (async () => {
        for await (const m of ch) {
          seen.push(m.queueOffset);
          if (m.queueOffset === 2) throw new Error("handler failed");
        }
      })(),
    ).rejects.toThrow("handler failed");
    expect(seen).toEqual([1, 2]);
    // 1 finished; 2 failed; 3 and 4 were never handed out.
    expect(await Promise.all(deliveries)).toEqual([true, false, false, false]);
    expect(await ch.deliver(mx(5))).toBe(false);
  });

  it("item 14: break and return give back the message in hand (JavaScript cannot tell them from a throw)", async () => {
    const ch = new MessageChannel();
    const deliveries = [1, 2, 3].map((i) => ch.deliver(mx(i)));
    for await (const m of ch) {
      if (m.queueOffset === 2) break;
    }
    expect(await Promise.all(deliveries)).toEqual([true, false, false]);
    const ch2 = new MessageChannel();
    const d = ch2.deliver(mx(1));
    const first = async (): Promise<number | undefined> => {
      for await (const m of ch2) return m.queueOffset;
      return undefined;
    };
    expect(await first()).toBe(1);
    expect(await d).toBe(false);
  });

  it("item 14: closing in the body (the abort signal) ends the loop with the message in hand consumed", async () => {
    const ch = new MessageChannel();
    const deliveries = [1, 2, 3].map((i) => ch.deliver(mx(i)));
    const seen: number[] = [];
    for await (const m of ch) {
      seen.push(m.queueOffset);
      if (m.queueOffset === 2) ch.close();
    }
    expect(seen).toEqual([1, 2]);
    expect(await Promise.all(deliveries)).toEqual([true, true, false]);
  });
});
