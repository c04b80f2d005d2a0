/** The SendResult RocketMQ users know, for messages stored from `queueOffset` on (-1: not in the log yet). */
import type { MessageQueue, SendResult, SendStatus, StoredMessage } from "./message.js";
import { encodeOffsetMsgId } from "./offset-msg-id.js";

export function sendResult(mq: MessageQueue, messages: readonly StoredMessage[], queueOffset: number, sendStatus: SendStatus = "SEND_OK"): SendResult {
  const msgIds = messages.map((m) => m.msgId);
  const offsetMsgIds = queueOffset < 0 ? messages.map(() => "") : messages.map((_, i) => encodeOffsetMsgId({ ...mq, queueOffset: queueOffset + i }));
  return {
    sendStatus,
    msgId: msgIds.join(","),
    offsetMsgId: offsetMsgIds.join(","),
    messageQueue: mq,
    queueOffset,
    msgIds,
    offsetMsgIds,
  };
}
