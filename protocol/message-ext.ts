/** Builds the wire form of a stored message: what pulls, lookups and checks return. */
import { bytesToBase64 } from "./base64.js";
import type { MessageExtWire, MessageQueue, StoredMessage } from "./message.js";
import { encodeOffsetMsgId } from "./offset-msg-id.js";

export interface PositionedMessage {
  /** -1 for a message not in the commit log yet (a half message). */
  queueOffset: number;
  storeTimestamp: number;
  message: StoredMessage;
}

export function toMessageExt(mq: MessageQueue, entry: PositionedMessage): MessageExtWire {
  const m = entry.message;
  return {
    topic: mq.topic,
    brokerName: mq.brokerName,
    queueId: mq.queueId,
    queueOffset: entry.queueOffset,
    msgId: m.msgId,
    offsetMsgId: entry.queueOffset >= 0 ? encodeOffsetMsgId({ ...mq, queueOffset: entry.queueOffset }) : "",
    tags: m.tags,
    keys: m.keys,
    properties: m.properties,
    bornTimestamp: m.bornTimestamp,
    bornHost: m.bornHost,
    storeTimestamp: entry.storeTimestamp,
    reconsumeTimes: m.reconsumeTimes,
    flag: m.flag,
    body: bytesToBase64(m.body),
  };
}
