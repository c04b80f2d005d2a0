/**
 * Topic-level reads that fan out to every queue of a topic in parallel: queue status,
 * query by key with a time range, and lookup by msgId (the client's unique key).
 */
import { Hono } from "hono";
import { MQError } from "../../protocol/errors.js";
import { Limits } from "../../protocol/limits.js";
import type { MessageExtWire, MessageQueue } from "../../protocol/message.js";
import { toMessageExt } from "../../protocol/message-ext.js";
import { msgIdBornTime } from "../../protocol/msg-id.js";
import { checkTopicName } from "../../protocol/names.js";
import { callRpc } from "../../cluster/rpc-errors.js";
import { queueStub } from "../../cluster/stubs.js";
import type { Env } from "../../cluster/env.js";
import { getTopicConfig } from "../../cluster/topic-registry.js";
import type { AppEnv } from "../shared/app-env.js";
import { uintParam } from "../shared/validate.js";

/** Every queue of a topic (read or write), in broker then queueId order. */
export async function allQueues(env: Env, topic: string): Promise<MessageQueue[]> {
  checkTopicName(topic);
  const config = await getTopicConfig(env, topic);
  if (!config) throw new MQError("TOPIC_NOT_EXIST", `topic "${topic}" does not exist`);
  return config.queues.flatMap((q) =>
    Array.from({ length: Math.max(q.readQueueNums, q.writeQueueNums) }, (_, queueId) => ({ topic, brokerName: q.brokerName, queueId })),
  );
}

/** Most messages a query by key returns over all queues. */
const QUERY_MAX = 1000;
/** 4 MiB of bodies, as the base64 text an answer carries them in. */
const QUERY_MAX_BODY_CHARS = Math.ceil(Limits.maxPullBytes / 3) * 4;

export const topicRoutes = new Hono<AppEnv>()
  .get("/:topic/status", async (c) => {
    const topic = c.req.param("topic");
    const queues = await allQueues(c.env, topic);
    const rows = await Promise.all(
      queues.map(async (mq) => {
        const s = await callRpc(() => queueStub(c.env, mq.brokerName, topic, mq.queueId).stats());
        return {
          messageQueue: mq,
          minOffset: s.minOffset,
          maxOffset: s.maxOffset,
          lastUpdateTimestamp: s.lastStoreTimestamp,
          storageBytes: s.storageBytes,
        };
      }),
    );
    return c.json({ topic, queues: rows });
  })
  .get("/:topic/messages", async (c) => {
    const topic = c.req.param("topic");
    const key = c.req.query("key");
    if (!key || key.length > Limits.maxTagLength) throw new MQError("VALIDATION_FAILED", "key is required (at most 255 characters)");
    const begin = uintParam(c.req.query("begin"), "begin", { fallback: 0 });
    const end = uintParam(c.req.query("end"), "end", { fallback: Number.MAX_SAFE_INTEGER });
    if (begin > end) throw new MQError("VALIDATION_FAILED", "begin is after end");
    const maxNum = uintParam(c.req.query("maxNum"), "maxNum", { fallback: 32, max: QUERY_MAX });
    const queues = await allQueues(c.env, topic);
    const found = await Promise.all(
      queues.map(async (mq) => {
        const entries = await callRpc(() => queueStub(c.env, mq.brokerName, topic, mq.queueId).queryKey(key, begin, end, maxNum));
        return entries.map((e) => toMessageExt(mq, e));
      }),
    );
    const sorted = found.flat().sort((a, b) => a.storeTimestamp - b.storeTimestamp || a.queueOffset - b.queueOffset);
    // Like a pull: at most 4 MiB of bodies past the first message, however many queues matched.
    const messages: MessageExtWire[] = [];
    let bytes = 0;
    for (const m of sorted.slice(0, maxNum)) {
      if (messages.length > 0 && bytes + m.body.length > QUERY_MAX_BODY_CHARS) break;
      messages.push(m);
      bytes += m.body.length;
    }
    return c.json({ messages });
  })
  .get("/:topic/messages/by-id/:msgId", async (c) => {
    const topic = c.req.param("topic");
    const msgId = c.req.param("msgId");
    if (!/^[A-Za-z0-9_-]{1,128}$/.test(msgId)) throw new MQError("MESSAGE_ID_ILLEGAL", "not a message id");
    const queues = await allQueues(c.env, topic);
    const bornAt = msgIdBornTime(msgId) ?? null;
    const found = await Promise.all(
      queues.map(async (mq) => {
        const e = await callRpc(() => queueStub(c.env, mq.brokerName, topic, mq.queueId).findMsgId(msgId, bornAt));
        return e ? toMessageExt(mq, e) : null;
      }),
    );
    const hit = found.find((m) => m !== null);
    if (!hit) throw new MQError("MESSAGE_NOT_FOUND", `no message with msgId ${msgId} in topic "${topic}"`);
    return c.json(hit);
  });
