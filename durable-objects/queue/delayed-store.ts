/**
 * Delayed messages of one queue: invisible until due, then appended to the commit log (they
 * get their queue offset at delivery, as in RocketMQ). Keyed by (due_at, seq), so the
 * earliest due message is the first row and the alarm can always point at it.
 */
import { decodeMessages, encodeMessages, storedSize } from "../../protocol/log-codec.js";
import type { StoredMessage } from "../../protocol/message.js";
import { deleteOverflow, readOverflow, writeOverflow } from "./overflow.js";

type DelayedRow = { due_at: number; seq: number; level: number; extra_chunks: number; data: ArrayBuffer };

export interface DelayedStats {
  count: number;
  /** Count per delay level; level 0 holds timer messages (deliverTimeMs). */
  byLevel: Record<string, number>;
  nextDueAt: number | null;
}

export class DelayedStore {
  private seq: number;

  constructor(private readonly sql: SqlStorage) {
    const row = sql.exec<{ s: number | null }>("SELECT MAX(seq) AS s FROM delayed").toArray()[0];
    this.seq = (row?.s ?? 0) + 1;
  }

  /** Starts the sequence afresh: the table was emptied with the rest of the object's storage. */
  reset(): void {
    this.seq = 1;
  }

  add(message: StoredMessage, dueAt: number, level: number): void {
    const seq = this.seq++;
    const { head, extraChunks } = writeOverflow(this.sql, owner(dueAt, seq), encodeMessages([message]));
    this.sql.exec("INSERT INTO delayed (due_at, seq, level, extra_chunks, data) VALUES (?, ?, ?, ?, ?)", dueAt, seq, level, extraChunks, head);
  }

  nextDueAt(): number | null {
    return this.sql.exec<{ due_at: number }>("SELECT due_at FROM delayed ORDER BY due_at, seq LIMIT 1").toArray()[0]?.due_at ?? null;
  }

  /**
   * Removes and returns up to `limit` messages due at `now`, earliest first, stopping once
   * their stored size (bodies, keys and properties) would pass `maxBytes` (at least one is
   * returned), so the log row they become stays a bounded size. Call inside a transaction.
   */
  takeDue(now: number, limit: number, maxBytes: number = Number.POSITIVE_INFINITY): StoredMessage[] {
    const rows = this.sql.exec<DelayedRow>("SELECT * FROM delayed WHERE due_at <= ? ORDER BY due_at, seq LIMIT ?", now, limit).toArray();
    const out: StoredMessage[] = [];
    let bytes = 0;
    for (const row of rows) {
      const key = owner(row.due_at, row.seq);
      const messages = decodeMessages(readOverflow(this.sql, key, row.data, row.extra_chunks));
      const size = messages.reduce((n, m) => n + storedSize(m), 0);
      if (out.length > 0 && bytes + size > maxBytes) break;
      bytes += size;
      out.push(...messages);
      deleteOverflow(this.sql, key, row.extra_chunks);
      this.sql.exec("DELETE FROM delayed WHERE due_at = ? AND seq = ?", row.due_at, row.seq);
    }
    return out;
  }

  stats(): DelayedStats {
    const byLevel: Record<string, number> = {};
    let count = 0;
    for (const row of this.sql.exec<{ level: number; n: number }>("SELECT level, COUNT(*) AS n FROM delayed GROUP BY level")) {
      byLevel[String(row.level)] = row.n;
      count += row.n;
    }
    return { count, byLevel, nextDueAt: this.nextDueAt() };
  }
}

function owner(dueAt: number, seq: number): string {
  return `d:${dueAt}:${seq}`;
}
