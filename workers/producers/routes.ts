/**
 * Producer group API: live producers long-poll here for transaction checks; operators list
 * the groups the server has heard from and read a group's status.
 */
import { Hono } from "hono";
import { Limits } from "../../protocol/limits.js";
import { checkGroupName } from "../../protocol/names.js";
import type { AppEnv } from "../shared/app-env.js";
import { readJson, uintParam } from "../shared/validate.js";
import { WebhookSchema } from "../../protocol/schemas.js";
import { callRpc } from "../../cluster/rpc-errors.js";
import { producerGroupStub } from "../../cluster/stubs.js";
import { holdCheckPoll } from "../../cluster/long-polls.js";
import { readNameServer } from "../../cluster/nameservers.js";

export const producerRoutes = new Hono<AppEnv>()
  .get("/", async (c) => {
    const groups = await readNameServer(c.env, (ns) => ns.listProducerGroups());
    return c.json({ groups });
  })
  .get("/:group/checks", async (c) => {
    const group = c.req.param("group");
    checkGroupName(group);
    const maxWaitMs = uintParam(c.req.query("maxWaitMs"), "maxWaitMs", {
      fallback: Limits.defaultPullWaitMs,
      max: Limits.maxPullWaitMs,
    });
    const max = uintParam(c.req.query("max"), "max", { fallback: 32, max: 256 });
    // Held here in the Worker, the group object parked on a socket it may hibernate with.
    const account = c.get("account")?.accessKey ?? "";
    const checks = await callRpc(() => holdCheckPoll(producerGroupStub(c.env, group), Math.max(1, max), group, { maxWaitMs, account }));
    return c.json({ checks });
  })
  .put("/:group/webhook", async (c) => {
    const group = c.req.param("group");
    checkGroupName(group);
    const { url } = await readJson(c, WebhookSchema);
    await callRpc(() => producerGroupStub(c.env, group).setWebhook(url, group));
    return c.json({ group, webhookUrl: url });
  })
  .delete("/:group/webhook", async (c) => {
    const group = c.req.param("group");
    checkGroupName(group);
    await callRpc(() => producerGroupStub(c.env, group).setWebhook(null));
    return c.json({ group, webhookUrl: null });
  })
  .get("/:group", async (c) => {
    const group = c.req.param("group");
    checkGroupName(group);
    return c.json({ group, ...(await callRpc(() => producerGroupStub(c.env, group).status())) });
  });
