/**
 * NameServer: the route table of every topic — which brokers hold it, with how many read and
 * write queues and which permission. One object per NameServer instance (`ns-0`).
 * The worker validates names and broker lists before calling; this object only stores.
 */
import { DurableObject } from "cloudflare:workers";
import type { QueueData, TopicConfig } from "../protocol/route.js";
import type { Env } from "../workers/env.js";

export type UpsertMode = "create" | "upsert" | "createIfAbsent";

export type UpsertResult =
  | { ok: true; created: boolean; config: TopicConfig }
  | { ok: false; code: "TOPIC_ALREADY_EXISTS"; config: TopicConfig };

type TopicRow = {
  topic: string;
  queues: string;
  created_at: number;
  updated_at: number;
};

export class NameServerDO extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    void ctx.blockConcurrencyWhile(async () => {
      this.sql.exec(`CREATE TABLE IF NOT EXISTS topic (
        topic TEXT PRIMARY KEY,
        queues TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) WITHOUT ROWID`);
      this.sql.exec("CREATE TABLE IF NOT EXISTS consumer_group (grp TEXT PRIMARY KEY, last_seen_at INTEGER NOT NULL) WITHOUT ROWID");
    });
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

  getTopic(topic: string): TopicConfig | null {
    const row = this.sql.exec<TopicRow>("SELECT * FROM topic WHERE topic = ?", topic).toArray()[0];
    return row ? toConfig(row) : null;
  }

  listTopics(): TopicConfig[] {
    return this.sql.exec<TopicRow>("SELECT * FROM topic ORDER BY topic").toArray().map(toConfig);
  }

  upsertTopic(topic: string, queues: QueueData[], mode: UpsertMode): UpsertResult {
    const existing = this.getTopic(topic);
    if (existing && mode === "create") return { ok: false, code: "TOPIC_ALREADY_EXISTS", config: existing };
    if (existing && mode === "createIfAbsent") return { ok: true, created: false, config: existing };
    const now = Date.now();
    const config: TopicConfig = { topic, queues, createdAt: existing?.createdAt ?? now, updatedAt: now };
    this.sql.exec(
      `INSERT INTO topic (topic, queues, created_at, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT(topic) DO UPDATE SET queues = excluded.queues, updated_at = excluded.updated_at`,
      topic,
      JSON.stringify(queues),
      config.createdAt,
      now,
    );
    return { ok: true, created: !existing, config };
  }

  /**
   * Sets or clears permission bits of every topic on one broker (mqadmin wipeWritePerm /
   * addWritePerm) in one transaction; returns the topics changed.
   */
  setBrokerPerm(brokerName: string, bits: number, on: boolean): string[] {
    const changed: string[] = [];
    this.ctx.storage.transactionSync(() => {
      for (const config of this.listTopics()) {
        let touched = false;
        const queues = config.queues.map((q) => {
          if (q.brokerName !== brokerName) return q;
          const perm = on ? q.perm | bits : q.perm & ~bits;
          if (perm !== q.perm) touched = true;
          return { ...q, perm };
        });
        if (!touched) continue;
        this.sql.exec("UPDATE topic SET queues = ?, updated_at = ? WHERE topic = ?", JSON.stringify(queues), Date.now(), config.topic);
        changed.push(config.topic);
      }
    });
    return changed;
  }

  deleteTopic(topic: string): TopicConfig | null {
    const existing = this.getTopic(topic);
    if (existing) this.sql.exec("DELETE FROM topic WHERE topic = ?", topic);
    return existing;
  }
}

function toConfig(row: TopicRow): TopicConfig {
  return {
    topic: row.topic,
    queues: JSON.parse(row.queues) as QueueData[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}
