/**
 * The commit log of one queue in SQLite: append runs of messages with consecutive offsets,
 * read them back by offset, find offsets by store time. Synchronous on purpose: a Durable
 * Object's SQLite calls are synchronous, and writes with no await between them commit
 * atomically.
 *
 * Past ~350 lines on purpose: every method here reads or moves the log's position in memory
 * (min and max offset, oldest and last store time) or its row cache, which must agree with the
 * rows on disk after every write, truncation and failure; kept in one class, that invariant is
 * checked in one place.
 */
import { decodeMessages, encodeMessages } from "../../protocol/log-codec.js";
import type { StoredMessage } from "../../protocol/message.js";
import { concat } from "./overflow.js";
import { frameKeys, RowKeys } from "./row-keys.js";

/** Stay well under the 2 MB SQLite value limit. */
const CHUNK_BYTES = 1024 * 1024;
/** Decoded rows kept in memory: a pull right after a send reads the row just written. */
const CACHE_MAX_BYTES = 8 * 1024 * 1024;

export interface LogEntry {
  queueOffset: number;
  storeTimestamp: number;
  message: StoredMessage;
}

type LogRow = {
  base_offset: number;
  count: number;
  store_ts: number;
  extra_chunks: number;
  data: ArrayBuffer;
};

/** One log row as stored, the unit of replication. */
export interface RawRow {
  baseOffset: number;
  count: number;
  storeTimestamp: number;
  data: Uint8Array;
  /** The union of the row's keys framed as one string (see row-keys.ts), or null when its messages carry none. */
  keys: string | null;
}

interface DecodedRow {
  baseOffset: number;
  storeTimestamp: number;
  messages: StoredMessage[];
  /** Memory the entry holds: the decoded messages, plus the stored form when `raw` is kept. */
  bytes: number;
  /**
   * The row as stored, for rows this object appended: the push to the slaves that follows
   * every append reads it from here instead of from SQLite.
   */
  raw?: RawRow;
}

export class CommitLog {
  private next = 0;
  private min = 0;
  private lastStoreTs = 0;
  /** Store time of the oldest row still kept (0 when empty), for retention. */
  private oldestTs = 0;
  private readonly cache = new Map<number, DecodedRow>();
  private cacheBytes = 0;
  private readonly keys: RowKeys;
  /** Rows written since this object started, for the cost report. */
  rowsWritten = 0;
  messagesAppended = 0;

  constructor(
    private readonly sql: SqlStorage,
    private readonly storage: DurableObjectStorage,
  ) {
    this.keys = new RowKeys(sql);
    const first = sql.exec<{ base_offset: number; store_ts: number }>("SELECT base_offset, store_ts FROM log ORDER BY base_offset LIMIT 1").toArray()[0];
    this.oldestTs = first?.store_ts ?? 0;
    const last = sql
      .exec<{ base_offset: number; count: number; store_ts: number }>("SELECT base_offset, count, store_ts FROM log ORDER BY base_offset DESC LIMIT 1")
      .toArray()[0];
    this.min = first?.base_offset ?? 0;
    this.next = last ? last.base_offset + last.count : 0;
    this.lastStoreTs = last?.store_ts ?? 0;
  }

  get minOffset(): number {
    return this.min;
  }
  /** One past the last stored offset, as RocketMQ's maxOffset. */
  get maxOffset(): number {
    return this.next;
  }
  get lastStoreTimestamp(): number {
    return this.lastStoreTs;
  }
  get oldestStoreTimestamp(): number {
    return this.oldestTs;
  }

  /**
   * Deletes whole rows that end at or before `beforeOffset` or were stored at or before
   * `storedBefore`, at most `maxRows` per call; minOffset moves to the first row kept.
   * Returns the number of messages removed.
   */
  truncate(opts: { beforeOffset?: number; storedBefore?: number; maxRows: number }): number {
    const rows = this.sql
      .exec<{ base_offset: number; count: number; store_ts: number; extra_chunks: number }>(
        "SELECT base_offset, count, store_ts, extra_chunks FROM log ORDER BY base_offset LIMIT ?",
        opts.maxRows,
      )
      .toArray();
    let removed = 0;
    let min = this.min;
    const gone: number[] = [];
    this.storage.transactionSync(() => {
      for (const row of rows) {
        const end = row.base_offset + row.count;
        const byOffset = opts.beforeOffset !== undefined && end <= opts.beforeOffset;
        const byTime = opts.storedBefore !== undefined && row.store_ts <= opts.storedBefore;
        if (!byOffset && !byTime) break;
        this.sql.exec("DELETE FROM log WHERE base_offset = ?", row.base_offset);
        if (row.extra_chunks > 0) this.sql.exec("DELETE FROM log_chunk WHERE base_offset = ?", row.base_offset);
        gone.push(row.base_offset);
        removed += row.count;
        min = end;
      }
      if (gone.length > 0) this.keys.deleteBefore(min);
    });
    // Memory follows only once the deletes are committed, so a failed truncation changes nothing.
    for (const offset of gone) this.cache.delete(offset);
    this.min = min;
    const first = this.sql.exec<{ store_ts: number }>("SELECT store_ts FROM log ORDER BY base_offset LIMIT 1").toArray()[0];
    this.oldestTs = first?.store_ts ?? 0;
    this.cacheBytes = [...this.cache.values()].reduce((n, r) => n + r.bytes, 0);
    return removed;
  }

  /**
   * Messages carrying `key`, stored within [beginMs, endMs], oldest first, at most `maxNum` and,
   * past the first, at most `maxBytes` of bodies (so an answer stays within an RPC's size).
   */
  findByKey(key: string, beginMs: number, endMs: number, maxNum: number, maxBytes: number = Number.POSITIVE_INFINITY): LogEntry[] {
    const out: LogEntry[] = [];
    let bytes = 0;
    let full = false;
    // Only rows stored within the range can match: bound the scan by the row boundaries found
    // by time (searchOffset answers row boundaries).
    const from = this.searchOffset(beginMs);
    const to = endMs >= this.lastStoreTs ? this.next : this.searchOffset(endMs + 1);
    for (const base_offset of this.keys.find(key, from, to, maxNum)) {
      const row = this.loadRow(base_offset);
      if (!row || row.storeTimestamp < beginMs || row.storeTimestamp > endMs) continue;
      for (const [i, message] of row.messages.entries()) {
        if (!message.keys.includes(key)) continue;
        if (out.length >= maxNum || (out.length > 0 && bytes + message.body.length > maxBytes)) {
          full = true;
          break;
        }
        out.push({ queueOffset: row.baseOffset + i, storeTimestamp: row.storeTimestamp, message });
        bytes += message.body.length;
      }
      if (full) break;
    }
    return out;
  }

  /**
   * A message by its client unique key, without an index: ids made by flaremq clients carry
   * their birth time, so the scan starts just before it; other ids scan the newest messages.
   * At most `maxScan` messages are read.
   */
  findByMsgId(msgId: string, bornAt: number | undefined, maxScan: number): LogEntry | undefined {
    const from = bornAt === undefined ? Math.max(this.min, this.next - maxScan) : this.searchOffset(bornAt - 60_000);
    let scanned = 0;
    for (const entry of this.read(from)) {
      if (entry.message.msgId === msgId) return entry;
      if (++scanned >= maxScan) break;
    }
    return undefined;
  }

  /**
   * Appends messages as one row (plus overflow chunks for very large bodies) inside one
   * transaction, so the run is stored all or nothing. Returns the first offset.
   */
  append(messages: readonly StoredMessage[], now: number): { baseOffset: number; storeTimestamp: number } {
    const baseOffset = this.next;
    // Store times never go backwards, so binary search by time over offsets stays valid.
    const storeTimestamp = Math.max(now, this.lastStoreTs);
    const data = encodeMessages(messages);
    const keys = [...new Set(messages.flatMap((m) => m.keys))];
    const raw: RawRow = { baseOffset, count: messages.length, storeTimestamp, data, keys: keys.length > 0 ? frameKeys(keys) : null };
    this.writeRow(raw);
    this.remember({ baseOffset, storeTimestamp, messages: [...messages], bytes: 2 * data.length, raw });
    return { baseOffset, storeTimestamp };
  }

  /**
   * Whole rows from `fromOffset` (a row boundary, or before the first row) on, as stored, for
   * a slave: at most `maxRows`, and past the first row at most `maxBytes` of data and keys.
   */
  rawRows(fromOffset: number, maxRows: number, maxBytes: number): RawRow[] {
    const cached = this.cachedRawRows(fromOffset, maxRows, maxBytes);
    if (cached.length > 0) return cached;
    const out: RawRow[] = [];
    let bytes = 0;
    // Sizes first (data with its overflow chunks, and keys), data row by row: a push never
    // holds more than maxBytes (plus one row) in memory, and stays within an RPC's size.
    const heads = this.sql
      .exec<{ base_offset: number; size: number }>(
        `SELECT l.base_offset,
           length(l.data)
           + CASE WHEN l.extra_chunks = 0 THEN 0 ELSE (SELECT SUM(length(d.data)) FROM log_chunk d WHERE d.base_offset = l.base_offset) END
           + COALESCE((SELECT length(CAST(k.keys AS BLOB)) FROM row_keys k WHERE k.base_offset = l.base_offset), 0)
           + COALESCE((SELECT SUM(length(CAST(c.keys AS BLOB))) FROM row_keys_chunk c WHERE c.base_offset = l.base_offset), 0) AS size
         FROM log l WHERE l.base_offset >= ? ORDER BY l.base_offset LIMIT ?`,
        fromOffset,
        maxRows,
      )
      .toArray();
    for (const head of heads) {
      if (out.length > 0 && bytes + head.size > maxBytes) break;
      const row = this.sql
        .exec<LogRow>("SELECT base_offset, count, store_ts, extra_chunks, data FROM log WHERE base_offset = ?", head.base_offset)
        .toArray()[0];
      if (!row) break;
      const data = this.rowData(row);
      bytes += head.size;
      out.push({ baseOffset: row.base_offset, count: row.count, storeTimestamp: row.store_ts, data, keys: this.keys.read(row.base_offset) });
    }
    return out;
  }

  /**
   * rawRows from memory: the rows this object appended recently, consecutive from `fromOffset`
   * (a row boundary) up to the first one not kept; empty when the first is not kept.
   */
  private cachedRawRows(fromOffset: number, maxRows: number, maxBytes: number): RawRow[] {
    const out: RawRow[] = [];
    let bytes = 0;
    let at = Math.max(fromOffset, this.min);
    while (at < this.next && out.length < maxRows) {
      const raw = this.cache.get(at)?.raw;
      if (!raw) break;
      const size = raw.data.length + (raw.keys?.length ?? 0);
      if (out.length > 0 && bytes + size > maxBytes) break;
      out.push(raw);
      bytes += size;
      at = raw.baseOffset + raw.count;
    }
    return out;
  }

  /**
   * Stores a row replicated from the master with its own offset and store time, so a slave
   * matches its master exactly. A row already held is skipped; a row past a gap (the master
   * dropped the rows between by retention) restarts the log at that row.
   * Returns whether the row was written.
   */
  appendRaw(row: RawRow): boolean {
    if (row.baseOffset + row.count <= this.next) return false;
    if (row.baseOffset !== this.next) {
      this.sql.exec("DELETE FROM log");
      this.sql.exec("DELETE FROM log_chunk");
      this.keys.clear();
      this.cache.clear();
      this.cacheBytes = 0;
      this.min = row.baseOffset;
      this.next = row.baseOffset;
    }
    this.writeRow(row);
    return true;
  }

  private writeRow(row: RawRow): void {
    const chunks = Math.max(1, Math.ceil(row.data.length / CHUNK_BYTES));
    let written = 0;
    this.storage.transactionSync(() => {
      written += this.sql.exec(
        "INSERT INTO log (base_offset, count, store_ts, extra_chunks, data) VALUES (?, ?, ?, ?, ?)",
        row.baseOffset,
        row.count,
        row.storeTimestamp,
        chunks - 1,
        row.data.subarray(0, CHUNK_BYTES),
      ).rowsWritten;
      for (let i = 1; i < chunks; i++) {
        written += this.sql.exec(
          "INSERT INTO log_chunk (base_offset, chunk, data) VALUES (?, ?, ?)",
          row.baseOffset,
          i,
          row.data.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES),
        ).rowsWritten;
      }
      if (row.keys !== null) written += this.keys.write(row.baseOffset, row.keys);
    });
    if (this.next === this.min) this.oldestTs = row.storeTimestamp;
    this.next = row.baseOffset + row.count;
    this.lastStoreTs = row.storeTimestamp;
    this.rowsWritten += written;
    this.messagesAppended += row.count;
  }

  /**
   * Yields entries from `fromOffset` on, in offset order, row by row, so a caller that stops
   * early reads no further rows than it used.
   */
  *read(fromOffset: number): Generator<LogEntry> {
    if (fromOffset < this.min || fromOffset >= this.next) return;
    const start = this.sql
      .exec<{ base_offset: number }>("SELECT base_offset FROM log WHERE base_offset <= ? ORDER BY base_offset DESC LIMIT 1", fromOffset)
      .toArray()[0];
    if (!start) return;
    let rowOffset = start.base_offset;
    while (rowOffset < this.next) {
      const row = this.loadRow(rowOffset);
      if (!row) return;
      for (let i = 0; i < row.messages.length; i++) {
        const queueOffset = row.baseOffset + i;
        if (queueOffset < fromOffset) continue;
        yield { queueOffset, storeTimestamp: row.storeTimestamp, message: row.messages[i]! };
      }
      rowOffset = row.baseOffset + row.messages.length;
    }
  }

  get(queueOffset: number): LogEntry | undefined {
    for (const entry of this.read(queueOffset)) return entry;
    return undefined;
  }

  /**
   * First offset whose store time is at or after `timestamp`; maxOffset when every message is
   * older. Binary search over rows: store times are monotonic in offset.
   */
  searchOffset(timestamp: number): number {
    let lo = this.min;
    let hi = this.next;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const row = this.sql
        .exec<{ base_offset: number; count: number; store_ts: number }>(
          "SELECT base_offset, count, store_ts FROM log WHERE base_offset <= ? ORDER BY base_offset DESC LIMIT 1",
          mid,
        )
        .toArray()[0];
      if (!row) break;
      // Every message of a row shares its store time, so the answer is a row boundary.
      if (row.store_ts >= timestamp) hi = row.base_offset;
      else lo = row.base_offset + row.count;
    }
    return lo;
  }

  /** Empties the log; offsets restart at 0 (used when a topic is deleted). */
  reset(): void {
    this.oldestTs = 0;
    this.next = 0;
    this.min = 0;
    this.lastStoreTs = 0;
    this.cache.clear();
    this.cacheBytes = 0;
  }

  private loadRow(baseOffset: number): DecodedRow | undefined {
    const cached = this.cache.get(baseOffset);
    if (cached) return cached;
    const row = this.sql.exec<LogRow>("SELECT base_offset, count, store_ts, extra_chunks, data FROM log WHERE base_offset = ?", baseOffset).toArray()[0];
    if (!row) return undefined;
    const data = this.rowData(row);
    const decoded: DecodedRow = {
      baseOffset: row.base_offset,
      storeTimestamp: row.store_ts,
      messages: decodeMessages(data),
      bytes: data.length,
    };
    this.remember(decoded);
    return decoded;
  }

  /** A row's data with its overflow chunks joined. */
  private rowData(row: LogRow): Uint8Array {
    const head = new Uint8Array(row.data);
    if (row.extra_chunks === 0) return head;
    const parts = [head];
    for (const c of this.sql.exec<{ data: ArrayBuffer }>("SELECT data FROM log_chunk WHERE base_offset = ? ORDER BY chunk", row.base_offset)) {
      parts.push(new Uint8Array(c.data));
    }
    return concat(parts);
  }

  private remember(row: DecodedRow): void {
    if (row.bytes > CACHE_MAX_BYTES / 2) return;
    this.cache.set(row.baseOffset, row);
    this.cacheBytes += row.bytes;
    for (const [key, old] of this.cache) {
      if (this.cacheBytes <= CACHE_MAX_BYTES) break;
      this.cache.delete(key);
      this.cacheBytes -= old.bytes;
    }
  }
}
