/**
 * NameServer: the route table as RocketMQ's RouteInfoManager keeps it. It owns nothing:
 * brokers own their topic tables and register them here on every heartbeat; a broker not
 * heard from for the expiry leaves the routes. One object per NameServer instance (`ns-0`),
 * and instances never talk to each other: every broker registers with each of them.
 */
import { DurableObject } from "cloudflare:workers";
import {
  Perm,
  brokerAddress,
  type BrokerRegistration,
  type BrokerRole,
  type BrokerTopicConfig,
  type LiveBrokerInfo,
  type QueueData,
  type TopicConfig,
} from "../protocol/route.js";
import { readConfig } from "../cluster/config.js";
import { TOPIC_ROW_COLUMNS, sameTopicConfig, toTopicConfig, topicRowValues, type TopicRow } from "./topic-row.js";
import type { Env } from "../cluster/env.js";
import { applyMigrations } from "./shared/migrate.js";
import { trackActivity } from "./shared/activity.js";

const MIGRATIONS: readonly string[] = [
  // v1: the layout before versions existed. `topic` is the table of releases before brokers
  // owned their topics; brokers import their share of it once (legacyTopics) and it is not
  // written any more. One row per broker member (master and each slave register on their
  // own), and the version of the topic table held for each broker name. broker_live was an
  // earlier development layout, never released.
  `CREATE TABLE IF NOT EXISTS topic (
     topic TEXT PRIMARY KEY,
     queues TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE IF NOT EXISTS consumer_group (grp TEXT PRIMARY KEY, last_seen_at INTEGER NOT NULL) WITHOUT ROWID;
   CREATE TABLE IF NOT EXISTS broker_member (
     broker_name TEXT NOT NULL,
     broker_id INTEGER NOT NULL,
     cluster TEXT NOT NULL,
     role TEXT NOT NULL,
     permission INTEGER NOT NULL,
     data_version INTEGER NOT NULL,
     last_update INTEGER NOT NULL,
     PRIMARY KEY (broker_name, broker_id)
   ) WITHOUT ROWID;
   CREATE TABLE IF NOT EXISTS broker_table (broker_name TEXT PRIMARY KEY, incarnation INTEGER NOT NULL, data_version INTEGER NOT NULL) WITHOUT ROWID;
   DROP TABLE IF EXISTS broker_live;
   CREATE TABLE IF NOT EXISTS broker_topic (
     topic TEXT NOT NULL,
     broker_name TEXT NOT NULL,
     read_queue_nums INTEGER NOT NULL,
     write_queue_nums INTEGER NOT NULL,
     perm INTEGER NOT NULL,
     topic_sys_flag INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (topic, broker_name)
   ) WITHOUT ROWID;`,
  // v2: producer groups, registered by their objects when a producer polls for checks, a check
  // waits for one, or a webhook is set (the dashboard's producer view lists them).
  "CREATE TABLE IF NOT EXISTS producer_group (grp TEXT PRIMARY KEY, last_seen_at INTEGER NOT NULL) WITHOUT ROWID",
];

type MemberRow = {
  broker_name: string;
  broker_id: number;
  cluster: string;
  role: BrokerRole;
  permission: number;
  data_version: number;
  last_update: number;
};

type BrokerTopicRow = TopicRow & { broker_name: string };

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
      applyMigrations(this.sql, MIGRATIONS, "_meta");
    });
  }

  /**
   * A broker member's heartbeat. A plain heartbeat writes one row; a changed topic table writes
   * only the topics that differ from what this instance holds. A table older than the one held
   * (a slave's copy lagging, or two registrations crossing) only counts as a heartbeat.
   */
  registerBroker(reg: BrokerRegistration, now: number = Date.now()): RegisterResult {
    const held = this.sql
      .exec<{ incarnation: number; data_version: number }>("SELECT incarnation, data_version FROM broker_table WHERE broker_name = ?", reg.brokerName)
      .toArray()[0];
    // Newer means a later incarnation of the master, or the same one with a higher version.
    const newer = !held || reg.incarnation > held.incarnation || (reg.incarnation === held.incarnation && reg.dataVersion > held.data_version);
    const same = held !== undefined && reg.incarnation === held.incarnation && reg.dataVersion === held.data_version;
    const stale = reg.topics === null && newer;
    const takeTopics = reg.topics !== null && (newer || same);
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(
        `INSERT OR REPLACE INTO broker_member (broker_name, broker_id, cluster, role, permission, data_version, last_update)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        reg.brokerName,
        reg.brokerId,
        reg.clusterName,
        reg.role,
        reg.permission,
        reg.dataVersion,
        now,
      );
      if (takeTopics) {
        this.sql.exec(
          "INSERT OR REPLACE INTO broker_table (broker_name, incarnation, data_version) VALUES (?, ?, ?)",
          reg.brokerName,
          reg.incarnation,
          reg.dataVersion,
        );
        this.replaceTopics(reg.brokerName, reg.topics!);
      }
    });
    return { stale };
  }

  /** A broker leaving on purpose (RocketMQ unregisterBroker): its queues leave the routes at once. */
  unregisterBroker(brokerName: string): void {
    this.ctx.storage.transactionSync(() => {
      this.sql.exec("DELETE FROM broker_member WHERE broker_name = ?", brokerName);
      this.sql.exec("DELETE FROM broker_table WHERE broker_name = ?", brokerName);
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
    const out: LiveBrokerInfo[] = [];
    // A slave member beyond BROKER_SLAVES (the count was lowered) is no member any more.
    const slaves = readConfig(this.env).slavesPerBroker;
    for (const r of this.sql.exec<MemberRow>("SELECT * FROM broker_member WHERE broker_id <= ? ORDER BY broker_name, broker_id", slaves)) {
      let b = out[out.length - 1];
      if (!b || b.brokerName !== r.broker_name) {
        b = {
          clusterName: r.cluster,
          brokerName: r.broker_name,
          brokerIds: {},
          brokerAddrs: {},
          permission: Perm.READ,
          dataVersion: 0,
          lastUpdateTimestamp: 0,
          alive: false,
          members: [],
          topicCount: counts.get(r.broker_name) ?? 0,
        };
        out.push(b);
      }
      const alive = r.last_update > now - expiry;
      b.brokerIds[String(r.broker_id)] = r.role;
      if (alive) b.brokerAddrs[String(r.broker_id)] = brokerAddress(r.broker_name, r.broker_id);
      // Without a live master nothing can be written there: READ only, as RocketMQ's routes
      // without a master address.
      if (r.broker_id === 0 && alive) b.permission = r.permission;
      b.dataVersion = Math.max(b.dataVersion, r.data_version);
      b.lastUpdateTimestamp = Math.max(b.lastUpdateTimestamp, r.last_update);
      b.alive ||= alive;
      b.members.push({ brokerId: r.broker_id, role: r.role, lastUpdateTimestamp: r.last_update, alive });
    }
    return out;
  }

  /**
   * The topic's queues on live brokers (any member alive); null when no live broker holds it.
   * A broker whose master is not alive is listed READ only. `includeExpired` adds brokers
   * that stopped heartbeating altogether (for a delete, which must reach them too).
   */
  getTopic(topic: string, now: number = Date.now(), options: { includeExpired?: boolean } = {}): TopicConfig | null {
    return this.routeTopics(now, options.includeExpired === true, topic)[0] ?? null;
  }

  listTopics(now: number = Date.now()): TopicConfig[] {
    return this.routeTopics(now, false);
  }

  private routeTopics(now: number, includeExpired: boolean, topic?: string): TopicConfig[] {
    const since = now - readConfig(this.env).brokerExpiryMs;
    const rows = this.sql
      .exec<BrokerTopicRow & { master_alive: number; any_alive: number; master_perm: number | null }>(
        `SELECT t.*,
                MAX(CASE WHEN m.broker_id = 0 AND m.last_update > ? THEN 1 ELSE 0 END) AS master_alive,
                MAX(CASE WHEN m.last_update > ? THEN 1 ELSE 0 END) AS any_alive,
                MAX(CASE WHEN m.broker_id = 0 THEN m.permission END) AS master_perm
         FROM broker_topic t JOIN broker_member m ON m.broker_name = t.broker_name AND m.broker_id <= ?
         WHERE (? IS NULL OR t.topic = ?)
         GROUP BY t.topic, t.broker_name
         ORDER BY t.topic, t.broker_name`,
        since,
        since,
        readConfig(this.env).slavesPerBroker,
        topic ?? null,
        topic ?? null,
      )
      .toArray()
      .filter((r) => includeExpired || r.any_alive === 1)
      .map((r) => {
        const brokerPerm = r.master_alive === 1 ? (r.master_perm ?? Perm.READ | Perm.WRITE) : Perm.READ;
        return { ...r, perm: r.perm & (brokerPerm | Perm.INHERIT | Perm.PRIORITY) };
      });
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

  /** Forgets a deleted consumer group; true when this instance listed it. */
  unregisterGroup(group: string): boolean {
    return this.sql.exec("DELETE FROM consumer_group WHERE grp = ?", group).rowsWritten > 0;
  }

  /** Records a producer group (written by its object now and then, not on every poll). */
  registerProducerGroup(group: string, now: number): void {
    this.sql.exec("INSERT OR REPLACE INTO producer_group (grp, last_seen_at) VALUES (?, ?)", group, now);
  }

  listProducerGroups(): { group: string; lastSeenAt: number }[] {
    return this.sql
      .exec<{ grp: string; last_seen_at: number }>("SELECT grp, last_seen_at FROM producer_group ORDER BY grp")
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
      if (before && sameTopicConfig(toTopicConfig(before), t)) continue;
      this.sql.exec(
        `INSERT OR REPLACE INTO broker_topic (topic, broker_name, ${TOPIC_ROW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        t.topic,
        brokerName,
        ...topicRowValues(t),
      );
    }
    for (const topic of held.keys()) this.sql.exec("DELETE FROM broker_topic WHERE topic = ? AND broker_name = ?", topic, brokerName);
  }
}

// Calls in progress and time awake, for the idle-cost test and the benchmark (shared/activity.ts).
trackActivity(NameServerDO);

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
