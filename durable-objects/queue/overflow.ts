/**
 * Values larger than one SQLite value holds (2 MB): the first 1 MiB stays in the owning row,
 * the rest goes to `overflow` rows keyed by an owner string. Used by delayed and half
 * messages, whose bodies may be up to 4 MiB like any other.
 */
export const CHUNK_BYTES = 1024 * 1024;

/** Writes the overflow of `data`; returns the head to store in the owning row and the chunk count. */
export function writeOverflow(sql: SqlStorage, owner: string, data: Uint8Array): { head: Uint8Array; extraChunks: number } {
  const chunks = Math.max(1, Math.ceil(data.length / CHUNK_BYTES));
  for (let i = 1; i < chunks; i++) {
    sql.exec("INSERT INTO overflow (owner, chunk, data) VALUES (?, ?, ?)", owner, i, data.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES));
  }
  return { head: data.subarray(0, CHUNK_BYTES), extraChunks: chunks - 1 };
}

export function readOverflow(sql: SqlStorage, owner: string, head: ArrayBuffer, extraChunks: number): Uint8Array {
  if (extraChunks === 0) return new Uint8Array(head);
  const parts = [new Uint8Array(head)];
  for (const row of sql.exec<{ data: ArrayBuffer }>("SELECT data FROM overflow WHERE owner = ? ORDER BY chunk", owner)) {
    parts.push(new Uint8Array(row.data));
  }
  return concat(parts);
}

/** Joins byte chunks into one array. */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

export function deleteOverflow(sql: SqlStorage, owner: string, extraChunks: number): void {
  if (extraChunks > 0) sql.exec("DELETE FROM overflow WHERE owner = ?", owner);
}
