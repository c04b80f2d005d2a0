/** Listener contracts: the status constants keep their literal types inside async listeners. */
import { describe, expect, it } from "vitest";
import { ConsumeConcurrentlyStatus, ConsumeOrderlyStatus, concurrently, toMessageListener, type MessageListenerConcurrently } from "./consume-types.js";
import { mx } from "./test-support/messages.js";

const context = { messageQueue: { topic: "T", brokerName: "broker-a", queueId: 0 }, delayLevelWhenNextConsume: 0, ackIndex: 0 };

describe("status constants", () => {
  it("are RocketMQ's names, and an async listener returning one compiles under strict TypeScript", async () => {
    // Returning a bare literal as the only return of an async arrow widens it to `string` and fails
    // to compile against the listener's return type; the constant is the documented way.
    const listener: MessageListenerConcurrently = concurrently(async () => ConsumeConcurrentlyStatus.RECONSUME_LATER);
    expect(await listener.consumeMessage([mx(0)], context)).toBe("RECONSUME_LATER");
    const plain = toMessageListener(async () => ConsumeConcurrentlyStatus.CONSUME_SUCCESS) as MessageListenerConcurrently;
    expect(await plain.consumeMessage([mx(0)], context)).toBe("CONSUME_SUCCESS");
    expect(ConsumeOrderlyStatus).toEqual({ SUCCESS: "SUCCESS", SUSPEND_CURRENT_QUEUE_A_MOMENT: "SUSPEND_CURRENT_QUEUE_A_MOMENT" });
  });
});
