/**
 * Reads and writes of topic configs through the NameServer object, with a short in-isolate
 * cache so the send and pull hot path does not call the NameServer on every request.
 * Writes made through this isolate drop its cached entry at once; other isolates see them
 * within the cache TTL.
 */
import { MQError } from "../../protocol/errors.js";
import { AUTO_CREATE_TOPIC_KEY } from "../../protocol/names.js";
import { Perm, type QueueData, type TopicConfig } from "../../protocol/route.js";
import type { TopicConfigInput } from "../../protocol/schemas.js";
import type { UpsertMode, UpsertResult } from "../../durable-objects/namesrv.js";
import { readConfig, type Config } from "../config.js";
import { readNameServer, writeNameServers } from "./instances.js";
import type { Env } from "../env.js";


interface CacheEntry {
  value: TopicConfig | null;
  expiresAt: number;
}
const cache = new Map<string, CacheEntry>();
const CACHE_MAX_ENTRIES = 10_000;


export async function getTopicConfig(env: Env, topic: string): Promise<TopicConfig | null> {
  const now = Date.now();
  const hit = cache.get(topic);
  if (hit && hit.expiresAt > now) return hit.value;
  const value = await readNameServer(env, (ns) => ns.getTopic(topic));
  if (cache.size >= CACHE_MAX_ENTRIES) cache.clear();
  cache.set(topic, { value, expiresAt: now + readConfig(env).routeCacheTtlMs });
  return value;
}

export async function listTopicConfigs(env: Env): Promise<TopicConfig[]> {
  return readNameServer(env, (ns) => ns.listTopics());
}

/** Expands a create/update request into per-broker queue data, checking brokers exist. */
export function queuesFor(config: Config, input: TopicConfigInput, previous?: TopicConfig | null): QueueData[] {
  const brokers = input.brokers ?? previous?.queues.map((q) => q.brokerName) ?? config.brokers;
  const unknown = brokers.find((b) => !config.brokers.includes(b));
  if (unknown !== undefined) throw new MQError("BROKER_NOT_EXIST", `broker "${unknown}" is not configured`);
  const unique = [...new Set(brokers)];
  return unique.map((brokerName) => {
    const before = previous?.queues.find((q) => q.brokerName === brokerName);
    const nums = input.queueNums ?? config.defaultTopicQueueNums;
    return {
      brokerName,
      readQueueNums: input.readQueueNums ?? (input.queueNums === undefined ? before?.readQueueNums : undefined) ?? nums,
      writeQueueNums: input.writeQueueNums ?? (input.queueNums === undefined ? before?.writeQueueNums : undefined) ?? nums,
      perm: input.perm ?? before?.perm ?? Perm.READ | Perm.WRITE,
      topicSysFlag: 0,
    };
  });
}

export async function upsertTopic(
  env: Env,
  topic: string,
  input: TopicConfigInput,
  mode: UpsertMode,
): Promise<{ created: boolean; config: TopicConfig }> {
  const config = readConfig(env);
  const previous = mode === "upsert" ? await readNameServer(env, (ns) => ns.getTopic(topic)) : null;
  const queues = queuesFor(config, input, previous);
  const result = await writeNameServers<UpsertResult>(env, async (ns) => (await ns.upsertTopic(topic, queues, mode)) as UpsertResult);
  cache.delete(topic);
  if (!result.ok) throw new MQError("TOPIC_ALREADY_EXISTS", `topic "${topic}" already exists`);
  return { created: result.created, config: result.config };
}

export async function deleteTopic(env: Env, topic: string): Promise<TopicConfig | null> {
  const removed = await writeNameServers(env, (ns) => ns.deleteTopic(topic));
  cache.delete(topic);
  return removed;
}

/**
 * The template route clients use for a topic that does not exist yet (RocketMQ's TBW102):
 * present only while auto-create is on, with perm INHERIT|READ|WRITE on every broker.
 */
export function autoCreateTemplate(config: Config): TopicConfig | null {
  if (!config.autoCreateTopicEnable) return null;
  return {
    topic: AUTO_CREATE_TOPIC_KEY,
    queues: config.brokers.map((brokerName) => ({
      brokerName,
      readQueueNums: config.defaultTopicQueueNums,
      writeQueueNums: config.defaultTopicQueueNums,
      perm: Perm.INHERIT | Perm.READ | Perm.WRITE,
      topicSysFlag: 0,
    })),
    createdAt: 0,
    updatedAt: 0,
  };
}

/** Removes (drain) or restores the write permission of every topic on a broker. */
export async function setBrokerWritePerm(env: Env, brokerName: string, writable: boolean): Promise<string[]> {
  const config = readConfig(env);
  if (!config.brokers.includes(brokerName)) throw new MQError("BROKER_NOT_EXIST", `broker "${brokerName}" is not configured`);
  const changed = await writeNameServers(env, (ns) => ns.setBrokerPerm(brokerName, Perm.WRITE, writable));
  cache.clear();
  return changed;
}
