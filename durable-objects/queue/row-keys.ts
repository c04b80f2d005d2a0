/**
 * The key index of the commit log: for each log row whose messages carry keys, the union of
 * those keys, framed by \u0001 so instr() finds whole keys only (keys cannot contain it).
 *
 * One SQLite value holds 2 MB at most, and a row's keys can pass that well within the limits
 * (a 6 MiB send request of messages with 64 keys of 255 characters each carries about 6 MB of
 * keys). So the union is cut into parts of at most PART_BYTES, each framed on its own so a key
 * never straddles two parts: the first part in `row_keys` (the only one almost every row has,
 * so a keyed row still costs one key row), the rest in `row_keys_chunk`, as log data spills
 * into `log_chunk`.
 */

/** Stay well under the 2 MB SQLite value limit. */
export const KEY_PART_BYTES = 1024 * 1024;

const SEP = "\u0001";

/** Keys framed as one string, the form a RawRow carries to slaves. */
export function frameKeys(keys: readonly string[]): string {
  return `${SEP}${keys.join(SEP)}${SEP}`;
}

/**
 * Cuts framed keys into framed parts of at most `maxBytes` UTF-8 bytes each, whole keys only.
 * A single key larger than that gets a part of its own (it cannot pass the edge's limits).
 */
export function splitFramedKeys(framed: string, maxBytes: number = KEY_PART_BYTES): string[] {
  if (utf8Length(framed) <= maxBytes) return [framed];
  const keys = framed.slice(1, -1).split(SEP);
  const parts: string[] = [];
  let current: string[] = [];
  let bytes = 1;
  for (const key of keys) {
    const size = utf8Length(key) + 1;
    if (current.length > 0 && bytes + size > maxBytes) {
      parts.push(frameKeys(current));
      current = [];
      bytes = 1;
    }
    current.push(key);
    bytes += size;
  }
  if (current.length > 0) parts.push(frameKeys(current));
  return parts;
}

/** Joins framed parts back into one framed string (the inverse of splitFramedKeys). */
export function joinFramedKeys(parts: readonly string[]): string {
  return parts.map((p, i) => (i === 0 ? p : p.slice(1))).join("");
}

/** UTF-8 length of a string without encoding it. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      // A surrogate pair is one 4-byte character.
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

export class RowKeys {
  constructor(private readonly sql: SqlStorage) {}

  /** Writes a row's framed keys; returns the SQLite rows written. Call inside the row's transaction. */
  write(baseOffset: number, framed: string): number {
    const parts = splitFramedKeys(framed);
    let written = this.sql.exec("INSERT INTO row_keys (base_offset, keys) VALUES (?, ?)", baseOffset, parts[0]!).rowsWritten;
    for (let i = 1; i < parts.length; i++) {
      written += this.sql.exec("INSERT INTO row_keys_chunk (base_offset, chunk, keys) VALUES (?, ?, ?)", baseOffset, i, parts[i]!).rowsWritten;
    }
    return written;
  }

  /** A row's framed keys, or null when it has none. */
  read(baseOffset: number): string | null {
    const head = this.sql.exec<{ keys: string }>("SELECT keys FROM row_keys WHERE base_offset = ?", baseOffset).toArray()[0];
    if (!head) return null;
    const rest = this.sql
      .exec<{ keys: string }>("SELECT keys FROM row_keys_chunk WHERE base_offset = ? ORDER BY chunk", baseOffset)
      .toArray()
      .map((r) => r.keys);
    return rest.length === 0 ? head.keys : joinFramedKeys([head.keys, ...rest]);
  }

  /** Base offsets of rows in [from, to) holding `key`, ascending, at most `limit`. */
  find(key: string, from: number, to: number, limit: number): number[] {
    const needle = `${SEP}${key}${SEP}`;
    return this.sql
      .exec<{ base_offset: number }>(
        `SELECT base_offset FROM row_keys WHERE base_offset >= ?1 AND base_offset < ?2 AND instr(keys, ?3) > 0
         UNION
         SELECT base_offset FROM row_keys_chunk WHERE base_offset >= ?1 AND base_offset < ?2 AND instr(keys, ?3) > 0
         ORDER BY base_offset LIMIT ?4`,
        from,
        to,
        needle,
        limit,
      )
      .toArray()
      .map((r) => r.base_offset);
  }

  /** Drops the keys of every row below `offset` (rows are removed oldest first). */
  deleteBefore(offset: number): void {
    this.sql.exec("DELETE FROM row_keys WHERE base_offset < ?", offset);
    this.sql.exec("DELETE FROM row_keys_chunk WHERE base_offset < ?", offset);
  }

  clear(): void {
    this.sql.exec("DELETE FROM row_keys");
    this.sql.exec("DELETE FROM row_keys_chunk");
  }
}
