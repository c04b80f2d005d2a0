/**
 * A topic config as a SQLite row, shared by the broker's own table (topic_config) and the
 * NameServer's copy of every broker's table (broker_topic): one column set, one mapping.
 */
import { Perm, type BrokerTopicConfig } from "../protocol/route.js";

/** A topic's queue settings on one broker. */
export interface TopicQueues {
  readQueueNums: number;
  writeQueueNums: number;
  perm: number;
  topicSysFlag: number;
}

/** What a create or update asks of one broker (the broker list is the Worker's business). */
export interface TopicQueuesInput {
  queueNums?: number | undefined;
  readQueueNums?: number | undefined;
  writeQueueNums?: number | undefined;
  perm?: number | undefined;
}

export type TopicRow = {
  topic: string;
  read_queue_nums: number;
  write_queue_nums: number;
  perm: number;
  topic_sys_flag: number;
  created_at: number;
  updated_at: number;
};

/** The columns after `topic` (and any key columns), in the order `topicRowValues` gives them. */
export const TOPIC_ROW_COLUMNS = "read_queue_nums, write_queue_nums, perm, topic_sys_flag, created_at, updated_at";

export function topicRowValues(t: BrokerTopicConfig): [number, number, number, number, number, number] {
  return [t.readQueueNums, t.writeQueueNums, t.perm, t.topicSysFlag, t.createdAt, t.updatedAt];
}

export function toTopicConfig(r: TopicRow): BrokerTopicConfig {
  return {
    topic: r.topic,
    readQueueNums: r.read_queue_nums,
    writeQueueNums: r.write_queue_nums,
    perm: r.perm,
    topicSysFlag: r.topic_sys_flag,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export function sameTopicConfig(a: BrokerTopicConfig, b: BrokerTopicConfig): boolean {
  return topicRowValues(a).every((v, i) => v === topicRowValues(b)[i]);
}

/**
 * A broker's queues for a create or update: what the request says, else (for an update
 * that does not name queueNums) what the broker has, else the deployment default.
 */
export function mergeQueues(input: TopicQueuesInput, before: TopicQueues | null, defaultQueueNums: number): TopicQueues {
  const nums = input.queueNums ?? defaultQueueNums;
  const keep = input.queueNums === undefined;
  return {
    readQueueNums: input.readQueueNums ?? (keep ? before?.readQueueNums : undefined) ?? nums,
    writeQueueNums: input.writeQueueNums ?? (keep ? before?.writeQueueNums : undefined) ?? nums,
    perm: input.perm ?? before?.perm ?? Perm.READ | Perm.WRITE,
    topicSysFlag: 0,
  };
}
