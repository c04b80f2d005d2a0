/**
 * The send path: plain and batch appends, delayed messages (levels and absolute times) and
 * transaction half messages, each turned into the SendResult RocketMQ users know.
 */
import { MQError } from "../../protocol/errors.js";
import { delayForLevel } from "../../protocol/delay-levels.js";
import type { MessageQueue, SendResult, StoredMessage } from "../../protocol/message.js";
import { encodeOffsetMsgId } from "../../protocol/offset-msg-id.js";
import type { SendRequest } from "../../protocol/schemas.js";
import { TransactionProps } from "../../protocol/transaction.js";
import type { QueueDO } from "../../durable-objects/queue.js";
import type { Config } from "../config.js";
import { callQueue } from "./queue-stub.js";

interface SendContext {
  mq: MessageQueue;
  stub: DurableObjectStub<QueueDO>;
  config: Config;
  now: number;
}

export function sendResult(mq: MessageQueue, messages: readonly StoredMessage[], queueOffset: number): SendResult {
  const msgIds = messages.map((m) => m.msgId);
  const offsetMsgIds = queueOffset < 0 ? messages.map(() => "") : messages.map((_, i) => encodeOffsetMsgId({ ...mq, queueOffset: queueOffset + i }));
  return {
    sendStatus: "SEND_OK",
    msgId: msgIds.join(","),
    offsetMsgId: offsetMsgIds.join(","),
    messageQueue: mq,
    queueOffset,
    msgIds,
    offsetMsgIds,
  };
}

/** Stores the request's messages; resolves once they are durable. */
export async function storeMessages(ctx: SendContext, request: SendRequest, messages: StoredMessage[]): Promise<SendResult> {
  if (request.transaction) return prepareHalf(ctx, request.transaction.producerGroup, messages);
  const delayed = request.messages.some((m) => m.delayTimeLevel || m.deliverTimeMs !== undefined);
  if (delayed) {
    if (messages.length > 1) throw new MQError("BATCH_DELAY_NOT_SUPPORTED", "delayed messages cannot be batched");
    return storeDelayed(ctx, request.messages[0]!, messages[0]!);
  }
  const { queueOffset } = await callQueue(() => ctx.stub.append(messages));
  return sendResult(ctx.mq, messages, queueOffset);
}

async function storeDelayed(
  ctx: SendContext,
  input: { delayTimeLevel?: number | undefined; deliverTimeMs?: number | undefined },
  message: StoredMessage,
): Promise<SendResult> {
  let dueAt: number;
  let level = 0;
  // A delay level wins over a delivery time, as in RocketMQ 5.
  if (input.delayTimeLevel) {
    level = Math.min(input.delayTimeLevel, ctx.config.delayLevelsMs.length);
    dueAt = ctx.now + delayForLevel(ctx.config.delayLevelsMs, level);
    message.properties = { ...message.properties, DELAY: String(level) };
  } else {
    dueAt = input.deliverTimeMs!;
    if (dueAt > ctx.now + ctx.config.timerMaxDelayMs)
      throw new MQError("DELIVER_TIME_ILLEGAL", `deliverTimeMs is more than ${ctx.config.timerMaxDelayMs} ms ahead`);
    message.properties = { ...message.properties, TIMER_DELIVER_MS: String(dueAt) };
  }
  const stored = await callQueue(() => ctx.stub.appendDelayed(ctx.mq, message, dueAt, level));
  if (stored) return sendResult(ctx.mq, [message], stored.queueOffset);
  return { ...sendResult(ctx.mq, [message], -1), deliverTimeMs: dueAt };
}

async function prepareHalf(ctx: SendContext, producerGroup: string, messages: StoredMessage[]): Promise<SendResult> {
  if (messages.length !== 1) throw new MQError("MESSAGE_ILLEGAL", "a transaction message is sent on its own, not in a batch");
  const message = messages[0]!;
  const immunityText = message.properties[TransactionProps.CHECK_IMMUNITY_TIME_IN_SECONDS];
  let immunityMs = ctx.config.transactionTimeoutMs;
  if (immunityText !== undefined) {
    if (!/^\d{1,7}$/.test(immunityText))
      throw new MQError("VALIDATION_FAILED", "CHECK_IMMUNITY_TIME_IN_SECONDS must be a whole number of seconds");
    immunityMs = Number(immunityText) * 1000;
  }
  // RocketMQ clears the delay of a transaction message; the half carries TRAN_MSG and PGROUP.
  message.properties = { ...message.properties, [TransactionProps.TRAN_MSG]: "true", [TransactionProps.PGROUP]: producerGroup };
  await callQueue(() => ctx.stub.prepareHalf(ctx.mq, message, producerGroup, ctx.now + immunityMs));
  return { ...sendResult(ctx.mq, [message], -1), transactionId: message.msgId };
}
