/**
 * Push subscription API of a consumer group, mounted at /groups: create or replace, read with
 * its progress on every queue, pause, resume, delete. The group object keeps the settings
 * (durable-objects/consumer-group/push-subscription.ts); each change is then applied to every
 * readable queue of the topic (durable-objects/queue/push-delivery.ts), which delivers.
 *
 * Security: the operation needs SUB on the group (path) and on the topic (body, or the stored
 * subscription's topic): a subscription delivers nothing the caller could not read. A service
 * binding target must be one PUSH_SERVICE_BINDINGS allows for the group, never any other
 * binding of the environment; a webhook must be public https (protocol/push-target-url.ts). A
 * webhook's signing secret is answered once, when it is made, and never again.
 */
import { Hono, type Context } from "hono";
import { accessDenied, missingRight } from "../../protocol/auth/permissions.js";
import { MQError } from "../../protocol/errors.js";
import { buildFilter } from "../../protocol/message-filter.js";
import type { MessageQueue } from "../../protocol/message.js";
import { checkGroupName } from "../../protocol/names.js";
import { pushInfoOf, PushSubscriptionRequestSchema, type PushSubscriptionConfig } from "../../protocol/push-subscription.js";
import { webhookUrlProblem } from "../../protocol/push-target-url.js";
import { pushBindingAllowed, readConfig } from "../../cluster/config.js";
import type { Env } from "../../cluster/env.js";
import { callRpc } from "../../cluster/rpc-errors.js";
import { consumerGroupStub, queueStub } from "../../cluster/stubs.js";
import { authorizeBody } from "../auth/body-permission.js";
import type { AppEnv } from "../shared/app-env.js";
import { readJson } from "../shared/validate.js";
import { topicQueues } from "./routes.js";

/** Tells every readable queue of the subscription's topic its settings. */
export async function applyToQueues(env: Env, config: PushSubscriptionConfig): Promise<MessageQueue[]> {
  const queues = await topicQueues(env, config.topic);
  await Promise.all(queues.map((mq) => callRpc(() => queueStub(env, mq.brokerName, mq.topic, mq.queueId).setPushSubscription(config, mq))));
  return queues;
}

async function removeFromQueues(env: Env, group: string, topic: string): Promise<void> {
  const queues = await topicQueues(env, topic).catch(() => [] as MessageQueue[]);
  await Promise.all(queues.map((mq) => callRpc(() => queueStub(env, mq.brokerName, mq.topic, mq.queueId).removePushSubscription(group))));
}

/** Refuses a target this deployment does not allow (PUSH_TARGET_NOT_ALLOWED). */
export function checkTarget(env: Env, group: string, target: PushSubscriptionConfig["target"]): void {
  const config = readConfig(env);
  if (target.type === "service") {
    if (!pushBindingAllowed(config, target.binding, group)) {
      throw new MQError(
        "PUSH_TARGET_NOT_ALLOWED",
        `service binding "${target.binding}" is not one PUSH_SERVICE_BINDINGS allows for group "${group}" (declare it in wrangler.toml [[services]] and list it there)`,
      );
    }
    return;
  }
  const problem = webhookUrlProblem(target.url, { allowLoopbackHttp: config.pushLoopbackWebhooks });
  if (problem) throw new MQError("PUSH_TARGET_NOT_ALLOWED", problem);
}

/** With accounts configured, the stored subscription's topic needs SUB too (pause, resume, delete, read). */
function requireTopicSub(c: Context<AppEnv>, topic: string): void {
  const account = c.get("account");
  const missing = account ? missingRight(account, { kind: "topic", param: "topic", action: "SUB" }, { topic }) : undefined;
  if (account && missing !== undefined) throw accessDenied(account.accessKey, missing);
}

async function current(env: Env, group: string): Promise<PushSubscriptionConfig> {
  const config = await callRpc(() => consumerGroupStub(env, group).pushSubscription());
  if (!config) throw new MQError("PUSH_SUBSCRIPTION_NOT_FOUND", `group "${group}" has no push subscription`);
  return config;
}

async function setPaused(c: Context<AppEnv>, paused: boolean): Promise<Response> {
  const group = c.req.param("group") ?? "";
  checkGroupName(group);
  requireTopicSub(c, (await current(c.env, group)).topic);
  const config = await callRpc(() => consumerGroupStub(c.env, group).setPushPaused(group, paused));
  await applyToQueues(c.env, config);
  return c.json({ subscription: pushInfoOf(config) });
}

export const pushRoutes = new Hono<AppEnv>()
  .put("/:group/push-subscription", async (c) => {
    const group = c.req.param("group");
    checkGroupName(group);
    const req = await readJson(c, PushSubscriptionRequestSchema);
    authorizeBody(c, { topic: req.topic });
    buildFilter(req.expressionType, req.expression); // a bad expression is a 400 with its position
    checkTarget(c.env, group, req.target);
    await topicQueues(c.env, req.topic); // TOPIC_NOT_EXIST before anything is stored
    const stub = consumerGroupStub(c.env, group);
    const { config, previous, secret } = await callRpc(() => stub.putPushSubscription(group, req));
    try {
      if (previous && previous.topic !== config.topic) await removeFromQueues(c.env, group, previous.topic);
      await applyToQueues(c.env, config);
    } catch (e) {
      // A new subscription a queue refused (the group consumes it by POP), or could not be told:
      // none is left half applied. A change is left as stored: the same PUT again finishes it
      // (queues keep the newest version they were told).
      if (!previous) {
        await callRpc(() => stub.deletePushSubscription());
        await removeFromQueues(c.env, group, config.topic);
      }
      throw e;
    }
    return c.json({ subscription: pushInfoOf(config), ...(secret === undefined ? {} : { secret }) }, previous ? 200 : 201);
  })
  .get("/:group/push-subscription", async (c) => {
    const group = c.req.param("group");
    checkGroupName(group);
    const config = await current(c.env, group);
    requireTopicSub(c, config.topic);
    const queues = await topicQueues(c.env, config.topic).catch(() => [] as MessageQueue[]);
    const rows = await Promise.all(
      queues.map(async (mq) => {
        const s = await callRpc(() => queueStub(c.env, mq.brokerName, mq.topic, mq.queueId).pushStatus(group));
        if (!s) return { messageQueue: mq, applied: false as const };
        const consumed = Math.max(s.committed, s.minOffset);
        return {
          messageQueue: mq,
          applied: s.version === config.version,
          lag: s.maxOffset - consumed,
          consumerOffset: s.committed,
          brokerOffset: s.maxOffset,
          ...statusOf(s),
        };
      }),
    );
    return c.json({ subscription: pushInfoOf(config), queues: rows, ...totals(rows) });
  })
  .post("/:group/push-subscription/pause", (c) => setPaused(c, true))
  .post("/:group/push-subscription/resume", (c) => setPaused(c, false))
  .delete("/:group/push-subscription", async (c) => {
    const group = c.req.param("group");
    checkGroupName(group);
    const config = await current(c.env, group);
    requireTopicSub(c, config.topic);
    await callRpc(() => consumerGroupStub(c.env, group).deletePushSubscription());
    await removeFromQueues(c.env, group, config.topic);
    return c.json({ deleted: true });
  });

type QueueStatus = NonNullable<Awaited<ReturnType<ReturnType<typeof queueStub>["pushStatus"]>>>;

function statusOf(s: QueueStatus) {
  return {
    retryBacklog: s.retryBacklog,
    nextRetryAt: s.nextRetryAt,
    backoffUntil: s.backoffUntil,
    lastDeliveryAt: s.lastDeliveryAt,
    lastError: s.lastError,
    delivered: s.delivered,
    deadLettered: s.deadLettered,
  };
}

/** The subscription as a whole: total lag and backlog, latest delivery and error over its queues. */
function totals(
  rows: {
    messageQueue: MessageQueue;
    lag?: number;
    retryBacklog?: number;
    lastDeliveryAt?: number | null;
    lastError?: { at: number; message: string } | null;
    delivered?: number;
    deadLettered?: number;
  }[],
) {
  let lastDeliveryAt: number | null = null;
  let lastError: { at: number; message: string } | null = null;
  for (const r of rows) {
    if (r.lastDeliveryAt != null && (lastDeliveryAt === null || r.lastDeliveryAt > lastDeliveryAt)) lastDeliveryAt = r.lastDeliveryAt;
    if (r.lastError && (lastError === null || r.lastError.at > lastError.at)) lastError = r.lastError;
  }
  const sum = (f: (r: (typeof rows)[number]) => number | undefined) => rows.reduce((n, r) => n + (f(r) ?? 0), 0);
  return {
    lag: sum((r) => r.lag),
    retryBacklog: sum((r) => r.retryBacklog),
    delivered: sum((r) => r.delivered),
    deadLettered: sum((r) => r.deadLettered),
    lastDeliveryAt,
    lastError,
  };
}
