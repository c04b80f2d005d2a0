/**
 * Checks that a (broker, topic, queueId) named in a URL exists and allows the access asked
 * for, auto-creating the topic on a first send when the deployment allows it.
 */
import { MQError } from "../../protocol/errors.js";
import { checkTopicName, checkUserTopic, isValidBrokerName } from "../../protocol/names.js";
import { canRead, canWrite, notWritableMessage, permText, type LiveBrokerInfo, type QueueData, type TopicConfig } from "../../protocol/route.js";
import type { MessageQueue } from "../../protocol/message.js";
import { readConfig, type Config } from "../../cluster/config.js";
import type { Env } from "../../cluster/env.js";
import { reservedNames } from "../namesrv/routes.js";
import { getTopicConfig, listBrokers, recheckBrokers, upsertTopic } from "../../cluster/topic-registry.js";
import { uintParam } from "../shared/validate.js";

/**
 * read: pull side; write: send side (user topics only, may auto-create); write-admin: a
 * decision on an already stored message (needs write perm, never auto-creates); admin: stats.
 */
export type Access = "read" | "write" | "write-admin" | "admin";

export interface ResolvedQueue {
  mq: MessageQueue;
  queueData: QueueData;
  /** False when only the broker's slaves are registering: reads go to a slave directly. */
  masterAlive: boolean;
  /** The slave members registering now, in brokerId order. */
  aliveSlaves: number[];
}

function checkTopicFor(topic: string, access: Access, config: Config): void {
  if (access === "write") checkUserTopic(topic, reservedNames(config));
  else checkTopicName(topic);
}

/** The topic's configuration, checked for the access asked; a first send may create it. */
export async function topicFor(env: Env, topic: string, access: Access): Promise<TopicConfig> {
  const config = readConfig(env);
  checkTopicFor(topic, access, config);
  let topicConfig = await getTopicConfig(env, topic);
  if (!topicConfig && access === "write" && config.autoCreateTopicEnable) {
    topicConfig = (await upsertTopic(env, topic, {}, "createIfAbsent")).config;
  }
  if (!topicConfig) throw new MQError("TOPIC_NOT_EXIST", `topic "${topic}" does not exist`);
  return topicConfig;
}

function isLegalTopicName(topic: string): boolean {
  try {
    checkTopicName(topic);
    return true;
  } catch {
    return false;
  }
}

/**
 * The broker's live registration. The broker list and the topic routes are cached apart, each
 * for routeCacheTtlMs, so just after a broker returns a route may already name it while the
 * cached list still has it expired. A producer following that route must not be refused, so a
 * broker the cached list knows as expired is rechecked against the NameServers when the topic's
 * route names it (recheckBrokers: shared and at most once a second). A name the list does not
 * know costs nothing more, and a recheck that fails leaves the refusal as it was.
 */
async function liveBroker(env: Env, broker: string, topic: string): Promise<LiveBrokerInfo | undefined> {
  const cachedList = await listBrokers(env);
  const known = cachedList.find((b) => b.brokerName === broker);
  if (!known || known.alive || !isLegalTopicName(topic)) return known?.alive ? known : undefined; // a bad topic is refused after this
  try {
    const route = await getTopicConfig(env, topic);
    if (!route?.queues.some((q) => q.brokerName === broker)) return undefined;
    return (await recheckBrokers(env)).find((b) => b.brokerName === broker && b.alive);
  } catch {
    return undefined;
  }
}

export async function resolveQueue(env: Env, params: { broker: string; topic: string; queueId: string }, access: Access): Promise<ResolvedQueue> {
  const config = readConfig(env);
  const { broker, topic } = params;
  const info = isValidBrokerName(broker) ? await liveBroker(env, broker, topic) : undefined;
  if (!info) throw new MQError("BROKER_NOT_EXIST", `broker "${broker}" is not registered (or has expired)`);
  checkTopicFor(topic, access, config);
  const queueId = uintParam(params.queueId, "queueId", { code: "QUEUE_ID_ILLEGAL" });
  const topicConfig = await topicFor(env, topic, access);
  const queueData = topicConfig.queues.find((q) => q.brokerName === broker);
  if (!queueData) throw new MQError("TOPIC_NOT_EXIST", `topic "${topic}" has no queues on broker "${broker}"`);
  const queueCount = Math.max(queueData.readQueueNums, queueData.writeQueueNums);
  if (queueId >= queueCount) throw new MQError("QUEUE_ID_ILLEGAL", `queueId ${queueId} is illegal: topic "${topic}" has ${queueCount} queues on "${broker}"`);
  if ((access === "write" || access === "write-admin") && !canWrite(queueData.perm)) throw new MQError("NO_PERMISSION", notWritableMessage(topic, [queueData]));
  if (access === "read" && !canRead(queueData.perm))
    throw new MQError("NO_PERMISSION", `topic "${topic}" is not readable: its permission is ${permText(queueData.perm)} on ${broker}; a read needs R (4 or 6)`);
  const aliveSlaves = Object.keys(info.brokerAddrs)
    .map(Number)
    .filter((id) => id > 0)
    .sort((a, b) => a - b);
  return { mq: { topic, brokerName: broker, queueId }, queueData, masterAlive: info.brokerAddrs["0"] !== undefined, aliveSlaves };
}
