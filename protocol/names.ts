import { Limits } from "./limits.js";
import { MQError } from "./errors.js";

/** RocketMQ's legal name characters (TopicValidator / Validators). */
const NAME_PATTERN = /^[%|a-zA-Z0-9_-]+$/;

export const RETRY_PREFIX = "%RETRY%";
export const DLQ_PREFIX = "%DLQ%";
/** Template topic whose route the client uses for a topic that does not exist yet. */
export const AUTO_CREATE_TOPIC_KEY = "TBW102";

/** Topics RocketMQ reserves; users may neither create them nor send to them. */
const SYSTEM_TOPICS = new Set([
  AUTO_CREATE_TOPIC_KEY,
  "SCHEDULE_TOPIC_XXXX",
  "BenchmarkTest",
  "RMQ_SYS_TRANS_HALF_TOPIC",
  "RMQ_SYS_TRACE_TOPIC",
  "RMQ_SYS_TRANS_OP_HALF_TOPIC",
  "TRANS_CHECK_MAX_TIME_TOPIC",
  "SELF_TEST_TOPIC",
  "OFFSET_MOVED_EVENT",
]);

export function isSystemTopic(topic: string, reservedNames: readonly string[] = []): boolean {
  return (
    SYSTEM_TOPICS.has(topic) ||
    topic.startsWith(RETRY_PREFIX) ||
    topic.startsWith(DLQ_PREFIX) ||
    topic.toLowerCase().startsWith("rmq_sys_") ||
    reservedNames.includes(topic)
  );
}

/** Throws INVALID_TOPIC_NAME unless `topic` is a legal RocketMQ topic name. */
export function checkTopicName(topic: string): void {
  if (topic.length === 0 || topic.trim() !== topic) throw new MQError("INVALID_TOPIC_NAME", "topic name is blank");
  // Retry and dead-letter topics embed a group name, so they may be as long as a group name allows (as RocketMQ 5).
  const max = topic.startsWith(RETRY_PREFIX) || topic.startsWith(DLQ_PREFIX) ? Limits.maxGroupLength + RETRY_PREFIX.length : Limits.maxTopicLength;
  if (topic.length > max) throw new MQError("INVALID_TOPIC_NAME", `topic name is longer than ${max} characters`);
  if (!NAME_PATTERN.test(topic)) throw new MQError("INVALID_TOPIC_NAME", `topic name "${topic}" has characters outside ^[%|a-zA-Z0-9_-]+$`);
}

/** Throws unless `topic` is legal and not reserved: the check for user creates and sends. */
export function checkUserTopic(topic: string, reservedNames: readonly string[] = []): void {
  checkTopicName(topic);
  if (isSystemTopic(topic, reservedNames)) throw new MQError("SYSTEM_TOPIC_FORBIDDEN", `topic "${topic}" is a system topic and cannot be used directly`);
}

export function checkGroupName(group: string): void {
  if (group.length === 0) throw new MQError("INVALID_GROUP_NAME", "group name is blank");
  if (group.length > Limits.maxGroupLength) throw new MQError("INVALID_GROUP_NAME", `group name is longer than ${Limits.maxGroupLength} characters`);
  if (!NAME_PATTERN.test(group)) throw new MQError("INVALID_GROUP_NAME", `group name "${group}" has characters outside ^[%|a-zA-Z0-9_-]+$`);
}

/** Broker names are configuration, but they travel in URLs, so they obey the same alphabet. */
export function isValidBrokerName(name: string): boolean {
  return name.length > 0 && name.length <= Limits.maxBrokerNameLength && /^[a-zA-Z0-9_-]+$/.test(name);
}
