/**
 * Half messages of transactions: stored durably but invisible until the producer commits.
 * A row keeps its decision (COMMITTED, ROLLED_BACK, or GIVEN_UP after too many checks) so
 * repeated decisions are idempotent and contradicting ones are refused.
 */
import { decodeMessages, encodeMessages } from "../../protocol/log-codec.js";
import type { StoredMessage } from "../../protocol/message.js";
import { deleteOverflow, readOverflow, writeOverflow } from "./overflow.js";

import type { HalfInfo, HalfState } from "../../protocol/transaction.js";

export type { HalfInfo, HalfState };

type HalfRow = {
  txid: string;
  producer_group: string;
  born_at: number;
  check_at: number;
  check_times: number;
  state: HalfState;
  queue_offset: number | null;
  decided_at: number | null;
  extra_chunks: number;
  data: ArrayBuffer;
};

export interface DueCheck {
  transactionId: string;
  producerGroup: string;
  checkTimes: number;
  message: StoredMessage;
}

export class HalfStore {
  constructor(private readonly sql: SqlStorage) {}

  get(txid: string): HalfInfo | null {
    const row = this.sql.exec<HalfRow>("SELECT * FROM half WHERE txid = ?", txid).toArray()[0];
    return row ? info(row) : null;
  }

  add(message: StoredMessage, producerGroup: string, now: number, firstCheckAt: number): void {
    const { head, extraChunks } = writeOverflow(this.sql, owner(message.msgId), encodeMessages([message]));
    this.sql.exec(
      `INSERT INTO half (txid, producer_group, born_at, check_at, check_times, state, queue_offset, decided_at, extra_chunks, data)
       VALUES (?, ?, ?, ?, 0, 'PENDING', NULL, NULL, ?, ?)`,
      message.msgId,
      producerGroup,
      now,
      firstCheckAt,
      extraChunks,
      head,
    );
  }

  message(txid: string): StoredMessage | null {
    const row = this.sql.exec<HalfRow>("SELECT * FROM half WHERE txid = ?", txid).toArray()[0];
    if (!row || row.state !== "PENDING") return null;
    return decodeMessages(readOverflow(this.sql, owner(txid), row.data, row.extra_chunks))[0] ?? null;
  }

  /** Records a decision and drops the body: a decided half message is never read again. */
  decide(txid: string, state: Exclude<HalfState, "PENDING">, now: number, queueOffset: number | null): void {
    const row = this.sql.exec<{ extra_chunks: number }>("SELECT extra_chunks FROM half WHERE txid = ?", txid).toArray()[0];
    if (!row) return;
    deleteOverflow(this.sql, owner(txid), row.extra_chunks);
    this.sql.exec("UPDATE half SET state = ?, decided_at = ?, queue_offset = ?, extra_chunks = 0, data = x'' WHERE txid = ?", state, now, queueOffset, txid);
  }

  nextCheckAt(): number | null {
    return this.sql.exec<{ t: number | null }>("SELECT MIN(check_at) AS t FROM half WHERE state = 'PENDING'").toArray()[0]?.t ?? null;
  }

  /**
   * Pending half messages whose check is due: each is given up once it has been checked
   * `checkMax` times, otherwise its check count goes up and its next check is scheduled.
   * Call inside a transaction; returns the checks to send.
   */
  takeDueChecks(now: number, limit: number, checkMax: number, intervalMs: number, maxBytes: number = Number.POSITIVE_INFINITY): DueCheck[] {
    const rows = this.sql.exec<HalfRow>("SELECT * FROM half WHERE state = 'PENDING' AND check_at <= ? ORDER BY check_at LIMIT ?", now, limit).toArray();
    const checks: DueCheck[] = [];
    let bytes = 0;
    for (const row of rows) {
      // Rows left unprocessed stay due, so the alarm re-arms at once for them.
      if (checks.length > 0 && bytes >= maxBytes) break;
      if (row.check_times >= checkMax) {
        this.decide(row.txid, "GIVEN_UP", now, null);
        continue;
      }
      const checkTimes = row.check_times + 1;
      this.sql.exec("UPDATE half SET check_times = ?, check_at = ? WHERE txid = ?", checkTimes, now + intervalMs, row.txid);
      const message = decodeMessages(readOverflow(this.sql, owner(row.txid), row.data, row.extra_chunks))[0];
      if (message) {
        bytes += message.body.length;
        checks.push({ transactionId: row.txid, producerGroup: row.producer_group, checkTimes, message });
      }
    }
    return checks;
  }

  list(state: HalfState | undefined, limit: number): HalfInfo[] {
    const rows = state
      ? this.sql.exec<HalfRow>("SELECT * FROM half WHERE state = ? ORDER BY born_at LIMIT ?", state, limit).toArray()
      : this.sql.exec<HalfRow>("SELECT * FROM half ORDER BY born_at LIMIT ?", limit).toArray();
    return rows.map(info);
  }

  /** Forgets decided transactions older than `before`, in bounded chunks. */
  forgetDecided(before: number, limit: number): number {
    return this.sql.exec("DELETE FROM half WHERE txid IN (SELECT txid FROM half WHERE state <> 'PENDING' AND decided_at < ? LIMIT ?)", before, limit)
      .rowsWritten;
  }

  oldestDecidedAt(): number | null {
    return this.sql.exec<{ t: number | null }>("SELECT MIN(decided_at) AS t FROM half WHERE state <> 'PENDING'").toArray()[0]?.t ?? null;
  }
}

function info(row: HalfRow): HalfInfo {
  return {
    transactionId: row.txid,
    producerGroup: row.producer_group,
    state: row.state,
    bornTimestamp: row.born_at,
    checkTimes: row.check_times,
    nextCheckAt: row.state === "PENDING" ? row.check_at : null,
    queueOffset: row.queue_offset,
    decidedAt: row.decided_at,
  };
}

function owner(txid: string): string {
  return `h:${txid}`;
}
