import { describe, expect, it } from "vitest";
import type { MessageQueue } from "../../protocol/message.js";
import { configuredShares, illegalConfiguredQueue } from "./configured-queues.js";

const q = (brokerName: string, queueId: number, topic = "T"): MessageQueue => ({ topic, brokerName, queueId });
const route = [q("a", 0), q("a", 1), q("b", 0)];

describe("configured queues (CONFIG strategy)", () => {
  it("item 5: accepts only readable queues of subscribed topics' routes", () => {
    const readable = new Map([["T", route]]);
    expect(illegalConfiguredQueue([q("a", 1), q("b", 0)], readable)).toBeNull();
    expect(illegalConfiguredQueue([q("a", 0), q("c", 0)], readable)).toBe('configured queue T/c/0 is not a readable queue of the route of topic "T"');
    expect(illegalConfiguredQueue([q("b", 1)], readable)).toBe('configured queue T/b/1 is not a readable queue of the route of topic "T"');
    expect(illegalConfiguredQueue([q("a", 0, "U")], readable)).toBe('configured queue U/a/0: the member does not subscribe to topic "U"');
    // A subscribed topic that does not exist has no queue to name.
    expect(illegalConfiguredQueue([q("a", 0, "V")], new Map([["V", []]]))).toBe('configured queue V/a/0 is not a readable queue of the route of topic "V"');
  });

  it("item 5: shares keep each member's order, drop queues the route no longer has, and give a queue to one member", () => {
    expect(configuredShares({ "c-2": [q("b", 0), q("a", 0)], "c-1": [q("a", 1), q("a", 0), q("a", 1), q("z", 9)], "c-3": [] }, route)).toEqual({
      "c-1": [q("a", 1), q("a", 0)],
      "c-2": [q("b", 0)],
      "c-3": [],
    });
    // The route shrank to one queue.
    expect(configuredShares({ "c-1": [q("a", 1), q("b", 0)] }, [q("a", 0), q("a", 1)])).toEqual({ "c-1": [q("a", 1)] });
  });
});
