/**
 * The SimpleConsumer (POP) calls of a consumer group, behind both doors that reach them: the
 * HTTP routes (pop-routes.ts) and the Workers RPC entrypoint (workers/rpc/). Each takes an
 * already validated request; the caller has checked the group's right, and hands in how to
 * check the right on a topic, since the topics of an ack are known only once its handles are
 * read. The state lives in the queue objects (durable-objects/queue/pop.ts); here handles are
 * made and read (protocol/receipt-handle.ts) and an ack's handles are grouped per queue
 * (receipt-batch.ts), so each queue gets one call and writes one row.
 */
import type { z } from "zod";
import { isMQError, MQError } from "../../protocol/errors.js";
import type { MessageExtWire, MessageQueue } from "../../protocol/message.js";
import { Limits } from "../../protocol/limits.js";
import { buildFilter } from "../../protocol/message-filter.js";
import { toFramedMessageExt, toMessageExt, type PositionedMessage } from "../../protocol/message-ext.js";
import { encodeFramed } from "../../protocol/framed-messages.js";
import { checkGroupName } from "../../protocol/names.js";
import { decodeReceiptHandle, encodeReceiptHandle, receiptHandlesOf, type PopAckResultWire, type ReceivedMessageWire } from "../../protocol/receipt-handle.js";
import { DEFAULT_MAX_RECONSUME_TIMES } from "../../protocol/retry-ladder.js";
import type { PopReceiveSchema } from "../../protocol/schemas.js";
import type { Env } from "../../cluster/env.js";
import { holdPopReceiveAcross, type PopReceiveRequest, type QueueReceive } from "../../cluster/long-polls.js";
import { callRpc } from "../../cluster/rpc-errors.js";
import { queueStub } from "../../cluster/stubs.js";
import { claimPopGroup } from "./pop-mode.js";
import { moveToDeadLetters } from "./pop-dead-letters.js";
import { ReceiptBatch, queueKey } from "./receipt-batch.js";
import { topicQueues } from "./routes.js";

export type PopReceiveInput = z.infer<typeof PopReceiveSchema>;

/** Refuses (throws) when the caller may not read `topic`. */
export type AuthorizeTopic = (topic: string) => void;

/**
 * Receives up to `maxMessageNum` visible messages of the topic for the group, long-polling
 * up to maxWaitMs. `account` shares parked places fairly between accounts.
 */
export async function popReceive(env: Env, group: string, req: PopReceiveInput, account: string): Promise<ReceivedMessageWire[]> {
  return receivedJson(await receiveAcking(env, group, req, account, undefined)).messages;
}

/** The acks a receive carries: the handles of the batch before, and how to check the right on their topics. */
export interface CarriedAcks {
  receiptHandles: readonly string[];
  authorizeTopic: AuthorizeTopic;
}

/** What a receive got, before it is put on the wire (receivedJson, receivedFramed). */
export interface ReceiveAckingAnswer {
  /** The queues in the order asked, and what those that handed out messages answered. */
  order: readonly MessageQueue[];
  got: readonly QueueReceive[];
  /** Each carried handle's status, in order (absent when the receive carried none). */
  ackResults?: PopAckResultWire["results"];
}

/** Puts a message on the wire, its body as B (base64 text, or its byte length for a framed answer). */
type ToExt<B> = (mq: MessageQueue, entry: PositionedMessage) => Omit<MessageExtWire, "body"> & { body: B };

/** A receive's answer as JSON, bodies in base64. */
export function receivedJson(answer: ReceiveAckingAnswer): { messages: ReceivedMessageWire[]; ackResults?: PopAckResultWire["results"] } {
  return receivedAnswer(answer, toMessageExt);
}

/** A receive's answer framed (protocol/framed-messages.ts): the same JSON, bodies as raw bytes after it. */
export function receivedFramed(answer: ReceiveAckingAnswer): Uint8Array<ArrayBuffer> {
  const bodies = answer.got.flatMap(({ answer: a }) => a.messages.map((m) => m.entry.message.body));
  return encodeFramed(receivedAnswer(answer, toFramedMessageExt), bodies);
}

/** The answer's fields, the messages' bodies as `toExt` puts them. */
function receivedAnswer<B>(answer: ReceiveAckingAnswer, toExt: ToExt<B>) {
  const messages = receivedMessages(answer, toExt);
  return answer.ackResults ? { messages, ackResults: answer.ackResults } : { messages };
}

/**
 * A receive that may carry the acks of the batch before (a receiver acking and asking again in
 * one request). The receive starts at the queue most of the handles name, so that queue's acks
 * and its receive share one object call and one row; the other queues' handles are acked in
 * parallel. A receive carrying acks does not wait: with nothing visible it answers at once, so
 * the acks' outcomes are never held up by a long poll (the client asks again without them).
 * Its refusals (a bad topic, the group's mode, a right) come before anything is acked.
 */
export async function receiveAcking(
  env: Env,
  group: string,
  req: PopReceiveInput,
  account: string,
  acks: CarriedAcks | undefined,
): Promise<ReceiveAckingAnswer> {
  checkGroupName(group);
  buildFilter(req.expressionType, req.expression); // a bad expression is a 400 with its position
  const queues = await topicQueues(env, req.topic);
  const batch = acks ? new ReceiptBatch(acks.receiptHandles) : undefined;
  if (batch) for (const topic of batch.topics()) acks!.authorizeTopic(topic);
  if (queues.length === 0 && !batch) return { order: [], got: [] };
  if (queues.length > 0) await claimPopGroup(env, group, req.topic);
  // A receive carrying acks starts at the queue most of them name (its ack and receive share a
  // call); any other at a random queue, so receivers of one group spread over the queues.
  const start = batch?.busiestOf(queues) ?? Math.floor(Math.random() * queues.length);
  const order = queues.map((_, i) => queues[(start + i) % queues.length]!);
  const { topic: _topic, maxMessageNum, maxWaitMs, ...rest } = req;
  const receiveReq = { ...rest, maxNum: maxMessageNum };
  if (batch) return receiveOnceAcking(env, group, order, receiveReq, batch, account);
  const got = await callRpc(() =>
    holdPopReceiveAcross(
      order.map((mq) => stubOf(env, mq)),
      group,
      receiveReq,
      { maxWaitMs: maxWaitMs ?? Limits.maxReceiveWaitMs, account },
    ),
  );
  await moveDeadLetters(env, group, order, got, req.maxReconsumeTimes);
  return { order, got };
}

/**
 * The receive of a request that carries acks, without waiting. The first queue of `order` acks
 * its handles and hands out in one call; every refusal comes from there or before, while nothing
 * is acked. Then the handles of the other queues are acked, one call each, in parallel with asking
 * the other queues for what is left. Stubs are made as needed: such a receive usually asks only
 * its first queue.
 */
async function receiveOnceAcking(
  env: Env,
  group: string,
  order: readonly MessageQueue[],
  req: PopReceiveRequest,
  batch: ReceiptBatch,
  account: string,
): Promise<ReceiveAckingAnswer> {
  const got: QueueReceive[] = [];
  const first = order[0];
  const firstKey = first ? queueKey(first) : undefined;
  let left = req.maxNum;
  if (first) {
    const firstAcks = batch.perQueue.get(firstKey!);
    const answer = await callRpc(() => stubOf(env, first).popReceive(group, { ...req, ...(firstAcks ? { ack: firstAcks.handles } : {}) }));
    if (answer.ackOutcomes) batch.settle(firstKey!, answer.ackOutcomes);
    if (answer.messages.length > 0 || answer.deadLetters.length > 0) got.push({ index: 0, answer });
    left -= answer.messages.length;
  }
  // Acks may be applied from here on, so a failure must not look like a refusal: a 4xx tells the
  // client that nothing was acked and it would send the acks again.
  const [acked, more] = await Promise.allSettled([
    ackQueues(
      env,
      group,
      batch,
      [...batch.perQueue.keys()].filter((key) => key !== firstKey),
    ),
    left > 0 && order.length > 1
      ? callRpc(() =>
          holdPopReceiveAcross(
            order.slice(1).map((mq) => stubOf(env, mq)),
            group,
            { ...req, maxNum: left },
            { maxWaitMs: 0, account },
          ),
        )
      : [],
  ]);
  if (acked.status === "rejected") throw failedAfterAcks(acked.reason);
  // The other queues only add to the answer: when asking them fails, it carries the first queue's
  // messages, and the next receive (which carries no acks, or asks them first) meets the failure.
  if (more.status === "fulfilled") got.push(...more.value.map(({ index, answer }) => ({ index: index + 1, answer })));
  await moveDeadLetters(env, group, order, got, req.maxReconsumeTimes).catch((e: unknown) => {
    throw failedAfterAcks(e);
  });
  return { order, got, ackResults: batch.results() };
}

/** A failure once acks may have been applied: a 5xx, whose acks the client counts as of unknown outcome. */
function failedAfterAcks(e: unknown): unknown {
  if (isMQError(e) && e.status >= 500) return e;
  return new MQError("INTERNAL_ERROR", `the receive failed after acking: ${e instanceof Error ? e.message : String(e)}`);
}

/** Messages past maxReconsumeTimes the queues claimed go to the group's DLQ before the answer. */
async function moveDeadLetters(
  env: Env,
  group: string,
  order: readonly MessageQueue[],
  got: readonly QueueReceive[],
  maxReconsumeTimes: number | undefined,
): Promise<void> {
  await Promise.all(
    got.map(({ index, answer }) => moveToDeadLetters(env, group, order[index]!, answer.deadLetters, maxReconsumeTimes ?? DEFAULT_MAX_RECONSUME_TIMES)),
  );
}

/** The received messages on the wire, each with its receipt handle, the body as `toExt` puts it. */
function receivedMessages<B>({ order, got }: ReceiveAckingAnswer, toExt: ToExt<B>): (Omit<ReceivedMessageWire, "body"> & { body: B })[] {
  return got.flatMap(({ index, answer }) => {
    const mq = order[index]!;
    const handleOf = receiptHandlesOf(mq);
    // Added to the fresh MessageExt rather than spread into a copy of it: 32 per receive.
    return answer.messages.map((m) =>
      Object.assign(toExt(mq, m.entry), {
        reconsumeTimes: m.reconsumeTimes,
        receiptHandle: handleOf(m.entry.queueOffset, m.nonce, m.invisibleUntil),
        invisibleUntil: m.invisibleUntil,
        firstReceivedAt: m.firstReceivedAt,
      }),
    );
  });
}

function stubOf(env: Env, mq: MessageQueue) {
  return queueStub(env, mq.brokerName, mq.topic, mq.queueId);
}

/**
 * Acks received messages by handle, any number of queues and topics: one call per queue. Every
 * topic the handles name is authorized before anything is acked; a handle that cannot be read is
 * RECEIPT_HANDLE_INVALID and changes nothing.
 */
export async function popAck(env: Env, group: string, receiptHandles: readonly string[], authorizeTopic: AuthorizeTopic): Promise<PopAckResultWire> {
  checkGroupName(group);
  const batch = new ReceiptBatch(receiptHandles);
  for (const topic of batch.topics()) authorizeTopic(topic);
  await ackQueues(env, group, batch, [...batch.perQueue.keys()]);
  return { results: batch.results() };
}

/** Acks the handles of the named queues of `batch`, one call per queue, in parallel. */
async function ackQueues(env: Env, group: string, batch: ReceiptBatch, keys: readonly string[]): Promise<void> {
  await Promise.all(
    keys.map(async (key) => {
      const { mq, handles } = batch.perQueue.get(key)!;
      batch.settle(key, await callRpc(() => stubOf(env, mq).popAck(group, handles)));
    }),
  );
}

/** Keeps a held message invisible for `invisibleDurationMs` from now; answers its new handle. */
export async function popChangeInvisible(
  env: Env,
  group: string,
  receiptHandle: string,
  invisibleDurationMs: number,
  authorizeTopic: AuthorizeTopic,
): Promise<{ receiptHandle: string; invisibleUntil: number }> {
  checkGroupName(group);
  const handle = decodeReceiptHandle(receiptHandle);
  if (!handle) throw new MQError("RECEIPT_HANDLE_INVALID", "not a receipt handle");
  authorizeTopic(handle.topic);
  const stub = queueStub(env, handle.brokerName, handle.topic, handle.queueId);
  const result = await callRpc(() => stub.popChangeInvisible(group, { offset: handle.queueOffset, nonce: handle.nonce }, invisibleDurationMs));
  if (result.outcome !== "OK" || result.nonce === undefined || result.invisibleUntil === undefined) {
    throw new MQError(result.outcome === "OK" ? "INTERNAL_ERROR" : result.outcome, `the receipt handle of offset ${handle.queueOffset} cannot be changed`);
  }
  return {
    receiptHandle: encodeReceiptHandle({ ...handle, nonce: result.nonce, invisibleUntil: result.invisibleUntil }),
    invisibleUntil: result.invisibleUntil,
  };
}
