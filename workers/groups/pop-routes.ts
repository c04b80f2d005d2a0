/**
 * SimpleConsumer (POP) API of a consumer group, mounted at /groups: receive from a topic's
 * queues (a long poll the Worker holds, cluster/long-polls.ts), which may carry the acks of the
 * batch before, ack many receipt handles in one call, change a held message's invisibility. The calls themselves are in pop-calls.ts, shared
 * with the Workers RPC entrypoint (workers/rpc/); here the body is validated and the topic
 * right checked as the operation table declares.
 */
import { Hono } from "hono";
import { checkGroupName } from "../../protocol/names.js";
import { PopAckSchema, PopChangeInvisibleSchema, PopReceiveHttpSchema } from "../../protocol/schemas.js";
import { authorizeBody } from "../auth/body-permission.js";
import type { AppEnv } from "../shared/app-env.js";
import { readJson } from "../shared/validate.js";
import { popAck, popChangeInvisible, receiveAcking, receivedFramed, receivedJson } from "./pop-calls.js";
import { batchAnswer } from "../shared/batch-answer.js";

export const popRoutes = new Hono<AppEnv>()
  .post("/:group/receive", async (c) => {
    const group = c.req.param("group");
    checkGroupName(group);
    const { ackReceiptHandles, ...req } = await readJson(c, PopReceiveHttpSchema);
    authorizeBody(c, { topic: req.topic });
    const acks = ackReceiptHandles ? { receiptHandles: ackReceiptHandles, authorizeTopic: (topic: string) => authorizeBody(c, { topic }) } : undefined;
    const answer = await receiveAcking(c.env, group, req, c.get("account")?.accessKey ?? "", acks);
    return batchAnswer(c, { framed: () => receivedFramed(answer), json: () => receivedJson(answer) });
  })
  .post("/:group/ack", async (c) => {
    const group = c.req.param("group");
    checkGroupName(group);
    const { receiptHandles } = await readJson(c, PopAckSchema);
    return c.json(await popAck(c.env, group, receiptHandles, (topic) => authorizeBody(c, { topic })));
  })
  .post("/:group/change-invisible", async (c) => {
    const group = c.req.param("group");
    checkGroupName(group);
    const req = await readJson(c, PopChangeInvisibleSchema);
    return c.json(await popChangeInvisible(c.env, group, req.receiptHandle, req.invisibleDurationMs, (topic) => authorizeBody(c, { topic })));
  });
