/**
 * Queue object schema, versioned so later releases can migrate stored data in place.
 *
 * `log` holds one row per append (a batch, or a group commit of concurrent sends): rows
 * written per message is 1/N. Rows are keyed by their first queue offset; INTEGER PRIMARY
 * KEY is the rowid, so no separate index row is written. A row bigger than one SQLite value
 * (2 MB) spills its tail into `log_chunk`.
 * `consumer_offset` is WITHOUT ROWID so a commit writes one row, not a row plus an index row.
 */
import { applyMigrations } from "../shared/migrate.js";

const MIGRATIONS: readonly string[] = [
  `CREATE TABLE IF NOT EXISTS log (
     base_offset INTEGER PRIMARY KEY,
     count INTEGER NOT NULL,
     store_ts INTEGER NOT NULL,
     extra_chunks INTEGER NOT NULL,
     data BLOB NOT NULL
   );
   CREATE TABLE IF NOT EXISTS log_chunk (
     base_offset INTEGER NOT NULL,
     chunk INTEGER NOT NULL,
     data BLOB NOT NULL,
     PRIMARY KEY (base_offset, chunk)
   ) WITHOUT ROWID;
   CREATE TABLE IF NOT EXISTS consumer_offset (
     grp TEXT PRIMARY KEY,
     queue_offset INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   ) WITHOUT ROWID;`,
  // v2: delayed messages keyed by due time (so the earliest is the first row, no extra
  // index), half messages of transactions, overflow chunks for values over 1 MiB, and the
  // queue's own identity for alarm handlers.
  `CREATE TABLE IF NOT EXISTS delayed (
     due_at INTEGER NOT NULL,
     seq INTEGER NOT NULL,
     level INTEGER NOT NULL,
     extra_chunks INTEGER NOT NULL,
     data BLOB NOT NULL,
     PRIMARY KEY (due_at, seq)
   ) WITHOUT ROWID;
   CREATE TABLE IF NOT EXISTS half (
     txid TEXT PRIMARY KEY,
     producer_group TEXT NOT NULL,
     born_at INTEGER NOT NULL,
     check_at INTEGER NOT NULL,
     check_times INTEGER NOT NULL,
     state TEXT NOT NULL,
     queue_offset INTEGER,
     decided_at INTEGER,
     extra_chunks INTEGER NOT NULL,
     data BLOB NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE IF NOT EXISTS overflow (
     owner TEXT NOT NULL,
     chunk INTEGER NOT NULL,
     data BLOB NOT NULL,
     PRIMARY KEY (owner, chunk)
   ) WITHOUT ROWID;
   CREATE TABLE IF NOT EXISTS identity (
     id INTEGER PRIMARY KEY CHECK (id = 0),
     broker TEXT NOT NULL,
     topic TEXT NOT NULL,
     queue_id INTEGER NOT NULL
   );`,
  // v3: the member of each consumer group that owns this queue (fencing stale members), and
  // the offset-reset sequence a commit must have seen.
  `CREATE TABLE IF NOT EXISTS queue_owner (
     grp TEXT PRIMARY KEY,
     client_id TEXT NOT NULL,
     generation INTEGER NOT NULL
   ) WITHOUT ROWID;
   ALTER TABLE consumer_offset ADD COLUMN reset_seq INTEGER NOT NULL DEFAULT 0;`,
  // v4: message keys → the log rows holding them, one index row per distinct key per log row
  // (messages without keys cost nothing here).
  `CREATE TABLE IF NOT EXISTS key_index (
     k TEXT NOT NULL,
     base_offset INTEGER NOT NULL,
     PRIMARY KEY (k, base_offset)
   ) WITHOUT ROWID;`,
  // v5: one key row per keyed log row instead of one per distinct key, so a batch of N keyed
  // messages costs two rows written, not N + 1. Queries scan it within their time range.
  `DROP TABLE IF EXISTS key_index;
   CREATE TABLE IF NOT EXISTS row_keys (
     base_offset INTEGER PRIMARY KEY,
     keys TEXT NOT NULL
   );`,
  // v6: which member of its broker this queue object is (0: master, >0: a slave), so a slave
  // never replicates onward and a master knows to.
  `ALTER TABLE identity ADD COLUMN broker_id INTEGER NOT NULL DEFAULT 0;`,
  // v7: the epoch of a master's log (renewed when the queue is purged), which a slave follows.
  `ALTER TABLE identity ADD COLUMN epoch INTEGER NOT NULL DEFAULT 0;`,
  // v8: a row's keys can pass one SQLite value (2 MB) within the limits: parts past the first
  // 1 MiB go here, as log data spills into log_chunk. Rows stored before keep their one part.
  `CREATE TABLE IF NOT EXISTS row_keys_chunk (
     base_offset INTEGER NOT NULL,
     chunk INTEGER NOT NULL,
     keys TEXT NOT NULL,
     PRIMARY KEY (base_offset, chunk)
   ) WITHOUT ROWID;`,
  // v9: POP (SimpleConsumer) state, one row per group holding its cursor and every message it
  // has in flight (durable-objects/queue/pop-state.ts), so a receive or an ack writes one row.
  // `due_at`: the next time one of them becomes visible, which the alarm wakes receivers for.
  `CREATE TABLE IF NOT EXISTS pop_group (
     grp TEXT PRIMARY KEY,
     state TEXT NOT NULL,
     due_at INTEGER
   ) WITHOUT ROWID;`,
  // v10: push subscriptions (durable-objects/queue/push-delivery.ts), one row per subscribed
  // group: its settings and its delivery state (retry backlog, backoff, last delivery and
  // error). The cursor is the group's consumer_offset row, so a round writes two rows.
  `CREATE TABLE IF NOT EXISTS push_sub (
     grp TEXT PRIMARY KEY,
     config TEXT NOT NULL,
     state TEXT NOT NULL
   ) WITHOUT ROWID;`,
];

export function migrate(sql: SqlStorage): void {
  applyMigrations(sql, MIGRATIONS, "_meta");
}
