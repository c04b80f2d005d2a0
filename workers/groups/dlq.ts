/**
 * Dead-letter queue admin for a consumer group: list what is in `%DLQ%<group>`, resend
 * messages to their original topic (same msgId, ORIGIN_MESSAGE_ID kept, reconsumeTimes back
 * to 0) so the group consumes them again, and delete handled ones.
 */
import { Hono } from "hono";
import { dlqTopic } from "../../protocol/consumer.js";
import { MQError } from "../../protocol/errors.js";
import type { MessageExtWire, MessageQueue } from "../../protocol/message.js";
import { toMessageExt } from "../../protocol/message-ext.js";
import { decodeOffsetMsgId } from "../../protocol/offset-msg-id.js";
import { checkGroupName } from "../../protocol/names.js";
import { canWrite } from "../../protocol/route.js";
import { callRpc } from "../../cluster/rpc-errors.js";
import { queueStub } from "../../cluster/stubs.js";
import type { Env } from "../../cluster/env.js";
import { getTopicConfig } from "../../cluster/topic-registry.js";
import type { AppEnv } from "../shared/app-env.js";
import { readJson, uintParam } from "../shared/validate.js";
import { DlqDeleteSchema as DeleteSchema, DlqResendSchema as ResendSchema } from "../../protocol/schemas.js";

/** Most DLQ messages one list or resend handles. */
const DLQ_MAX = 1000;

async function dlqQueues(env: Env, group: string): Promise<MessageQueue[]> {
  const topic = dlqTopic(group);
  const config = await getTopicConfig(env, topic);
  if (!config) return [];
  return config.queues.map((q) => ({ topic, brokerName: q.brokerName, queueId: 0 }));
}

async function listDlq(env: Env, group: string, maxNum: number): Promise<MessageExtWire[]> {
  const out: MessageExtWire[] = [];
  for (const mq of await dlqQueues(env, group)) {
    const stub = queueStub(env, mq.brokerName, mq.topic, mq.queueId);
    let offset = (await callRpc(() => stub.stats())).minOffset;
    while (out.length < maxNum) {
      const r = await callRpc(() => stub.pull({ offset, maxNums: 32 }));
      if (r.pullStatus !== "FOUND") break;
      out.push(...r.entries.slice(0, maxNum - out.length).map((e) => toMessageExt(mq, e)));
      offset = r.nextBeginOffset;
    }
  }
  return out;
}

/** Appends a dead-lettered message to its original topic, on the same broker when it can. */
async function resendOne(env: Env, group: string, offsetMsgId: string): Promise<void> {
  const parts = decodeOffsetMsgId(offsetMsgId);
  if (!parts || parts.topic !== dlqTopic(group)) throw new MQError("MESSAGE_ID_ILLEGAL", `${offsetMsgId} is not in the DLQ of ${group}`);
  const entry = await callRpc(() => queueStub(env, parts.brokerName, parts.topic, parts.queueId).getMessage(parts.queueOffset));
  if (!entry) throw new MQError("MESSAGE_NOT_FOUND", `DLQ message ${offsetMsgId} is gone`);
  const original = entry.message.properties.RETRY_TOPIC;
  if (!original) throw new MQError("MESSAGE_ILLEGAL", "the DLQ message does not name its original topic");
  const config = await getTopicConfig(env, original);
  const writable = config?.queues.filter((q) => canWrite(q.perm) && q.writeQueueNums > 0) ?? [];
  const target = writable.find((q) => q.brokerName === parts.brokerName) ?? writable[0];
  if (!target) throw new MQError("TOPIC_NOT_EXIST", `original topic "${original}" has no writable queues`);
  const queueId = entry.queueOffset % target.writeQueueNums;
  const { RECONSUME_TIME: _r, MAX_RECONSUME_TIMES: _m, DELAY: _d, ...properties } = entry.message.properties;
  const message = { ...entry.message, reconsumeTimes: 0, properties: { ...properties, DLQ_RESENT_FROM: offsetMsgId } };
  await callRpc(() =>
    queueStub(env, target.brokerName, original, queueId).append([message], { dedupe: false, mq: { topic: original, brokerName: target.brokerName, queueId } }),
  );
}

export const dlqRoutes = new Hono<AppEnv>()
  .get("/:group/dlq", async (c) => {
    const group = c.req.param("group");
    checkGroupName(group);
    const maxNum = uintParam(c.req.query("maxNum"), "maxNum", { fallback: 100, max: DLQ_MAX });
    return c.json({ messages: await listDlq(c.env, group, maxNum) });
  })
  .post("/:group/dlq/resend", async (c) => {
    const group = c.req.param("group");
    checkGroupName(group);
    const req = await readJson(c, ResendSchema);
    if (!req.all && !req.offsetMsgIds?.length) throw new MQError("VALIDATION_FAILED", "give offsetMsgIds or all: true");
    const ids = req.all ? (await listDlq(c.env, group, DLQ_MAX)).map((m) => m.offsetMsgId) : (req.offsetMsgIds ?? []);
    for (const id of ids) await resendOne(c.env, group, id);
    return c.json({ resent: ids.length });
  })
  .post("/:group/dlq/delete", async (c) => {
    const group = c.req.param("group");
    checkGroupName(group);
    const { brokerName, beforeOffset } = await readJson(c, DeleteSchema);
    const mq = (await dlqQueues(c.env, group)).find((q) => q.brokerName === brokerName);
    if (!mq) throw new MQError("TOPIC_NOT_EXIST", `group "${group}" has no dead-letter queue on "${brokerName}"`);
    const deleted = await callRpc(() => queueStub(c.env, brokerName, mq.topic, 0).truncateBefore(beforeOffset));
    return c.json({ deleted });
  });
