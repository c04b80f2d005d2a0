/**
 * The SimpleConsumer (POP) calls of a consumer group, behind both doors that reach them: the
 * HTTP routes (pop-routes.ts) and the Workers RPC entrypoint (workers/rpc/). Each takes an
 * already validated request; the caller has checked the group's right, and hands in how to
 * check the right on a topic, since the topics of an ack are known only once its handles are
 * read. The state lives in the queue objects (durable-objects/queue/pop.ts); here handles are
 * made and read (protocol/receipt-handle.ts) and an ack's handles are grouped per queue, so
 * each queue gets one call and writes one row.
 */
import type { z } from "zod";
import { MQError } from "../../protocol/errors.js";
import { Limits } from "../../protocol/limits.js";
import { buildFilter } from "../../protocol/message-filter.js";
import { toMessageExt } from "../../protocol/message-ext.js";
import { checkGroupName } from "../../protocol/names.js";
import {
  decodeReceiptHandle,
  encodeReceiptHandle,
  type AckStatus,
  type PopAckResultWire,
  type ReceiptHandle,
  type ReceivedMessageWire,
} from "../../protocol/receipt-handle.js";
import { DEFAULT_MAX_RECONSUME_TIMES } from "../../protocol/retry-ladder.js";
import type { PopReceiveSchema } from "../../protocol/schemas.js";
import type { Env } from "../../cluster/env.js";
import { holdPopReceiveAcross } from "../../cluster/long-polls.js";
import { callRpc } from "../../cluster/rpc-errors.js";
import { queueStub } from "../../cluster/stubs.js";
import { claimPopGroup } from "./pop-mode.js";
import { moveToDeadLetters } from "./pop-dead-letters.js";
import { topicQueues } from "./routes.js";

export type PopReceiveInput = z.infer<typeof PopReceiveSchema>;

/** Refuses (throws) when the caller may not read `topic`. */
export type AuthorizeTopic = (topic: string) => void;

/**
 * Receives up to `maxMessageNum` visible messages of the topic for the group, long-polling
 * up to maxWaitMs. `account` shares parked places fairly between accounts.
 */
export async function popReceive(env: Env, group: string, req: PopReceiveInput, account: string): Promise<ReceivedMessageWire[]> {
  checkGroupName(group);
  buildFilter(req.expressionType, req.expression); // a bad expression is a 400 with its position
  const queues = await topicQueues(env, req.topic);
  if (queues.length === 0) return [];
  await claimPopGroup(env, group, req.topic);
  // Each receiver starts at a random queue, so receivers of one group spread over the queues.
  const start = Math.floor(Math.random() * queues.length);
  const order = queues.map((_, i) => queues[(start + i) % queues.length]!);
  const stubs = order.map((mq) => queueStub(env, mq.brokerName, mq.topic, mq.queueId));
  const { topic: _topic, maxMessageNum, maxWaitMs, ...rest } = req;
  const got = await callRpc(() =>
    holdPopReceiveAcross(stubs, group, { ...rest, maxNum: maxMessageNum }, { maxWaitMs: maxWaitMs ?? Limits.maxReceiveWaitMs, account }),
  );
  // Messages past maxReconsumeTimes the queues claimed go to the group's DLQ before the answer.
  await Promise.all(
    got.map(({ index, answer }) => moveToDeadLetters(env, group, order[index]!, answer.deadLetters, req.maxReconsumeTimes ?? DEFAULT_MAX_RECONSUME_TIMES)),
  );
  return got.flatMap(({ index, answer }) => {
    const mq = order[index]!;
    return answer.messages.map((m) => ({
      ...toMessageExt(mq, m.entry),
      receiptHandle: encodeReceiptHandle({ ...mq, queueOffset: m.entry.queueOffset, nonce: m.nonce, invisibleUntil: m.invisibleUntil }),
      invisibleUntil: m.invisibleUntil,
      firstReceivedAt: m.firstReceivedAt,
    }));
  });
}

/**
 * Acks received messages by handle, any number of queues and topics: one call per queue. Every
 * topic the handles name is authorized before anything is acked; a handle that cannot be read is
 * RECEIPT_HANDLE_INVALID and changes nothing.
 */
export async function popAck(env: Env, group: string, receiptHandles: readonly string[], authorizeTopic: AuthorizeTopic): Promise<PopAckResultWire> {
  checkGroupName(group);
  const statuses: AckStatus[] = receiptHandles.map(() => "RECEIPT_HANDLE_INVALID");
  const perQueue = new Map<string, { handle: ReceiptHandle; at: number }[]>();
  receiptHandles.forEach((text, at) => {
    const handle = decodeReceiptHandle(text);
    if (!handle) return;
    const key = JSON.stringify([handle.brokerName, handle.topic, handle.queueId]);
    perQueue.set(key, [...(perQueue.get(key) ?? []), { handle, at }]);
  });
  for (const topic of new Set([...perQueue.values()].map((list) => list[0]!.handle.topic))) authorizeTopic(topic);
  await Promise.all(
    [...perQueue.values()].map(async (list) => {
      const { brokerName, topic, queueId } = list[0]!.handle;
      const stub = queueStub(env, brokerName, topic, queueId);
      const outcomes = await callRpc(() =>
        stub.popAck(
          group,
          list.map(({ handle }) => ({ offset: handle.queueOffset, nonce: handle.nonce })),
        ),
      );
      list.forEach(({ at }, i) => (statuses[at] = outcomes[i]!));
    }),
  );
  return { results: receiptHandles.map((receiptHandle, i) => ({ receiptHandle, status: statuses[i]! })) };
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
