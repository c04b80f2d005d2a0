/**
 * NameServer HTTP API: topic admin and route reads (RocketMQ's updateTopic, deleteTopic,
 * topicList, topicRoute), mounted at /namesrv.
 */
import { Hono } from "hono";
import { MQError } from "../../protocol/errors.js";
import { AUTO_CREATE_TOPIC_KEY, checkTopicName, checkUserTopic } from "../../protocol/names.js";
import { brokerAddrs, type LiveBrokerInfo, type TopicConfig, type TopicRouteData } from "../../protocol/route.js";
import { AddBrokerSchema, CreateTopicSchema, TopicConfigSchema } from "../../protocol/schemas.js";
import { isValidBrokerName } from "../../protocol/names.js";
import { readConfig, type Config } from "../../cluster/config.js";
import { instanceNames, readNameServer } from "../../cluster/nameservers.js";
import type { AppEnv } from "../shared/app-env.js";
import { readJson } from "../shared/validate.js";
import {
  addBroker,
  removeBroker,
  autoCreateTemplate,
  deleteTopicWithMessages,
  getTopicConfig,
  listBrokers,
  listTopicConfigs,
  setBrokerWritePerm,
  upsertTopic,
} from "../../cluster/topic-registry.js";
import { clusterList } from "./cluster.js";

export function reservedNames(config: Config): string[] {
  return [config.clusterName, ...config.brokers];
}

/** TopicRouteData: each broker with the addresses of its master and slaves. */
export function toRoute(config: Config, topic: TopicConfig, brokers: readonly LiveBrokerInfo[]): TopicRouteData {
  return {
    brokerDatas: topic.queues.map((q) => {
      const info = brokers.find((b) => b.brokerName === q.brokerName);
      return {
        cluster: info?.clusterName ?? config.clusterName,
        brokerName: q.brokerName,
        // Only members alive now: a broker whose master is gone lists just its slaves.
        brokerAddrs: info?.brokerAddrs ?? brokerAddrs(q.brokerName, { "0": config.brokerRole }),
      };
    }),
    queueDatas: topic.queues,
  };
}

export const namesrvRoutes = new Hono<AppEnv>()
  .get("/topics", async (c) => {
    const topics = await listTopicConfigs(c.env);
    return c.json({ topics });
  })
  .post("/topics", async (c) => {
    const { topic, ...input } = await readJson(c, CreateTopicSchema);
    checkUserTopic(topic, reservedNames(readConfig(c.env)));
    const { config } = await upsertTopic(c.env, topic, input, "create");
    return c.json(config, 201);
  })
  .get("/topics/:topic", async (c) => {
    const topic = c.req.param("topic");
    checkTopicName(topic);
    const config = await getTopicConfig(c.env, topic);
    if (!config) throw new MQError("TOPIC_NOT_EXIST", `topic "${topic}" does not exist`);
    return c.json(config);
  })
  .put("/topics/:topic", async (c) => {
    const topic = c.req.param("topic");
    checkUserTopic(topic, reservedNames(readConfig(c.env)));
    const input = await readJson(c, TopicConfigSchema);
    const { created, config } = await upsertTopic(c.env, topic, input, "upsert");
    return c.json(config, created ? 201 : 200);
  })
  .delete("/topics/:topic", async (c) => {
    const topic = c.req.param("topic");
    checkUserTopic(topic, reservedNames(readConfig(c.env)));
    if (!(await deleteTopicWithMessages(c.env, topic))) throw new MQError("TOPIC_NOT_EXIST", `topic "${topic}" does not exist`);
    return c.json({ deleted: topic });
  })
  .get("/topics/:topic/route", async (c) => {
    const topic = c.req.param("topic");
    checkTopicName(topic);
    const config = readConfig(c.env);
    const stored = topic === AUTO_CREATE_TOPIC_KEY ? await autoCreateTemplate(c.env, config) : await getTopicConfig(c.env, topic);
    if (!stored || stored.queues.length === 0) throw new MQError("TOPIC_NOT_EXIST", `no route info of topic "${topic}"`);
    return c.json(toRoute(config, stored, await listBrokers(c.env)));
  })
  .get("/groups", async (c) => {
    const groups = await readNameServer(c.env, (ns) => ns.listGroups());
    return c.json({ groups });
  })
  .post("/brokers/:broker/wipe-write-perm", async (c) => {
    const topics = await setBrokerWritePerm(c.env, c.req.param("broker"), false);
    return c.json({ broker: c.req.param("broker"), topics });
  })
  .post("/brokers/:broker/add-write-perm", async (c) => {
    const topics = await setBrokerWritePerm(c.env, c.req.param("broker"), true);
    return c.json({ broker: c.req.param("broker"), topics });
  })
  .post("/brokers", async (c) => {
    const { brokerName } = await readJson(c, AddBrokerSchema);
    if (!isValidBrokerName(brokerName)) throw new MQError("VALIDATION_FAILED", `"${brokerName}" is not a valid broker name`);
    await addBroker(c.env, brokerName);
    const info = (await listBrokers(c.env, { fresh: true })).find((b) => b.brokerName === brokerName);
    return c.json(info ?? { brokerName }, 201);
  })
  .delete("/brokers/:broker", async (c) => {
    const broker = c.req.param("broker");
    if (!isValidBrokerName(broker)) throw new MQError("BROKER_NOT_EXIST", `broker "${broker}" is not registered`);
    await removeBroker(c.env, broker);
    return c.json({ removed: broker });
  })
  .get("/brokers", async (c) => {
    const config = readConfig(c.env);
    return c.json({
      clusterName: config.clusterName,
      autoCreateTopicEnable: config.autoCreateTopicEnable,
      nameServers: instanceNames(c.env),
      brokerExpiryMs: config.brokerExpiryMs,
      brokerHeartbeatIntervalMs: config.brokerHeartbeatIntervalMs,
      // The lag wakes up to 512 queue objects per broker: admins only (an open server has none).
      brokers: await clusterList(c.env, { replication: c.get("account")?.admin ?? true }),
    });
  });
