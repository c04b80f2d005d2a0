/**
 * SimpleConsumer (POP) API of a consumer group, mounted at /groups: receive from a topic's
 * queues (a long poll the Worker holds, cluster/long-polls.ts), ack many receipt handles in one
 * call, change a held message's invisibility. The state lives in the queue objects
 * (durable-objects/queue/pop.ts); here handles are made and read (protocol/receipt-handle.ts)
 * and an ack's handles are grouped per queue, so each queue gets one call and writes one row.
 */
import { Hono } from "hono";
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
import { PopAckSchema, PopChangeInvisibleSchema, PopReceiveSchema } from "../../protocol/schemas.js";
import { holdPopReceiveAcross } from "../../cluster/long-polls.js";
import { callRpc } from "../../cluster/rpc-errors.js";
import { queueStub } from "../../cluster/stubs.js";
import { authorizeBody } from "../auth/body-permission.js";
import type { AppEnv } from "../shared/app-env.js";
import { readJson } from "../shared/validate.js";
import { moveToDeadLetters } from "./pop-dead-letters.js";
import { claimPopGroup } from "./pop-mode.js";
import { topicQueues } from "./routes.js";

export const popRoutes = new Hono<AppEnv>()
  .post("/:group/receive", async (c) => {
    const group = c.req.param("group");
    checkGroupName(group);
    const req = await readJson(c, PopReceiveSchema);
    authorizeBody(c, { topic: req.topic });
    buildFilter(req.expressionType, req.expression); // a bad expression is a 400 with its position
    const queues = await topicQueues(c.env, req.topic);
    if (queues.length === 0) return c.json({ messages: [] });
    await claimPopGroup(c.env, group, req.topic);
    // Each receiver starts at a random queue, so receivers of one group spread over the queues.
    const start = Math.floor(Math.random() * queues.length);
    const order = queues.map((_, i) => queues[(start + i) % queues.length]!);
    const stubs = order.map((mq) => queueStub(c.env, mq.brokerName, mq.topic, mq.queueId));
    const { topic: _topic, maxMessageNum, maxWaitMs, ...rest } = req;
    const got = await callRpc(() =>
      holdPopReceiveAcross(
        stubs,
        group,
        { ...rest, maxNum: maxMessageNum },
        { maxWaitMs: maxWaitMs ?? Limits.maxReceiveWaitMs, account: c.get("account")?.accessKey ?? "" },
      ),
    );
    // Messages past maxReconsumeTimes the queues claimed go to the group's DLQ before the answer.
    await Promise.all(
      got.map(({ index, answer }) => moveToDeadLetters(c.env, group, order[index]!, answer.deadLetters, req.maxReconsumeTimes ?? DEFAULT_MAX_RECONSUME_TIMES)),
    );
    const messages: ReceivedMessageWire[] = got.flatMap(({ index, answer }) => {
      const mq = order[index]!;
      return answer.messages.map((m) => ({
        ...toMessageExt(mq, m.entry),
        receiptHandle: encodeReceiptHandle({ ...mq, queueOffset: m.entry.queueOffset, nonce: m.nonce, invisibleUntil: m.invisibleUntil }),
        invisibleUntil: m.invisibleUntil,
        firstReceivedAt: m.firstReceivedAt,
      }));
    });
    return c.json({ messages });
  })
  .post("/:group/ack", async (c) => {
    const group = c.req.param("group");
    checkGroupName(group);
    const { receiptHandles } = await readJson(c, PopAckSchema);
    const statuses: AckStatus[] = receiptHandles.map(() => "RECEIPT_HANDLE_INVALID");
    // One call per queue, with all of that queue's handles.
    const perQueue = new Map<string, { handle: ReceiptHandle; at: number }[]>();
    receiptHandles.forEach((text, at) => {
      const handle = decodeReceiptHandle(text);
      if (!handle) return;
      const key = JSON.stringify([handle.brokerName, handle.topic, handle.queueId]);
      perQueue.set(key, [...(perQueue.get(key) ?? []), { handle, at }]);
    });
    for (const topic of new Set([...perQueue.values()].map((list) => list[0]!.handle.topic))) authorizeBody(c, { topic });
    await Promise.all(
      [...perQueue.values()].map(async (list) => {
        const { brokerName, topic, queueId } = list[0]!.handle;
        const stub = queueStub(c.env, brokerName, topic, queueId);
        const outcomes = await callRpc(() =>
          stub.popAck(
            group,
            list.map(({ handle }) => ({ offset: handle.queueOffset, nonce: handle.nonce })),
          ),
        );
        list.forEach(({ at }, i) => (statuses[at] = outcomes[i]!));
      }),
    );
    const body: PopAckResultWire = { results: receiptHandles.map((receiptHandle, i) => ({ receiptHandle, status: statuses[i]! })) };
    return c.json(body);
  })
  .post("/:group/change-invisible", async (c) => {
    const group = c.req.param("group");
    checkGroupName(group);
    const req = await readJson(c, PopChangeInvisibleSchema);
    const handle = decodeReceiptHandle(req.receiptHandle);
    if (!handle) throw new MQError("RECEIPT_HANDLE_INVALID", "not a receipt handle");
    authorizeBody(c, { topic: handle.topic });
    const stub = queueStub(c.env, handle.brokerName, handle.topic, handle.queueId);
    const result = await callRpc(() => stub.popChangeInvisible(group, { offset: handle.queueOffset, nonce: handle.nonce }, req.invisibleDurationMs));
    if (result.outcome !== "OK" || result.nonce === undefined || result.invisibleUntil === undefined) {
      throw new MQError(result.outcome === "OK" ? "INTERNAL_ERROR" : result.outcome, `the receipt handle of offset ${handle.queueOffset} cannot be changed`);
    }
    const receiptHandle = encodeReceiptHandle({ ...handle, nonce: result.nonce, invisibleUntil: result.invisibleUntil });
    return c.json({ receiptHandle, invisibleUntil: result.invisibleUntil });
  });
