/**
 * Topic configs as the Worker sees them. Reads come from the NameServer instances (the route
 * table brokers registered), behind a short in-isolate cache so the send and pull hot path
 * does not call a NameServer on every request. Writes go to the brokers, which own their
 * topic tables and register the change with every NameServer before answering.
 */
import { MQError } from "../protocol/errors.js";
import { Limits } from "../protocol/limits.js";
import { AUTO_CREATE_TOPIC_KEY } from "../protocol/names.js";
import { Perm, type LiveBrokerInfo, type TopicConfig } from "../protocol/route.js";
import type { TopicConfigInput } from "../protocol/schemas.js";
import { readConfig, type Config } from "./config.js";
import { readNameServer } from "./nameservers.js";
import type { Env } from "./env.js";
import { callRpc } from "./rpc-errors.js";
import { brokerStub, endTopicChannels, purgeTopicQueues } from "./stubs.js";

interface CacheEntry<T> {
  value: T;
  expiresAt: number;
}
const cache = new Map<string, CacheEntry<TopicConfig | null>>();
let brokerCache: CacheEntry<LiveBrokerInfo[]> | null = null;
const CACHE_MAX_ENTRIES = 10_000;

/** How a topic write treats a topic the broker already holds. */
export type TopicWriteMode = "create" | "upsert" | "createIfAbsent";

let started: Promise<void> | null = null;
/** A broker start that has not answered by then is left to finish (or fail) on its own. */
const START_WAIT_MS = 5000;
const START_RETRY_MS = 10_000;

/**
 * Starts the configured brokers once per isolate (each then keeps itself registered on its
 * own alarm). Best effort: a broker that fails or hangs costs the first request at most
 * START_WAIT_MS and is tried again a little later, while the others serve. Brokers added at
 * run time start when added.
 */
export function ensureBrokersStarted(env: Env): Promise<void> {
  if (started) return started;
  const starts = readConfig(env).brokers.map((b) => callRpc(() => brokerStub(env, b).start(b)));
  let timer: ReturnType<typeof setTimeout> | undefined;
  const waited = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, START_WAIT_MS);
  });
  const all = Promise.allSettled(starts).then((results) => {
    if (timer !== undefined) clearTimeout(timer);
    brokerCache = null;
    if (results.some((r) => r.status === "rejected")) setTimeout(() => (started = null), START_RETRY_MS);
  });
  started = Promise.race([all, waited]);
  return started;
}

/** Every broker the NameServers know, alive or expired, cached like routes. */
export async function listBrokers(env: Env, options: { fresh?: boolean } = {}): Promise<LiveBrokerInfo[]> {
  await ensureBrokersStarted(env);
  const now = Date.now();
  if (!options.fresh && brokerCache && brokerCache.expiresAt > now) return brokerCache.value;
  const value = await readNameServer(env, (ns) => ns.listBrokers());
  brokerCache = { value, expiresAt: now + readConfig(env).routeCacheTtlMs };
  return value;
}

/** Rechecks of the broker list made for a request (recheckBrokers) are at most this often per isolate. */
const RECHECK_INTERVAL_MS = 1000;
let recheck: { startedAt: number; value: Promise<LiveBrokerInfo[]> } | null = null;

/**
 * The broker list read again from the NameServers for a request that found a broker expired in
 * the cached list while its topic's route names it (the two caches refresh apart). While a
 * broker is really gone such requests keep coming, so concurrent ones share one read and a read
 * is made at most every RECHECK_INTERVAL_MS; in between, the list the last one got is the answer.
 */
export function recheckBrokers(env: Env): Promise<LiveBrokerInfo[]> {
  const now = Date.now();
  if (recheck && now - recheck.startedAt < RECHECK_INTERVAL_MS) return recheck.value;
  const value = listBrokers(env, { fresh: true });
  recheck = { startedAt: now, value };
  value.catch(() => (recheck = null)); // a failed read is not remembered
  return value;
}

/** Brokers that can take topics and writes: their master is alive. */
export async function liveBrokerNames(env: Env, options: { fresh?: boolean } = {}): Promise<string[]> {
  return (await listBrokers(env, options)).filter((b) => b.brokerAddrs["0"] !== undefined).map((b) => b.brokerName);
}

export async function getTopicConfig(env: Env, topic: string): Promise<TopicConfig | null> {
  await ensureBrokersStarted(env);
  const now = Date.now();
  const hit = cache.get(topic);
  if (hit && hit.expiresAt > now) return hit.value;
  const value = await readNameServer(env, (ns) => ns.getTopic(topic));
  if (cache.size >= CACHE_MAX_ENTRIES) cache.clear();
  cache.set(topic, { value, expiresAt: now + readConfig(env).routeCacheTtlMs });
  return value;
}

export async function listTopicConfigs(env: Env): Promise<TopicConfig[]> {
  await ensureBrokersStarted(env);
  return readNameServer(env, (ns) => ns.listTopics());
}

/**
 * Creates or updates a topic on the brokers named (default: the brokers holding it, or every
 * live broker for a new topic); a broker dropped from the list loses the topic.
 */
export async function upsertTopic(env: Env, topic: string, input: TopicConfigInput, mode: TopicWriteMode): Promise<{ created: boolean; config: TopicConfig }> {
  await ensureBrokersStarted(env);
  const previous = await readNameServer(env, (ns) => ns.getTopic(topic));
  if (previous && mode === "create") throw new MQError("TOPIC_ALREADY_EXISTS", `topic "${topic}" already exists`);
  if (previous && mode === "createIfAbsent") return { created: false, config: previous };
  const live = await liveBrokerNames(env, { fresh: true });
  const brokers = [...new Set(input.brokers ?? previous?.queues.map((q) => q.brokerName) ?? live)];
  const unknown = brokers.find((b) => !live.includes(b));
  if (unknown !== undefined) throw new MQError("BROKER_NOT_EXIST", `broker "${unknown}" is not registered, or its master has expired`);
  if (brokers.length === 0) throw new MQError("SERVICE_UNAVAILABLE", "no live broker to place the topic on");
  // Each broker merges the request with what it holds (one call per broker).
  const { brokers: _placement, ...queues } = input;
  const results = await Promise.all(brokers.map((b) => callRpc(() => brokerStub(env, b).upsertTopic(topic, queues, mode === "create" ? "create" : "upsert"))));
  for (const q of previous?.queues ?? []) {
    if (!brokers.includes(q.brokerName)) await callRpc(() => brokerStub(env, q.brokerName).deleteTopic(topic));
  }
  cache.delete(topic);
  if (previous) await endTopicChannels(env, previous);
  const stored = await readNameServer(env, (ns) => ns.getTopic(topic));
  if (!stored) throw new MQError("SERVICE_UNAVAILABLE", `topic "${topic}" is stored on its brokers but no NameServer has it yet; retry`);
  return { created: results.some((r) => r.created) && !previous, config: stored };
}

/** The topic on every broker holding it, expired ones included (what a delete must reach). */
export async function getTopicEverywhere(env: Env, topic: string): Promise<TopicConfig | null> {
  await ensureBrokersStarted(env);
  return readNameServer(env, (ns) => ns.getTopic(topic, Date.now(), { includeExpired: true }));
}

/** Deletes a topic from every broker holding it, expired ones included; returns what they held. */
export async function deleteTopic(env: Env, topic: string): Promise<TopicConfig | null> {
  const previous = await getTopicEverywhere(env, topic);
  if (!previous) return null;
  await Promise.all(previous.queues.map((q) => callRpc(() => brokerStub(env, q.brokerName).deleteTopic(topic))));
  cache.delete(topic);
  await endTopicChannels(env, previous);
  return previous;
}

/**
 * Deletes a topic and its messages (mqadmin deleteTopic); false when no broker held it.
 * RocketMQ leaves the files for its cleaner; here the queues are emptied first (slaves, then
 * masters), so a topic created again starts from offset 0, and a failed purge leaves the topic
 * in place for a retry. Brokers that stopped heartbeating are included: left out, they would
 * bring the topic back with its old messages when they return.
 */
export async function deleteTopicWithMessages(env: Env, topic: string): Promise<boolean> {
  const existing = await getTopicEverywhere(env, topic);
  if (!existing) return false;
  await purgeTopicQueues(env, existing);
  return (await deleteTopic(env, topic)) !== null;
}

/**
 * The template route clients use for a topic that does not exist yet (RocketMQ's TBW102):
 * present only while auto-create is on, with perm INHERIT|READ|WRITE on every live broker.
 */
export async function autoCreateTemplate(env: Env, config: Config): Promise<TopicConfig | null> {
  if (!config.autoCreateTopicEnable) return null;
  const brokers = await listBrokers(env);
  return {
    topic: AUTO_CREATE_TOPIC_KEY,
    queues: brokers
      .filter((b) => b.brokerAddrs["0"] !== undefined)
      .map((b) => ({
        brokerName: b.brokerName,
        readQueueNums: config.defaultTopicQueueNums,
        writeQueueNums: config.defaultTopicQueueNums,
        // A drained broker takes no new topics either.
        perm: Perm.INHERIT | Perm.READ | (b.permission & Perm.WRITE),
        topicSysFlag: 0,
      })),
    createdAt: 0,
    updatedAt: 0,
  };
}

/** Removes (drain) or restores the write permission of a broker, as a broker setting. */
export async function setBrokerWritePerm(env: Env, brokerName: string, writable: boolean): Promise<string[]> {
  const known = await listBrokers(env, { fresh: true });
  if (!known.some((b) => b.brokerName === brokerName)) throw new MQError("BROKER_NOT_EXIST", `broker "${brokerName}" is not registered`);
  const topics = await callRpc(() => brokerStub(env, brokerName).setWritable(writable));
  cache.clear();
  brokerCache = null;
  // A drained broker takes no more sends, also over channels opened before.
  if (!writable) {
    const configs = await Promise.all(topics.map((t) => readNameServer(env, (ns) => ns.getTopic(t, Date.now(), { includeExpired: true }))));
    await Promise.all(configs.filter((c) => c !== null).map((c) => endTopicChannels(env, c, brokerName)));
  }
  return topics;
}

/**
 * Removes a broker that holds no topics: it stops heartbeating and every NameServer forgets it.
 * A broker named in BROKERS would start again with the next isolate, so it is refused.
 */
export async function removeBroker(env: Env, brokerName: string): Promise<void> {
  if (readConfig(env).brokers.includes(brokerName))
    throw new MQError("VALIDATION_FAILED", `broker "${brokerName}" is configured in BROKERS; remove it there first`);
  const known = await listBrokers(env, { fresh: true });
  if (!known.some((b) => b.brokerName === brokerName)) throw new MQError("BROKER_NOT_EXIST", `broker "${brokerName}" is not registered`);
  await callRpc(() => brokerStub(env, brokerName).shutdown());
  brokerCache = null;
  cache.clear();
}

/** Adds a broker to the running deployment: it starts, registers, and takes new topics. */
export async function addBroker(env: Env, brokerName: string): Promise<void> {
  const known = await listBrokers(env, { fresh: true });
  if (!known.some((b) => b.brokerName === brokerName) && known.length >= Limits.maxBrokers)
    throw new MQError("VALIDATION_FAILED", `a deployment has at most ${Limits.maxBrokers} brokers`);
  await callRpc(() => brokerStub(env, brokerName).start(brokerName));
  brokerCache = null;
}
