/**
 * Versioned schema migrations, one runner for every object that has them: an object lists one
 * SQL script per version (never edited once released, only appended to), and the runner applies
 * the ones its storage has not seen and records the version, in one pass at construction.
 * The version lives in a key/value table each object names (the queue's `_meta`, the consumer
 * group's `meta`, as each object first stored it).
 */
export function applyMigrations(sql: SqlStorage, migrations: readonly string[], metaTable: "_meta" | "meta"): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS ${metaTable} (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID`);
  const current = sql.exec<{ value: number }>(`SELECT value FROM ${metaTable} WHERE key = 'schema_version'`).toArray()[0]?.value ?? 0;
  for (let v = current; v < migrations.length; v++) sql.exec(migrations[v]!);
  if (current < migrations.length) {
    sql.exec(
      `INSERT INTO ${metaTable} (key, value) VALUES ('schema_version', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`,
      migrations.length,
    );
  }
}
