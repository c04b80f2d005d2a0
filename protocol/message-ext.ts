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
  return wireOf(mq, entry, bytesToBase64(entry.message.body));
}

/** The wire form with the body's byte length in place of the body (protocol/framed-messages.ts). */
export type FramedMessageExtWire = Omit<MessageExtWire, "body"> & { body: number };

export function toFramedMessageExt(mq: MessageQueue, entry: PositionedMessage): FramedMessageExtWire {
  return wireOf(mq, entry, entry.message.body.byteLength);
}

function wireOf<B>(mq: MessageQueue, entry: PositionedMessage, body: B): Omit<MessageExtWire, "body"> & { body: B } {
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
    body,
  };
}
