/**
 * What a broker keeps in SQLite: its topic config table (topic_config, the source of truth for
 * the broker's topics, as RocketMQ's topics.json) and, beside it, the few meta values that go
 * with that table (the broker's name, member id, incarnation, permission, and the table's data
 * version, which RocketMQ's TopicConfigManager persists with its table too). The broker object
 * decides what to write; this file only knows the SQL.
 */
import type { BrokerTopicConfig } from "../../protocol/route.js";
import { applyMigrations } from "../shared/migrate.js";
import { TOPIC_ROW_COLUMNS, toTopicConfig, topicRowValues, type TopicRow } from "../topic-row.js";

const MIGRATIONS: readonly string[] = [
  // v1: the layout before versions existed.
  `CREATE TABLE IF NOT EXISTS broker_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
   CREATE TABLE IF NOT EXISTS topic_config (
     topic TEXT PRIMARY KEY,
     read_queue_nums INTEGER NOT NULL,
     write_queue_nums INTEGER NOT NULL,
     perm INTEGER NOT NULL,
     topic_sys_flag INTEGER NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   ) WITHOUT ROWID;`,
];

/** The broker's meta values, each stored as text. */
export type BrokerMetaKey = "broker_name" | "broker_id" | "incarnation" | "permission" | "data_version" | "imported";

export class TopicTable {
  constructor(private readonly sql: SqlStorage) {}

  /** Creates or upgrades the schema (call once, under blockConcurrencyWhile). */
  migrate(): void {
    applyMigrations(this.sql, MIGRATIONS, "_meta");
  }

  list(): BrokerTopicConfig[] {
    return this.sql.exec<TopicRow>("SELECT * FROM topic_config ORDER BY topic").toArray().map(toTopicConfig);
  }

  get(topic: string): BrokerTopicConfig | null {
    const row = this.sql.exec<TopicRow>("SELECT * FROM topic_config WHERE topic = ?", topic).toArray()[0];
    return row ? toTopicConfig(row) : null;
  }

  count(): number {
    return this.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM topic_config").one().n;
  }

  /** Writes a topic's row: over the one stored ("replace"), or only where none is ("ignore"). */
  put(t: BrokerTopicConfig, onConflict: "replace" | "ignore" = "replace"): void {
    this.sql.exec(
      `INSERT OR ${onConflict === "ignore" ? "IGNORE" : "REPLACE"} INTO topic_config (topic, ${TOPIC_ROW_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      t.topic,
      ...topicRowValues(t),
    );
  }

  delete(topic: string): void {
    this.sql.exec("DELETE FROM topic_config WHERE topic = ?", topic);
  }

  /** Empties the table (a slave member taking a newer copy of its master's). */
  clear(): void {
    this.sql.exec("DELETE FROM topic_config");
  }

  meta(key: BrokerMetaKey): string | null {
    return this.sql.exec<{ value: string }>("SELECT value FROM broker_meta WHERE key = ?", key).toArray()[0]?.value ?? null;
  }

  setMeta(key: BrokerMetaKey, value: string): void {
    this.sql.exec("INSERT OR REPLACE INTO broker_meta (key, value) VALUES (?, ?)", key, value);
  }
}
