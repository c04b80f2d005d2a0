/** A received message fixture shared by the client's unit tests. */
import type { MessageExt } from "../message.js";

/** A MessageExt at `queueOffset` of broker-a/T/0 whose one-byte body is the offset. */
export function mx(queueOffset: number, extra: Partial<MessageExt> = {}): MessageExt {
  return {
    topic: "T",
    brokerName: "broker-a",
    queueId: 0,
    queueOffset,
    msgId: `ID${queueOffset}`,
    offsetMsgId: `OFF${queueOffset}`,
    tags: "",
    keys: [],
    properties: {},
    bornTimestamp: 1,
    bornHost: "",
    storeTimestamp: 2,
    reconsumeTimes: 0,
    flag: 0,
    body: new Uint8Array([queueOffset & 0xff]),
    ...extra,
  };
}
