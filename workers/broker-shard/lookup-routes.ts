/** Message lookup by offsetMsgId: the id names its queue, so one queue object answers. */
import { Hono } from "hono";
import { MQError } from "../../protocol/errors.js";
import { decodeOffsetMsgId } from "../../protocol/offset-msg-id.js";
import type { AppEnv } from "../shared/app-env.js";
import { toMessageExt } from "./messages.js";
import { callRpc } from "../../cluster/rpc-errors.js";
import { queueStub } from "../../cluster/stubs.js";
import { resolveQueue } from "./resolve-queue.js";

export const lookupRoutes = new Hono<AppEnv>().get("/:offsetMsgId", async (c) => {
  const id = c.req.param("offsetMsgId");
  const parts = decodeOffsetMsgId(id);
  // A msgId (UNIQ_KEY) is the id users hold most often; it is found only within its topic.
  if (!parts)
    throw new MQError(
      "MESSAGE_ID_ILLEGAL",
      "not an offsetMsgId issued by this cluster; a msgId (UNIQ_KEY) is looked up within its topic: GET /topics/{topic}/messages/by-id/{msgId}",
    );
  const { mq } = await resolveQueue(c.env, { broker: parts.brokerName, topic: parts.topic, queueId: String(parts.queueId) }, "read");
  const entry = await callRpc(() => queueStub(c.env, mq.brokerName, mq.topic, mq.queueId).getMessage(parts.queueOffset));
  if (!entry) throw new MQError("MESSAGE_NOT_FOUND", `message ${id} not found`);
  return c.json(toMessageExt(mq, entry));
});
