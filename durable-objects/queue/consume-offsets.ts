/**
 * Consume offsets of every consumer group on one queue (RocketMQ's ConsumerOffsetManager, per
 * queue): commits, fetches, admin resets, progress, and the offsets a slave holds. One row per
 * group (`consumer_offset`, WITHOUT ROWID): a commit writes exactly one row.
 *
 * Each row carries when it was stored (`updated_at`): a slave keeps a commit it took itself
 * while its master was unreachable when that commit is newer than what the master pushes later.
 * Each also carries the sequence of the last admin reset (`reset_seq`): a member whose fence has
 * not seen that reset may not commit over it.
 */
import { toRpcError } from "../../cluster/rpc-errors.js";
import type { MemberFence } from "../../protocol/consumer.js";
import type { CommitLog } from "./commit-log.js";
import type { Owners } from "./owners.js";

export interface ConsumeOffset {
  /** The committed offset; when none, 0 while the queue still holds offset 0, else -1. */
  offset: number;
  committed: boolean;
}

export interface QueueProgressRaw {
  minOffset: number;
  maxOffset: number;
  /** The committed offset; for a POP group, its cursor (every message below was handed out). */
  committed: number;
  lastStoreTimestamp: number;
  /** A POP group's messages handed out and not acked yet (0 for offset groups). */
  inflight: number;
}

export interface StoredOffset {
  group: string;
  offset: number;
  updatedAt: number;
}

/** Groups whose committed offset memory holds at most, per queue. */
const HELD_MAX_GROUPS = 10_000;

export class ConsumeOffsets {
  /**
   * Each group's stored offset (null: none) as last read, so the hot paths that ask (a POP
   * receive checks the group does not consume by offsets) read no row. Every write below
   * drops the group's entry; the next fetch reads the row again.
   */
  private readonly held = new Map<string, number | null>();

  constructor(
    private readonly sql: SqlStorage,
    private readonly log: CommitLog,
    private readonly owners: Owners,
    private readonly now: () => number = Date.now,
  ) {}

  fetch(group: string): ConsumeOffset {
    let stored = this.held.get(group);
    if (stored === undefined) {
      stored = this.sql.exec<{ queue_offset: number }>("SELECT queue_offset FROM consumer_offset WHERE grp = ?", group).toArray()[0]?.queue_offset ?? null;
      if (this.held.size >= HELD_MAX_GROUPS) this.held.clear();
      this.held.set(group, stored);
    }
    if (stored !== null) return { offset: stored, committed: true };
    // RocketMQ's broker answers 0 for a group it has never seen while offset 0 is still
    // there, so a new group on a young queue reads it from the start.
    return { offset: this.log.minOffset === 0 ? 0 : -1, committed: false };
  }

  /**
   * A member's commit: refused beyond maxOffset, then from a member that does not own the
   * queue, then from one that has not seen the latest reset, in that order.
   */
  commit(group: string, offset: number, fence?: MemberFence): void {
    if (offset > this.log.maxOffset) {
      throw toRpcError("OFFSET_ILLEGAL", `offset ${offset} is beyond maxOffset ${this.log.maxOffset}`);
    }
    this.owners.check(group, fence);
    if (fence?.offsetResetSeq !== undefined) {
      const row = this.sql.exec<{ reset_seq: number }>("SELECT reset_seq FROM consumer_offset WHERE grp = ?", group).toArray()[0];
      if (row && row.reset_seq > fence.offsetResetSeq) {
        throw toRpcError("STALE_OFFSET_RESET", `the offsets of group "${group}" were reset; reload them before committing`);
      }
    }
    this.store(group, offset);
  }

  /** Stores an offset as it is, unchecked (a slave's own commit; a master's push from before updatedAt existed). */
  store(group: string, offset: number): void {
    this.held.delete(group);
    this.sql.exec(
      `INSERT INTO consumer_offset (grp, queue_offset, updated_at) VALUES (?, ?, ?)
       ON CONFLICT(grp) DO UPDATE SET queue_offset = excluded.queue_offset, updated_at = excluded.updated_at`,
      group,
      offset,
      this.now(),
    );
  }

  /**
   * An offset pushed by the master. A commit this slave took while its master was unreachable
   * (the master object may still be alive and pushing an older value meanwhile) is kept when it
   * is newer than the master's: otherwise a consumer that committed on the slave would read an
   * older offset back, and re-read what it had consumed.
   */
  storeReplicated(group: string, offset: number, updatedAt: number | undefined): void {
    if (updatedAt === undefined) return this.store(group, offset);
    this.held.delete(group);
    this.sql.exec(
      `INSERT INTO consumer_offset (grp, queue_offset, updated_at) VALUES (?, ?, ?)
       ON CONFLICT(grp) DO UPDATE SET queue_offset = excluded.queue_offset, updated_at = excluded.updated_at
       WHERE excluded.updated_at >= consumer_offset.updated_at`,
      group,
      offset,
      updatedAt,
    );
  }

  /**
   * Moves a group's offset to the first message stored at or after `timestamp` (admin reset)
   * and records `resetSeq`, so members that have not reloaded since cannot commit over it.
   */
  reset(group: string, timestamp: number, resetSeq: number): number {
    const offset = this.log.searchOffset(timestamp);
    this.held.delete(group);
    this.sql.exec(
      `INSERT INTO consumer_offset (grp, queue_offset, updated_at, reset_seq) VALUES (?, ?, ?, ?)
       ON CONFLICT(grp) DO UPDATE SET queue_offset = excluded.queue_offset, updated_at = excluded.updated_at,
         reset_seq = MAX(reset_seq, excluded.reset_seq)`,
      group,
      offset,
      this.now(),
      resetSeq,
    );
    return offset;
  }

  progress(group: string): QueueProgressRaw {
    const consumed = this.fetch(group);
    return {
      minOffset: this.log.minOffset,
      maxOffset: this.log.maxOffset,
      committed: consumed.committed ? consumed.offset : -1,
      lastStoreTimestamp: this.log.lastStoreTimestamp,
      inflight: 0,
    };
  }

  /** Forgets what memory holds (the storage was deleted under it). */
  forget(): void {
    this.held.clear();
  }

  /** Offsets for a replication push: the named groups, or a page of all in group order. */
  read(page: { groups: readonly string[] } | { after: string }, limit: number): StoredOffset[] {
    type Row = { grp: string; queue_offset: number; updated_at: number };
    const rows =
      "after" in page
        ? this.sql.exec<Row>("SELECT grp, queue_offset, updated_at FROM consumer_offset WHERE grp > ? ORDER BY grp LIMIT ?", page.after, limit).toArray()
        : page.groups.flatMap((g) => this.sql.exec<Row>("SELECT grp, queue_offset, updated_at FROM consumer_offset WHERE grp = ?", g).toArray());
    return rows.map((r) => ({ group: r.grp, offset: r.queue_offset, updatedAt: r.updated_at }));
  }
}
