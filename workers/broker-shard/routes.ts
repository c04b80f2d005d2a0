/**
 * Broker HTTP API: send, pull (long polling), message lookup, queue stats and consume
 * offsets for one queue, mounted at /brokers/:broker/topics/:topic/queues/:queueId.
 */
import { Hono, type Context } from "hono";
import { MQError } from "../../protocol/errors.js";
import { Limits } from "../../protocol/limits.js";
import type { PullResultWire, SendResult } from "../../protocol/message.js";
import { checkGroupName } from "../../protocol/names.js";
import { encodeOffsetMsgId } from "../../protocol/offset-msg-id.js";
import { CommitOffsetSchema, SendRequestSchema } from "../../protocol/schemas.js";
import type { AppEnv } from "../shared/app-env.js";
import { readJson, uintParam } from "../shared/validate.js";
import { toMessageExt, toStoredMessages } from "./messages.js";
import { callQueue, queueStub } from "./queue-stub.js";
import { resolveQueue, type Access } from "./resolve-queue.js";

type QueueContext = Context<AppEnv, "/:broker/topics/:topic/queues/:queueId/*">;

async function target(c: QueueContext, access: Access) {
  const resolved = await resolveQueue(
    c.env,
    { broker: c.req.param("broker"), topic: c.req.param("topic"), queueId: c.req.param("queueId") },
    access,
  );
  const { brokerName, topic, queueId } = resolved.mq;
  return { ...resolved, stub: queueStub(c.env, brokerName, topic, queueId) };
}

const Q = "/:broker/topics/:topic/queues/:queueId";

export const brokerRoutes = new Hono<AppEnv>()
  .post(`${Q}/messages`, async (c) => {
    const request = await readJson(c, SendRequestSchema);
    const { mq, stub } = await target(c, "write");
    const now = Date.now();
    const messages = toStoredMessages(request.messages, now, c.req.header("cf-connecting-ip") ?? "");
    const { queueOffset } = await callQueue(() => stub.append(messages));
    const msgIds = messages.map((m) => m.msgId);
    const offsetMsgIds = messages.map((_, i) => encodeOffsetMsgId({ ...mq, queueOffset: queueOffset + i }));
    const result: SendResult = {
      sendStatus: "SEND_OK",
      msgId: msgIds.join(","),
      offsetMsgId: offsetMsgIds.join(","),
      messageQueue: mq,
      queueOffset,
      msgIds,
      offsetMsgIds,
    };
    return c.json(result);
  })
  .get(`${Q}/messages`, async (c) => {
    const offset = uintParam(c.req.query("offset"), "offset", { code: "OFFSET_ILLEGAL" });
    const maxNums = uintParam(c.req.query("maxNums"), "maxNums", { fallback: Limits.maxPullNums, max: Limits.maxPullNums });
    if (maxNums === 0) throw new MQError("VALIDATION_FAILED", "maxNums must be at least 1");
    const maxWaitMs = uintParam(c.req.query("maxWaitMs"), "maxWaitMs", {
      fallback: Limits.defaultPullWaitMs,
      max: Limits.maxPullWaitMs,
    });
    const expression = c.req.query("expression") ?? "*";
    if (expression.length > Limits.maxExpressionLength)
      throw new MQError("VALIDATION_FAILED", `expression is longer than ${Limits.maxExpressionLength} characters`);
    const { mq, stub } = await target(c, "read");
    const outcome = await callQueue(() => stub.pull({ offset, maxNums, expression, maxWaitMs }));
    const result: PullResultWire = {
      pullStatus: outcome.pullStatus,
      nextBeginOffset: outcome.nextBeginOffset,
      minOffset: outcome.minOffset,
      maxOffset: outcome.maxOffset,
      messages: outcome.entries.map((e) => toMessageExt(mq, e)),
    };
    return c.json(result);
  })
  .get(`${Q}/messages/:offset`, async (c) => {
    const offset = uintParam(c.req.param("offset"), "offset", { code: "OFFSET_ILLEGAL" });
    const { mq, stub } = await target(c, "read");
    const entry = await callQueue(() => stub.getMessage(offset));
    if (!entry) throw new MQError("MESSAGE_NOT_FOUND", `no message at offset ${offset} of ${mq.topic}/${mq.brokerName}/${mq.queueId}`);
    return c.json(toMessageExt(mq, entry));
  })
  .get(`${Q}/stats`, async (c) => {
    const { stub } = await target(c, "admin");
    return c.json(await callQueue(() => stub.stats()));
  })
  .get(`${Q}/offsets/search`, async (c) => {
    const timestamp = uintParam(c.req.query("timestamp"), "timestamp");
    const { stub } = await target(c, "read");
    return c.json({ offset: await callQueue(() => stub.searchOffset(timestamp)) });
  })
  .get(`${Q}/groups/:group/offset`, async (c) => {
    const group = c.req.param("group");
    checkGroupName(group);
    const { stub } = await target(c, "read");
    return c.json(await callQueue(() => stub.fetchOffset(group)));
  })
  .put(`${Q}/groups/:group/offset`, async (c) => {
    const group = c.req.param("group");
    checkGroupName(group);
    const { offset } = await readJson(c, CommitOffsetSchema);
    const { stub } = await target(c, "read");
    await callQueue(() => stub.commitOffset(group, offset));
    return c.json({ offset });
  });
