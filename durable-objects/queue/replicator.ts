/**
 * Master → slave replication of one queue: commit-log rows exactly as stored (same offsets,
 * ids and store times) and the consumer offsets that changed. The master keeps a cursor per
 * slave in memory only (a restart asks the slave where it is), so replication adds no rows
 * written on the master. One push carries every row from the slave's cursor on, up to a
 * bounded size, so under load one call replicates a whole run of appends.
 */
import type { SendStatus } from "../../protocol/message.js";
import type { MessageQueue } from "../../protocol/message.js";
import type { CommitLog, RawRow } from "./commit-log.js";

export interface ReplicaBatch {
  mq: MessageQueue;
  brokerId: number;
  rows: RawRow[];
  offsets: { group: string; offset: number }[];
  /** The master's minOffset: the slave drops what the master's retention dropped. */
  minOffset: number;
}

export interface ReplicaAck {
  /** The slave's maxOffset after the batch. */
  nextOffset: number;
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
  ackedAt: number | null;
  lastError: string | null;
  /** Groups whose offsets changed since this slave last took them; null: all of them. */
  dirty: Set<string> | null;
  /** Pushes to one slave run one at a time. */
  chain: Promise<unknown>;
}

/** One push carries at most this many rows and (past the first row) this many bytes. */
const PUSH_MAX_ROWS = 256;
const PUSH_MAX_BYTES = 8 * 1024 * 1024;
const PUSH_MAX_OFFSETS = 1000;
/** A catch-up stops after this many pushes; the alarm carries on later. */
const CATCH_UP_MAX_ROUNDS = 64;

export class Replicator {
  private readonly cursors = new Map<number, Cursor>();

  constructor(
    private readonly log: CommitLog,
    private readonly readOffsets: (groups: readonly string[] | null, limit: number) => { group: string; offset: number }[],
  ) {}

  markOffsetDirty(group: string): void {
    for (const c of this.cursors.values()) c.dirty?.add(group);
  }

  /** True when some slave is known to lack rows or offsets, or has not been contacted. */
  behind(links: readonly SlaveLink[]): boolean {
    return links.some((l) => {
      const c = this.cursors.get(l.brokerId);
      return !c || c.acked === null || c.acked < this.log.maxOffset || c.dirty === null || c.dirty.size > 0;
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
   * SYNC_MASTER: resolves SEND_OK once any slave holds every offset below `target`,
   * FLUSH_SLAVE_TIMEOUT when none did within `timeoutMs`, SLAVE_NOT_AVAILABLE when every slave failed.
   */
  async syncUpTo(links: readonly SlaveLink[], mq: MessageQueue, target: number, timeoutMs: number): Promise<SendStatus> {
    if (links.length === 0) return "SLAVE_NOT_AVAILABLE";
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<SendStatus>((resolve) => {
      timer = setTimeout(() => resolve("FLUSH_SLAVE_TIMEOUT"), timeoutMs);
    });
    const any = Promise.any(links.map((l) => this.catchUp(l, mq, target))).then(
      (): SendStatus => "SEND_OK",
      (): SendStatus => "SLAVE_NOT_AVAILABLE",
    );
    try {
      return await Promise.race([any, timeout]);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  /** ASYNC_MASTER (alarm): brings every slave up to date; false when some slave failed. */
  async pushAll(links: readonly SlaveLink[], mq: MessageQueue): Promise<boolean> {
    const results = await Promise.allSettled(links.map((l) => this.catchUp(l, mq, this.log.maxOffset)));
    return results.every((r) => r.status === "fulfilled");
  }

  private async catchUp(link: SlaveLink, mq: MessageQueue, target: number): Promise<void> {
    for (let round = 0; round < CATCH_UP_MAX_ROUNDS; round++) {
      const c = this.cursor(link.brokerId);
      if (c.acked !== null && c.acked >= target && c.dirty !== null && c.dirty.size === 0) return;
      await this.pushOnce(link, mq);
    }
  }

  private pushOnce(link: SlaveLink, mq: MessageQueue): Promise<void> {
    const c = this.cursor(link.brokerId);
    const run = c.chain.then(async () => {
      // The first contact carries no rows: the answer says where the slave is.
      const rows = c.acked === null ? [] : this.log.rawRows(Math.max(c.acked, this.log.minOffset), PUSH_MAX_ROWS, PUSH_MAX_BYTES);
      // Groups are taken out before the call, so a commit made meanwhile marks them again.
      const all = c.dirty === null;
      const groups = c.dirty === null ? null : [...c.dirty].slice(0, PUSH_MAX_OFFSETS);
      if (c.dirty === null) c.dirty = new Set();
      else for (const g of groups ?? []) c.dirty.delete(g);
      const offsets = groups !== null && groups.length === 0 ? [] : this.readOffsets(groups, PUSH_MAX_OFFSETS);
      try {
        const ack = await link.replicate({ mq, brokerId: link.brokerId, rows, offsets, minOffset: this.log.minOffset });
        c.acked = ack.nextOffset;
        c.ackedAt = Date.now();
        c.lastError = null;
        if (all && offsets.length >= PUSH_MAX_OFFSETS) c.dirty = null; // more than one push holds
      } catch (e) {
        c.lastError = e instanceof Error ? e.message : String(e);
        if (all) c.dirty = null;
        else for (const g of groups ?? []) c.dirty?.add(g);
        throw e;
      }
    });
    c.chain = run.catch(() => undefined);
    return run;
  }

  private cursor(brokerId: number): Cursor {
    let c = this.cursors.get(brokerId);
    if (!c) {
      c = { acked: null, ackedAt: null, lastError: null, dirty: null, chain: Promise.resolve() };
      this.cursors.set(brokerId, c);
    }
    return c;
  }
}
