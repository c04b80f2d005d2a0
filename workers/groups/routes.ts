/**
 * Consumer group API: heartbeats and leaving, group info, consume progress, offset reset,
 * send-back of failed messages, and deleting a group, mounted at /groups.
 */
import { Hono } from "hono";
import { dlqTopic, retryTopic, type GroupProgress, type QueueProgress } from "../../protocol/consumer.js";
import { MQError } from "../../protocol/errors.js";
import { accessDenied, authorize, missingRight } from "../../protocol/auth/permissions.js";
import type { StoredAccount } from "../../durable-objects/accounts.js";
import { buildFilter } from "../../protocol/message-filter.js";
import type { MessageQueue } from "../../protocol/message.js";
import { checkGroupName, checkTopicName } from "../../protocol/names.js";
import { canRead } from "../../protocol/route.js";
import { HeartbeatSchema, ResetOffsetSchema, SendBackSchema } from "../../protocol/schemas.js";
import type { Env } from "../../cluster/env.js";
import { callRpc } from "../../cluster/rpc-errors.js";
import { consumerGroupStub, queueStub } from "../../cluster/stubs.js";
import { holdWatch } from "../../cluster/long-polls.js";
import { deleteTopicWithMessages, getTopicConfig } from "../../cluster/topic-registry.js";
import { writeNameServers } from "../../cluster/nameservers.js";
import { forgetPopGroup } from "./pop-mode.js";
import type { AppEnv } from "../shared/app-env.js";
import { readJson, uintParam } from "../shared/validate.js";
import { Limits } from "../../protocol/limits.js";
import { sendBack } from "./sendback.js";

/** With accounts configured, refuses a topic the account may not read. */
function requireTopicSub(account: StoredAccount | undefined, topic: string): void {
  const missing = account ? missingRight(account, { kind: "topic", param: "topic", action: "SUB" }, { topic }) : undefined;
  if (account && missing !== undefined) throw accessDenied(account.accessKey, missing);
}

export async function topicQueues(env: Env, topic: string): Promise<MessageQueue[]> {
  checkTopicName(topic);
  const config = await getTopicConfig(env, topic);
  if (!config) throw new MQError("TOPIC_NOT_EXIST", `topic "${topic}" does not exist`);
  return config.queues
    .filter((q) => canRead(q.perm))
    .flatMap((q) => Array.from({ length: q.readQueueNums }, (_, queueId) => ({ topic, brokerName: q.brokerName, queueId })));
}

export const groupRoutes = new Hono<AppEnv>()
  .post("/:group/heartbeat", async (c) => {
    const group = c.req.param("group");
    checkGroupName(group);
    const req = await readJson(c, HeartbeatSchema);
    for (const s of req.subscriptions) {
      checkTopicName(s.topic);
      // Subscribing shows a topic's offsets and assigns its queues: it needs SUB on the topic.
      requireTopicSub(c.get("account"), s.topic);
      buildFilter(s.expressionType, s.expression); // a bad expression is refused at subscribe time
    }
    const { allocateStrategy, zone, configuredQueues, heldQueues, generation, ...rest } = req;
    return c.json(
      await callRpc(() =>
        consumerGroupStub(c.env, group).heartbeat(group, {
          ...rest,
          ...(allocateStrategy ? { allocateStrategy } : {}),
          ...(zone ? { zone } : {}),
          ...(configuredQueues ? { configuredQueues } : {}),
          ...(heldQueues ? { heldQueues } : {}),
          ...(generation !== undefined ? { generation } : {}),
        }),
      ),
    );
  })
  .get("/:group/watch", async (c) => {
    const group = c.req.param("group");
    checkGroupName(group);
    const generation = uintParam(c.req.query("generation"), "generation");
    const maxWaitMs = uintParam(c.req.query("maxWaitMs"), "maxWaitMs", { fallback: Limits.defaultPullWaitMs, max: Limits.maxPullWaitMs });
    const account = c.get("account")?.accessKey ?? "";
    // Held here in the Worker, the group object parked on a socket it may hibernate with.
    return c.json({ generation: await callRpc(() => holdWatch(consumerGroupStub(c.env, group), generation, { maxWaitMs, account })) });
  })
  .delete("/:group/members/:clientId", async (c) => {
    const group = c.req.param("group");
    checkGroupName(group);
    const left = await callRpc(() => consumerGroupStub(c.env, group).leave(group, c.req.param("clientId")));
    return c.json({ left });
  })
  .get("/:group", async (c) => {
    const group = c.req.param("group");
    checkGroupName(group);
    return c.json(await callRpc(() => consumerGroupStub(c.env, group).info(group)));
  })
  .delete("/:group", async (c) => {
    const group = c.req.param("group");
    checkGroupName(group);
    // A live member's next heartbeat would list the group again and recreate its retry topic.
    const { members } = await callRpc(() => consumerGroupStub(c.env, group).info(group));
    if (members.length > 0) throw new MQError("GROUP_HAS_MEMBERS", `consumer group "${group}" has ${members.length} live member(s); shut them down first`);
    // The server consumes a group with a push subscription (and would dead-letter into the DLQ topic deleted here).
    if (await callRpc(() => consumerGroupStub(c.env, group).pushSubscription())) {
      throw new MQError("GROUP_HAS_MEMBERS", `consumer group "${group}" has a push subscription; delete it first (flaremq push delete)`);
    }
    // As RocketMQ Dashboard's delete: the group's retry and dead-letter topics go with it. Its
    // committed offsets stay on the queues (mqadmin deleteSubGroup without removeOffset).
    const topicsDeleted: string[] = [];
    for (const topic of [retryTopic(group), dlqTopic(group)]) {
      if (await deleteTopicWithMessages(c.env, topic)) topicsDeleted.push(topic);
    }
    await writeNameServers(c.env, (ns) => ns.unregisterGroup(group));
    await forgetPopGroup(c.env, group);
    await callRpc(() => consumerGroupStub(c.env, group).forgetTopics());
    return c.json({ group, topicsDeleted });
  })
  .get("/:group/progress", async (c) => {
    const group = c.req.param("group");
    checkGroupName(group);
    const named = c.req.query("topic");
    const account = c.get("account");
    if (named !== undefined) requireTopicSub(account, named);
    // Without ?topic, the group's subscriptions name the topics, which other accounts' members
    // may have subscribed: only those this account may read are reported (offsets and lag tell
    // how far a topic has grown).
    const topics = named
      ? [named]
      : (await callRpc(() => consumerGroupStub(c.env, group).subscribedTopics())).filter(
          (topic) => !account || authorize(account, { kind: "topic", param: "topic", action: "SUB" }, { topic }),
        );
    const queues = (await Promise.all(topics.map((t) => topicQueues(c.env, t).catch(() => [] as MessageQueue[])))).flat();
    const rows = await Promise.all(
      queues.map(async (mq): Promise<QueueProgress> => {
        const p = await callRpc(() => queueStub(c.env, mq.brokerName, mq.topic, mq.queueId).progress(group));
        const consumed = Math.max(p.committed, p.minOffset);
        return {
          messageQueue: mq,
          brokerOffset: p.maxOffset,
          consumerOffset: p.committed,
          minOffset: p.minOffset,
          // A POP group's cursor passed what it handed out; the unacked are still to consume.
          lag: (p.committed < 0 ? p.maxOffset - p.minOffset : p.maxOffset - consumed) + p.inflight,
          lastTimestamp: p.lastStoreTimestamp,
          behindMinOffset: p.committed >= 0 && p.committed < p.minOffset,
          inflight: p.inflight,
        };
      }),
    );
    const progress: GroupProgress = { group, queues: rows, totalLag: rows.reduce((n, r) => n + r.lag, 0) };
    return c.json(progress);
  })
  .post("/:group/reset-offset", async (c) => {
    const group = c.req.param("group");
    checkGroupName(group);
    const { topic, timestamp } = await readJson(c, ResetOffsetSchema);
    const queues = await topicQueues(c.env, topic);
    const resetSeq = await callRpc(() => consumerGroupStub(c.env, group).bumpOffsetResetSeq());
    const offsets = await Promise.all(
      queues.map(async (mq) => ({
        messageQueue: mq,
        offset: await callRpc(() => queueStub(c.env, mq.brokerName, mq.topic, mq.queueId).resetOffset(group, timestamp, resetSeq)),
      })),
    );
    return c.json({ group, topic, offsetResetSeq: resetSeq, offsets });
  })
  .post("/:group/sendback", async (c) => {
    const group = c.req.param("group");
    checkGroupName(group);
    const req = await readJson(c, SendBackSchema);
    // The message is read from its queue: that needs SUB on its topic, not only on the group.
    requireTopicSub(c.get("account"), req.messageQueue.topic);
    return c.json(
      await sendBack(c.env, group, req.messageQueue, req.queueOffset, {
        delayLevel: req.delayLevel,
        maxReconsumeTimes: req.maxReconsumeTimes,
      }),
    );
  });
