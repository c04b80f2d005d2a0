/**
 * Versioned schema migrations, one runner for every object: an object lists one SQL script per
 * version (never edited once released, only appended to), and the runner applies the ones its
 * storage has not seen and records the version, in one pass at construction. Version 1 of the
 * objects that had no versions is their old layout written with IF NOT EXISTS, so stored objects
 * take it as is. The version lives in `_meta`, except for the consumer group, which stored it
 * in `meta` before this runner existed.
 */
export function applyMigrations(sql: SqlStorage, migrations: readonly string[], metaTable: "_meta" | "meta"): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS ${metaTable} (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID`);
  const current = sql.exec<{ value: number }>(`SELECT value FROM ${metaTable} WHERE key = 'schema_version'`).toArray()[0]?.value ?? 0;
  for (let v = current; v < migrations.length; v++) sql.exec(migrations[v]!);
  if (current < migrations.length) {
    sql.exec(`INSERT INTO ${metaTable} (key, value) VALUES ('schema_version', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, migrations.length);
  }
}
