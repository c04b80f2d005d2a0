/**
 * The send path: plain and batch appends, delayed messages (levels and absolute times) and
 * transaction half messages, each turned into the SendResult RocketMQ users know.
 */
import { MQError } from "../../protocol/errors.js";
import { delayForLevel } from "../../protocol/delay-levels.js";
import type { MessageQueue, SendResult, StoredMessage } from "../../protocol/message.js";
import { sendResult } from "../../protocol/send-result.js";
import type { SendRequest } from "../../protocol/schemas.js";
import { TransactionProps } from "../../protocol/transaction.js";
import type { Config } from "../../cluster/config.js";
import { callRpc } from "../../cluster/rpc-errors.js";
import type { QueueStub } from "../../cluster/stubs.js";
import { recordSends } from "../metrics/request-metrics.js";

interface SendContext {
  mq: MessageQueue;
  stub: QueueStub;
  config: Config;
  now: number;
}

/**
 * Every refusal a send can meet before it is stored, so a oneway send (answered 202 before
 * the write) is refused with the same 4xx as a plain one instead of failing silently later.
 */
export function checkSendRequest(config: Config, now: number, request: SendRequest, messages: readonly StoredMessage[]): void {
  if (request.transaction) {
    if (messages.length !== 1) throw new MQError("MESSAGE_ILLEGAL", "a transaction message is sent on its own, not in a batch");
    const immunity = messages[0]!.properties[TransactionProps.CHECK_IMMUNITY_TIME_IN_SECONDS];
    if (immunity !== undefined && !/^\d{1,7}$/.test(immunity))
      throw new MQError("VALIDATION_FAILED", "CHECK_IMMUNITY_TIME_IN_SECONDS must be a whole number of seconds");
    return;
  }
  const delayed = request.messages.filter((m) => m.delayTimeLevel || m.deliverTimeMs !== undefined);
  if (delayed.length > 0 && messages.length > 1) throw new MQError("BATCH_DELAY_NOT_SUPPORTED", "delayed messages cannot be batched");
  const at = delayed[0];
  if (at && !at.delayTimeLevel && at.deliverTimeMs !== undefined && at.deliverTimeMs > now + config.timerMaxDelayMs)
    throw new MQError("DELIVER_TIME_ILLEGAL", `deliverTimeMs is more than ${config.timerMaxDelayMs} ms ahead`);
}

/** Stores the request's messages; resolves once they are durable. Counted for GET /metrics by SendStatus. */
export async function storeMessages(ctx: SendContext, request: SendRequest, messages: StoredMessage[]): Promise<SendResult> {
  const result = await store(ctx, request, messages);
  recordSends(result.sendStatus, messages.length);
  return result;
}

async function store(ctx: SendContext, request: SendRequest, messages: StoredMessage[]): Promise<SendResult> {
  checkSendRequest(ctx.config, ctx.now, request, messages);
  if (request.transaction) return prepareHalf(ctx, request.transaction.producerGroup, messages);
  const delayed = request.messages.some((m) => m.delayTimeLevel || m.deliverTimeMs !== undefined);
  if (delayed) return storeDelayed(ctx, request.messages[0]!, messages[0]!);
  const { queueOffset, sendStatus } = await callRpc(() => ctx.stub.append(messages, { mq: ctx.mq }));
  return sendResult(ctx.mq, messages, queueOffset, sendStatus ?? "SEND_OK");
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
    dueAt = input.deliverTimeMs!; // checked against TIMER_MAX_DELAY_MS by checkSendRequest
    message.properties = { ...message.properties, TIMER_DELIVER_MS: String(dueAt) };
  }
  const stored = await callRpc(() => ctx.stub.appendDelayed(ctx.mq, message, dueAt, level));
  if (stored) return sendResult(ctx.mq, [message], stored.queueOffset, stored.sendStatus ?? "SEND_OK");
  return { ...sendResult(ctx.mq, [message], -1), deliverTimeMs: dueAt };
}

async function prepareHalf(ctx: SendContext, producerGroup: string, messages: StoredMessage[]): Promise<SendResult> {
  const message = messages[0]!; // one message, with a valid immunity: checkSendRequest
  const immunityText = message.properties[TransactionProps.CHECK_IMMUNITY_TIME_IN_SECONDS];
  const immunityMs = immunityText === undefined ? ctx.config.transactionTimeoutMs : Number(immunityText) * 1000;
  // RocketMQ clears the delay of a transaction message; the half carries TRAN_MSG and PGROUP.
  message.properties = { ...message.properties, [TransactionProps.TRAN_MSG]: "true", [TransactionProps.PGROUP]: producerGroup };
  await callRpc(() => ctx.stub.prepareHalf(ctx.mq, message, producerGroup, ctx.now + immunityMs));
  return { ...sendResult(ctx.mq, [message], -1), transactionId: message.msgId };
}
