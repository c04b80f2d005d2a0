/**
 * Send-back from a push consumer (RocketMQ's sendMessageBack): a message the listener failed
 * goes back to the broker, which puts it on `%RETRY%<group>` or `%DLQ%<group>` by the retry
 * ladder (protocol/retry-ladder.ts). The broker reads the body from the queue it was pulled
 * from, so only its position travels.
 */
import type { MessageQueue } from "../../protocol/message.js";
import type { MessageExt } from "../message.js";
import { pathSegment, type Transport } from "../transport.js";

/**
 * Sends `m`, pulled from `from`, back with the listener's delay level (0 = the ladder, below
 * 0 = the DLQ now). True when the broker took it; false on any failure, which the caller
 * answers by keeping the message (RocketMQ consumes it again locally).
 */
export async function sendMessageBack(
  transport: Transport,
  group: string,
  from: MessageQueue,
  m: MessageExt,
  delayLevel: number,
  maxReconsumeTimes: number,
): Promise<boolean> {
  try {
    await transport.request(`/groups/${pathSegment(group)}/sendback`, {
      method: "POST",
      body: { messageQueue: from, queueOffset: m.queueOffset, delayLevel, maxReconsumeTimes },
    });
    return true;
  } catch {
    return false;
  }
}
