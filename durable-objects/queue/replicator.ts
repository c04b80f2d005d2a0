/**
 * Master → slave replication of one queue: commit-log rows exactly as stored (same offsets,
 * ids and store times) and the consumer offsets that changed. The master keeps a cursor per
 * slave in memory only (a restart asks the slave where it is), so replication adds no rows
 * written on the master. One push carries every row from the slave's cursor on, up to a
 * bounded size, so under load one call replicates a whole run of appends.
 *
 * Every batch names the master log's epoch (renewed when the queue is purged): a slave that
 * holds another epoch's rows wipes them before taking the batch, and refuses an older epoch,
 * so a topic deleted and created again can never mix old rows into the new log.
 */
import type { SendStatus } from "../../protocol/message.js";
import type { MessageQueue } from "../../protocol/message.js";
import type { CommitLog, RawRow } from "./commit-log.js";
import { withTimeout } from "../shared/timeout.js";

export interface ReplicaBatch {
  mq: MessageQueue;
  brokerId: number;
  /** The master log's epoch. */
  epoch: number;
  rows: RawRow[];
  /**
   * Consumer offsets that changed, with when the master stored each (absent from older
   * masters): a slave keeps a commit it took itself while the master was unreachable when that
   * commit is newer than the master's.
   */
  offsets: { group: string; offset: number; updatedAt?: number }[];
  /** The master's minOffset: the slave drops what the master's retention dropped. */
  minOffset: number;
}

export interface ReplicaAck {
  /** The slave's maxOffset after the batch. */
  nextOffset: number;
  /** The slave's minOffset after the batch. */
  minOffset: number;
}

export interface SlaveLink {
  brokerId: number;
  replicate(batch: ReplicaBatch): Promise<ReplicaAck>;
}

export interface SlaveStatus {
  brokerId: number;
  /** The slave's maxOffset as last acknowledged; null before the first contact since start. */
  ackedOffset: number | null;
  lagMessages: number | null;
  lastAckAt: number | null;
  lastError: string | null;
}

interface Cursor {
  acked: number | null;
  /** The slave's minOffset as last acknowledged: retention or a DLQ clean-up moving it needs pushes too. */
  ackedMin: number | null;
  ackedAt: number | null;
  lastError: string | null;
  /** Groups whose offsets changed since this slave last took them. */
  dirty: Set<string>;
  /** A pass sending every group's offset (after a start), page by page in group order. */
  fullPass: { after: string } | null;
  /** Pushes to one slave run one at a time. */
  chain: Promise<unknown>;
}

/** One push carries at most this many rows and (past the first row) this many bytes. */
const PUSH_MAX_ROWS = 256;
const PUSH_MAX_BYTES = 8 * 1024 * 1024;
const PUSH_MAX_OFFSETS = 1000;
/** A catch-up stops after this many pushes; the alarm carries on later. */
const CATCH_UP_MAX_ROUNDS = 64;
/** A slave call that has not answered by then counts as failed (the chain moves on). */
const PUSH_TIMEOUT_MS = 10_000;

export type OffsetReader = (page: { groups: readonly string[] } | { after: string }, limit: number) => { group: string; offset: number }[];

export class Replicator {
  private readonly cursors = new Map<number, Cursor>();

  constructor(
    private readonly log: CommitLog,
    private readonly readOffsets: OffsetReader,
    private readonly epoch: () => number,
  ) {}

  markOffsetDirty(group: string): void {
    for (const c of this.cursors.values()) c.dirty.add(group);
  }

  /** True when some slave is known to lack rows, offsets or a truncation, or has not been contacted. */
  behind(links: readonly SlaveLink[]): boolean {
    return links.some((l) => {
      const c = this.cursors.get(l.brokerId);
      return !c || !this.caughtUp(c, this.log.maxOffset);
    });
  }

  status(links: readonly SlaveLink[]): SlaveStatus[] {
    return links.map((l) => {
      const c = this.cursors.get(l.brokerId);
      const acked = c?.acked ?? null;
      return {
        brokerId: l.brokerId,
        ackedOffset: acked,
        lagMessages: acked === null ? null : Math.max(0, this.log.maxOffset - acked),
        lastAckAt: c?.ackedAt ?? null,
        lastError: c?.lastError ?? null,
      };
    });
  }

  /**
   * Asks each slave not heard from since start where it stands: one push without rows (the
   * first contact), whose answer sets its cursor. A failure stays in that slave's status.
   */
  async contact(links: readonly SlaveLink[], mq: MessageQueue): Promise<void> {
    const unknown = links.filter((l) => (this.cursors.get(l.brokerId)?.acked ?? null) === null);
    await Promise.allSettled(unknown.map((l) => this.pushOnce(l, mq)));
  }

  /**
   * SYNC_MASTER: resolves SEND_OK once any slave holds every offset below `target`,
   * FLUSH_SLAVE_TIMEOUT when none did within `timeoutMs`, SLAVE_NOT_AVAILABLE when every slave failed.
   */
  async syncUpTo(links: readonly SlaveLink[], mq: MessageQueue, target: number, timeoutMs: number): Promise<SendStatus> {
    if (links.length === 0) return "SLAVE_NOT_AVAILABLE";
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<SendStatus>((resolve) => {
      timer = setTimeout(() => resolve("FLUSH_SLAVE_TIMEOUT"), timeoutMs);
    });
    const any = Promise.any(links.map((l) => this.catchUp(l, mq, target, "rows"))).then(
      (): SendStatus => "SEND_OK",
      (): SendStatus => "SLAVE_NOT_AVAILABLE",
    );
    try {
      return await Promise.race([any, timeout]);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  /** ASYNC_MASTER (alarm): brings every slave up to date; false when some slave failed or is still behind. */
  async pushAll(links: readonly SlaveLink[], mq: MessageQueue): Promise<boolean> {
    const results = await Promise.allSettled(links.map((l) => this.catchUp(l, mq, this.log.maxOffset, "all")));
    return results.every((r) => r.status === "fulfilled");
  }

  /** Pushes until the slave holds `target` (and, for "all", every offset and truncation); throws if it could not. */
  private async catchUp(link: SlaveLink, mq: MessageQueue, target: number, what: "rows" | "all"): Promise<void> {
    for (let round = 0; round < CATCH_UP_MAX_ROUNDS; round++) {
      const c = this.cursor(link.brokerId);
      if (what === "rows" ? c.acked !== null && c.acked >= target : this.caughtUp(c, target)) return;
      await this.pushOnce(link, mq);
    }
    throw new Error(`slave ${link.brokerId} still behind after ${CATCH_UP_MAX_ROUNDS} pushes`);
  }

  private caughtUp(c: Cursor, target: number): boolean {
    return c.acked !== null && c.acked >= target && c.fullPass === null && c.dirty.size === 0 && c.ackedMin !== null && c.ackedMin >= this.log.minOffset;
  }

  private pushOnce(link: SlaveLink, mq: MessageQueue): Promise<void> {
    const c = this.cursor(link.brokerId);
    const run = c.chain.then(async () => {
      // The first contact carries no rows: the answer says where the slave is.
      const rows = c.acked === null ? [] : this.log.rawRows(Math.max(c.acked, this.log.minOffset), PUSH_MAX_ROWS, PUSH_MAX_BYTES);
      // Groups are taken out before the call, so a commit made meanwhile marks them again.
      const pass = c.fullPass;
      const groups = pass ? [] : [...c.dirty].slice(0, PUSH_MAX_OFFSETS);
      for (const g of groups) c.dirty.delete(g);
      const offsets = pass
        ? this.readOffsets({ after: pass.after }, PUSH_MAX_OFFSETS)
        : groups.length > 0
          ? this.readOffsets({ groups }, PUSH_MAX_OFFSETS)
          : [];
      const minOffset = this.log.minOffset;
      try {
        const ack = await withTimeout(link.replicate({ mq, brokerId: link.brokerId, epoch: this.epoch(), rows, offsets, minOffset }), PUSH_TIMEOUT_MS);
        c.acked = ack.nextOffset;
        c.ackedMin = ack.minOffset;
        c.ackedAt = Date.now();
        c.lastError = null;
        if (pass) c.fullPass = offsets.length < PUSH_MAX_OFFSETS ? null : { after: offsets[offsets.length - 1]!.group };
      } catch (e) {
        c.lastError = e instanceof Error ? e.message : String(e);
        for (const g of groups) c.dirty.add(g);
        throw e;
      }
    });
    c.chain = run.catch(() => undefined);
    return run;
  }

  private cursor(brokerId: number): Cursor {
    let c = this.cursors.get(brokerId);
    if (!c) {
      c = { acked: null, ackedMin: null, ackedAt: null, lastError: null, dirty: new Set(), fullPass: { after: "" }, chain: Promise.resolve() };
      this.cursors.set(brokerId, c);
    }
    return c;
  }
}
