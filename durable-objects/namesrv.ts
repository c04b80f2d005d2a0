/**
 * NameServer: the route table as RocketMQ's RouteInfoManager keeps it. It owns nothing:
 * brokers own their topic tables and register them here on every heartbeat; a broker not
 * heard from for the expiry leaves the routes. One object per NameServer instance (`ns-0`),
 * and instances never talk to each other: every broker registers with each of them.
 */
import { DurableObject } from "cloudflare:workers";
import {
  brokerAddrs,
  type BrokerRegistration,
  type BrokerRole,
  type BrokerTopicConfig,
  type LiveBrokerInfo,
  type QueueData,
  type TopicConfig,
} from "../protocol/route.js";
import { readConfig } from "../workers/config.js";
import type { Env } from "../workers/env.js";

type BrokerRow = {
  broker_name: string;
  cluster: string;
  broker_ids: string;
  permission: number;
  data_version: number;
  last_update: number;
};

type BrokerTopicRow = {
  topic: string;
  broker_name: string;
  read_queue_nums: number;
  write_queue_nums: number;
  perm: number;
  topic_sys_flag: number;
  created_at: number;
  updated_at: number;
};

export interface RegisterResult {
  /** True when a heartbeat without topics found an older table: the broker sends the full one. */
  stale: boolean;
}

export class NameServerDO extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    void ctx.blockConcurrencyWhile(async () => {
      // `topic` is the table of releases before brokers owned their topics; brokers import
      // their share of it once (legacyTopics) and it is not written any more.
      this.sql.exec(`CREATE TABLE IF NOT EXISTS topic (
        topic TEXT PRIMARY KEY,
        queues TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) WITHOUT ROWID`);
      this.sql.exec("CREATE TABLE IF NOT EXISTS consumer_group (grp TEXT PRIMARY KEY, last_seen_at INTEGER NOT NULL) WITHOUT ROWID");
      this.sql.exec(`CREATE TABLE IF NOT EXISTS broker_live (
        broker_name TEXT PRIMARY KEY,
        cluster TEXT NOT NULL,
        broker_ids TEXT NOT NULL,
        permission INTEGER NOT NULL,
        data_version INTEGER NOT NULL,
        last_update INTEGER NOT NULL
      ) WITHOUT ROWID`);
      this.sql.exec(`CREATE TABLE IF NOT EXISTS broker_topic (
        topic TEXT NOT NULL,
        broker_name TEXT NOT NULL,
        read_queue_nums INTEGER NOT NULL,
        write_queue_nums INTEGER NOT NULL,
        perm INTEGER NOT NULL,
        topic_sys_flag INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (topic, broker_name)
      ) WITHOUT ROWID`);
    });
  }

  /**
   * A broker's heartbeat. A plain heartbeat writes one row; a changed topic table writes only
   * the topics that differ from what this instance holds.
   */
  registerBroker(reg: BrokerRegistration, now: number = Date.now()): RegisterResult {
    const existing = this.sql.exec<BrokerRow>("SELECT * FROM broker_live WHERE broker_name = ?", reg.brokerName).toArray()[0];
    const stale = reg.topics === null && (!existing || existing.data_version !== reg.dataVersion);
    // A full table older than the one held (two registrations crossing) only counts as a heartbeat.
    const outdated = reg.topics !== null && existing !== undefined && reg.dataVersion < existing.data_version;
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(
        `INSERT INTO broker_live (broker_name, cluster, broker_ids, permission, data_version, last_update) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(broker_name) DO UPDATE SET cluster = excluded.cluster, broker_ids = excluded.broker_ids,
           permission = excluded.permission, data_version = excluded.data_version, last_update = excluded.last_update`,
        reg.brokerName,
        reg.clusterName,
        JSON.stringify(reg.brokerIds),
        reg.permission,
        // A stale heartbeat must not record the new version before its topics arrive.
        stale || outdated ? (existing?.data_version ?? -1) : reg.dataVersion,
        now,
      );
      if (reg.topics !== null && !outdated) this.replaceTopics(reg.brokerName, reg.topics);
    });
    return { stale };
  }

  /** A broker leaving on purpose (RocketMQ unregisterBroker): its queues leave the routes at once. */
  unregisterBroker(brokerName: string): void {
    this.ctx.storage.transactionSync(() => {
      this.sql.exec("DELETE FROM broker_live WHERE broker_name = ?", brokerName);
      this.sql.exec("DELETE FROM broker_topic WHERE broker_name = ?", brokerName);
    });
  }

  /** Every broker this instance knows, alive or expired (an expired one is out of the routes). */
  listBrokers(now: number = Date.now()): LiveBrokerInfo[] {
    const expiry = readConfig(this.env).brokerExpiryMs;
    const counts = new Map(
      this.sql
        .exec<{ broker_name: string; n: number }>("SELECT broker_name, COUNT(*) AS n FROM broker_topic GROUP BY broker_name")
        .toArray()
        .map((r) => [r.broker_name, r.n]),
    );
    return this.sql
      .exec<BrokerRow>("SELECT * FROM broker_live ORDER BY broker_name")
      .toArray()
      .map((r) => {
        const brokerIds = JSON.parse(r.broker_ids) as Record<string, BrokerRole>;
        return {
          clusterName: r.cluster,
          brokerName: r.broker_name,
          brokerIds,
          brokerAddrs: brokerAddrs(r.broker_name, brokerIds),
          permission: r.permission,
          dataVersion: r.data_version,
          lastUpdateTimestamp: r.last_update,
          alive: r.last_update > now - expiry,
          topicCount: counts.get(r.broker_name) ?? 0,
        };
      });
  }

  /**
   * The topic's queues on live brokers; null when no live broker holds it. `includeExpired`
   * adds brokers that stopped heartbeating (for a delete, which must reach them too).
   */
  getTopic(topic: string, now: number = Date.now(), options: { includeExpired?: boolean } = {}): TopicConfig | null {
    const since = options.includeExpired ? Number.MIN_SAFE_INTEGER : now - readConfig(this.env).brokerExpiryMs;
    const rows = this.sql
      .exec<BrokerTopicRow>(
        `SELECT t.* FROM broker_topic t JOIN broker_live b ON b.broker_name = t.broker_name
         WHERE t.topic = ? AND b.last_update > ? ORDER BY t.broker_name`,
        topic,
        since,
      )
      .toArray();
    return toConfigs(rows)[0] ?? null;
  }

  listTopics(now: number = Date.now()): TopicConfig[] {
    const rows = this.sql
      .exec<BrokerTopicRow>(
        `SELECT t.* FROM broker_topic t JOIN broker_live b ON b.broker_name = t.broker_name
         WHERE b.last_update > ? ORDER BY t.topic, t.broker_name`,
        now - readConfig(this.env).brokerExpiryMs,
      )
      .toArray();
    return toConfigs(rows);
  }

  /** The topics a broker held in the table of earlier releases, for its one-time import. */
  legacyTopics(brokerName: string): BrokerTopicConfig[] {
    const out: BrokerTopicConfig[] = [];
    for (const row of this.sql.exec<{ topic: string; queues: string; created_at: number; updated_at: number }>("SELECT * FROM topic")) {
      const q = (JSON.parse(row.queues) as QueueData[]).find((d) => d.brokerName === brokerName);
      if (!q) continue;
      out.push({
        topic: row.topic,
        readQueueNums: q.readQueueNums,
        writeQueueNums: q.writeQueueNums,
        perm: q.perm,
        topicSysFlag: q.topicSysFlag,
        createdAt: row.created_at,
        updatedAt: row.updated_at,
      });
    }
    return out;
  }

  /** Records a consumer group (written when a member joins, not on every heartbeat). */
  registerGroup(group: string, now: number): void {
    this.sql.exec("INSERT OR REPLACE INTO consumer_group (grp, last_seen_at) VALUES (?, ?)", group, now);
  }

  listGroups(): { group: string; lastSeenAt: number }[] {
    return this.sql
      .exec<{ grp: string; last_seen_at: number }>("SELECT grp, last_seen_at FROM consumer_group ORDER BY grp")
      .toArray()
      .map((r) => ({ group: r.grp, lastSeenAt: r.last_seen_at }));
  }

  private replaceTopics(brokerName: string, topics: readonly BrokerTopicConfig[]): void {
    const held = new Map(
      this.sql
        .exec<BrokerTopicRow>("SELECT * FROM broker_topic WHERE broker_name = ?", brokerName)
        .toArray()
        .map((r) => [r.topic, r]),
    );
    for (const t of topics) {
      const before = held.get(t.topic);
      held.delete(t.topic);
      if (before && sameTopic(before, t)) continue;
      this.sql.exec(
        `INSERT OR REPLACE INTO broker_topic
           (topic, broker_name, read_queue_nums, write_queue_nums, perm, topic_sys_flag, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        t.topic,
        brokerName,
        t.readQueueNums,
        t.writeQueueNums,
        t.perm,
        t.topicSysFlag,
        t.createdAt,
        t.updatedAt,
      );
    }
    for (const topic of held.keys()) this.sql.exec("DELETE FROM broker_topic WHERE topic = ? AND broker_name = ?", topic, brokerName);
  }
}

function sameTopic(row: BrokerTopicRow, t: BrokerTopicConfig): boolean {
  return (
    row.read_queue_nums === t.readQueueNums &&
    row.write_queue_nums === t.writeQueueNums &&
    row.perm === t.perm &&
    row.topic_sys_flag === t.topicSysFlag &&
    row.created_at === t.createdAt &&
    row.updated_at === t.updatedAt
  );
}

/** Groups rows (ordered by topic) into one TopicConfig per topic. */
function toConfigs(rows: readonly BrokerTopicRow[]): TopicConfig[] {
  const out: TopicConfig[] = [];
  for (const r of rows) {
    let config = out[out.length - 1];
    if (!config || config.topic !== r.topic) {
      config = { topic: r.topic, queues: [], createdAt: r.created_at, updatedAt: r.updated_at };
      out.push(config);
    }
    config.queues.push({
      brokerName: r.broker_name,
      readQueueNums: r.read_queue_nums,
      writeQueueNums: r.write_queue_nums,
      perm: r.perm,
      topicSysFlag: r.topic_sys_flag,
    });
    config.createdAt = Math.min(config.createdAt, r.created_at);
    config.updatedAt = Math.max(config.updatedAt, r.updated_at);
  }
  return out;
}
