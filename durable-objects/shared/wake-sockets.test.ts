/**
 * The fair cap on parked waiters (wake-sockets.ts), through the real Worker side
 * (cluster/wake-wait.ts) and real WebSocket pairs. The object state is a small stand-in that
 * lists accepted sockets until they close, as the runtime's hibernation API does; the queue's own
 * long-poll tests check the same behaviour against a real object and its 1,000 places.
 */
import { describe, expect, it, vi } from "vitest";
import { waitForWake } from "../../cluster/wake-wait.js";
import { accountToRelease, WakeSockets } from "./wake-sockets.js";

/** Accepted sockets, listed until their close completes. */
function objectState(): Pick<DurableObjectState, "acceptWebSocket" | "getWebSockets"> {
  const sockets = new Set<WebSocket>();
  return {
    acceptWebSocket(ws: WebSocket) {
      ws.accept();
      sockets.add(ws);
      ws.addEventListener("close", (event) => {
        ws.close(event.code === 1005 ? 1000 : event.code);
        sockets.delete(ws);
      });
    },
    getWebSockets: () => [...sockets],
  };
}

describe("WakeSockets", () => {
  function setup(max: number) {
    const sockets = new WakeSockets(objectState(), { max, holder: "this queue", waiters: "parked pulls" });
    /** How each waiter's wait ended, or the refusal it got. */
    const outcome: Record<string, string> = {};
    /** Parks a waiter of `account`; resolves once the object answered its upgrade. */
    const park = async (account: string, label: string, timeoutMs = 60_000): Promise<void> => {
      let answered!: () => void;
      const upgraded = new Promise<void>((resolve) => (answered = resolve));
      const target = {
        fetch: async (url: string, init: RequestInit) => {
          try {
            return sockets.accept(new Request(url, init), () => false);
          } finally {
            answered();
          }
        },
      };
      void waitForWake(target, {}, { timeoutMs, account }).then(
        (reason) => (outcome[label] = reason),
        (e: unknown) => (outcome[label] = (e as Error).message),
      );
      await upgraded;
    };
    return { sockets, outcome, park };
  }

  it("item 7: accounts that fill the cap crowd out only themselves", async () => {
    const { sockets, outcome, park } = setup(4);
    await park("ro-1", "ro-1 a");
    await park("ro-1", "ro-1 b");
    await park("ro-2", "ro-2 a");
    await park("ro-2", "ro-2 b");
    expect(sockets.size).toBe(4);

    // Full, but the consumer's account holds none: it gets in, and the oldest pull of the
    // busiest account ends at once, as a long poll that timed out.
    await park("app", "app a");
    expect(sockets.size).toBe(4);
    await vi.waitFor(() => expect(outcome).toEqual({ "ro-1 a": "released" }));
    // The filling accounts hold their share (or more) now: they are refused, not the consumer.
    await park("ro-2", "ro-2 refused");
    await park("ro-1", "ro-1 refused");
    // Three accounts in four places: nobody takes a second place from an account holding just one more.
    await park("app", "app refused");
    await vi.waitFor(() => expect(Object.keys(outcome).length).toBe(4));
    expect(outcome["ro-2 refused"]).toBe("[TOO_MANY_WAITERS] this queue already holds 4 parked pulls, 2 of them this account's (its share); retry later");
    expect(outcome["ro-1 refused"]).toContain("[TOO_MANY_WAITERS]");
    expect(outcome["app refused"]).toContain("[TOO_MANY_WAITERS]");
    expect(sockets.size).toBe(4);

    // A wake-up reaches everyone left, and the counts start again.
    sockets.wake();
    await vi.waitFor(() => expect(Object.keys(outcome).length).toBe(8));
    expect(outcome).toMatchObject({ "ro-1 a": "released", "ro-1 b": "wake", "ro-2 a": "wake", "ro-2 b": "wake", "app a": "wake" });
    await vi.waitFor(() => expect(sockets.size).toBe(0));
    // One account alone may fill every place; a second one then gets half of them.
    for (let i = 0; i < 4; i++) await park("ro-1", `again ${i}`);
    await park("app", "app b");
    await park("app", "app c");
    await park("app", "app d");
    await vi.waitFor(() => expect(outcome["app d"]).toContain("[TOO_MANY_WAITERS]"));
    expect(sockets.size).toBe(4);
    await vi.waitFor(() => expect([outcome["again 0"], outcome["again 1"]]).toEqual(["released", "released"]));
    expect([outcome["again 2"], outcome["again 3"], outcome["app b"], outcome["app c"]]).toEqual([undefined, undefined, undefined, undefined]);
    sockets.wake();
  });

  it("a timed-out waiter frees its account's place", async () => {
    const { sockets, outcome, park } = setup(2);
    await park("a", "first", 10);
    await park("a", "second");
    await park("a", "refused");
    await vi.waitFor(() => expect(outcome["refused"]).toContain("[TOO_MANY_WAITERS]"));
    await vi.waitFor(() => expect(outcome["first"]).toBe("timeout"));
    await vi.waitFor(() => expect(sockets.size).toBe(1));
    await park("a", "third");
    expect(sockets.size).toBe(2);
    sockets.wake();
    await vi.waitFor(() => expect([outcome["second"], outcome["third"]]).toEqual(["wake", "wake"]));
  });

  it("answers a caller whose view is already stale at once, parking nothing", async () => {
    const sockets = new WakeSockets(objectState(), { max: 4, holder: "this queue", waiters: "parked pulls" });
    const seen: unknown[] = [];
    const target = {
      fetch: async (url: string, init: RequestInit) =>
        sockets.accept(new Request(url, init), (s) => {
          seen.push(s);
          return true;
        }),
    };
    // What was seen travels intact whatever its text (a client id may be any), as does the account.
    const view = { maxOffset: 3, group: "G", fence: { clientId: "客户-1 ü", generation: 2 } };
    expect(await waitForWake(target, view, { timeoutMs: 60_000, account: "ä-1" })).toBe("wake");
    expect(seen).toEqual([view]);
    expect(sockets.size).toBe(0);
  });
});

describe("accountToRelease", () => {
  it("takes from the busiest account only when it holds at least two more", () => {
    const counts = new Map([
      ["ro-1", 3],
      ["ro-2", 1],
    ]);
    expect(accountToRelease(counts, "app")).toBe("ro-1");
    expect(accountToRelease(counts, "ro-2")).toBe("ro-1");
    expect(accountToRelease(counts, "ro-1")).toBeNull();
    expect(
      accountToRelease(
        new Map([
          ["a", 2],
          ["b", 2],
        ]),
        "a",
      ),
    ).toBeNull();
    expect(accountToRelease(new Map([["a", 1]]), "b")).toBeNull();
  });

  it("takes from the first by name among equally busy accounts, whatever order the sockets are listed in", () => {
    const listed = (order: string[]) => new Map(order.map((a) => [a, 500] as const));
    expect(accountToRelease(listed(["ro-2", "ro-1"]), "app")).toBe("ro-1");
    expect(accountToRelease(listed(["ro-1", "ro-2"]), "app")).toBe("ro-1");
    expect(
      accountToRelease(
        new Map([
          ["app", 1],
          ["ro-2", 500],
          ["ro-1", 500],
        ]),
        "app",
      ),
    ).toBe("ro-1");
  });
});
