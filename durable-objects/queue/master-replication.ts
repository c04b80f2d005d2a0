/**
 * Master side of a queue's replication (RocketMQ's HAService on the master): when to push to
 * the slaves, and what the broker role asks of a send. An ASYNC_MASTER answers a send once its
 * own write is durable, then pushes: at once by default, as RocketMQ's master streams to its
 * slave, with whatever is appended while a push is in flight riding the next one (so pushes
 * never outnumber appends and gather more under load); with ASYNC_REPLICATION_DELAY_MS above
 * 0, one push carried by the alarm gathers the appends of that while. A SYNC_MASTER answers
 * once a slave holds it too. A push that fails is retried with backoff by the alarm. The
 * pushes themselves are replicator.ts; the slave side is replica.ts.
 */
import type { Config } from "../../cluster/config.js";
import type { MessageQueue, SendStatus } from "../../protocol/message.js";
import type { CommitLog } from "./commit-log.js";
import type { QueueIdentity } from "./identity.js";
import { Replicator, type OffsetReader, type SlaveLink, type SlaveStatus } from "./replicator.js";
import { withTimeout } from "../shared/timeout.js";

export interface ReplicationStatus {
  brokerId: number;
  minOffset: number;
  maxOffset: number;
  slaves: SlaveStatus[];
}

export interface MasterReplicationDeps {
  log: CommitLog;
  identity: QueueIdentity;
  /** Consumer offsets for a push (ConsumeOffsets.read). */
  readOffsets: OffsetReader;
  /** The call that pushes a batch to slave `brokerId` of `mq`. */
  slaveCall(mq: MessageQueue, brokerId: number): SlaveLink["replicate"];
  config(): Pick<Config, "slavesPerBroker" | "asyncReplicationDelayMs" | "brokerRole" | "syncFlushSlaveTimeoutMs">;
  /** Moves the object's alarm to `at` if it is set later or not at all (a push only ever needs it earlier). */
  alarmBy(at: number): Promise<void>;
  now(): number;
}

/** How long a status waits for a slave it asks where it stands (statusNow). */
export const STATUS_CONTACT_WAIT_MS = 2000;

/** Failed pushes are retried 1 s, 2 s, 4 s ... apart, up to this. */
const MAX_RETRY_DELAY_MS = 30_000;

export class MasterReplication {
  private replicator: Replicator;
  /** When the next push is due (memory: a start schedules one). */
  private pushDueAt: number | null = null;
  private failures = 0;
  /** The slave links, built once per identity: every append and commit asks for them. */
  private links: { identity: MessageQueue; links: SlaveLink[] } | null = null;
  /** An immediate push in flight (ASYNC_REPLICATION_DELAY_MS 0), and whether changes arrived meanwhile. */
  private pushing: Promise<void> | null = null;
  private changedWhilePushing = false;

  constructor(private readonly deps: MasterReplicationDeps) {
    this.replicator = this.newReplicator();
    // A master that restarted does not know where its slaves are: one push finds out.
    if (this.slaveLinks().length > 0) this.pushDueAt = deps.now() + deps.config().asyncReplicationDelayMs;
  }

  /** When the next push is due, or null when none is. */
  get dueAt(): number | null {
    return this.pushDueAt;
  }

  /** Makes a push due by `at` unless one is due already (the caller's alarm run carries it). */
  markDue(at: number): void {
    if (this.pushDueAt === null) this.pushDueAt = at;
  }

  /** The slaves this queue replicates to: none unless it is a master with an identity. */
  slaveLinks(): SlaveLink[] {
    const { identity } = this.deps;
    const mq = identity.mq;
    if (!mq || identity.brokerId !== 0) return [];
    if (this.links?.identity !== mq) this.links = { identity: mq, links: this.buildSlaveLinks(mq) };
    return this.links.links;
  }

  /** What the first slave holds while it is healthy, so a consumer far behind may read there. */
  slaveHolds(): number | undefined {
    if (this.deps.identity.brokerId !== 0) return undefined;
    const slave = this.replicator.status(this.slaveLinks())[0];
    return slave && slave.lastError === null && slave.ackedOffset !== null ? slave.ackedOffset : undefined;
  }

  /** Where each slave stands (cluster list's replication lag). */
  status(): ReplicationStatus {
    const { log, identity } = this.deps;
    return { brokerId: identity.brokerId, minOffset: log.minOffset, maxOffset: log.maxOffset, slaves: this.replicator.status(this.slaveLinks()) };
  }

  /**
   * Where each slave stands, after asking any slave not heard from since this object started:
   * a fresh or restarted master holds no cursor until its first push, and a status must still
   * say how far behind the slave is (RocketMQ's HA shows the slave's acknowledged offset). The
   * contact is the push a start schedules anyway, only earlier; it waits at most `maxWaitMs`,
   * and a slave that does not answer in time stays unknown (with its error, if any).
   */
  async statusNow(maxWaitMs: number = STATUS_CONTACT_WAIT_MS): Promise<ReplicationStatus> {
    const links = this.slaveLinks();
    const mq = this.deps.identity.mq;
    // A queue that never stored anything has nothing to lag behind: its slave is not woken.
    if (mq && links.length > 0 && this.deps.log.maxOffset > 0) {
      await withTimeout(this.replicator.contact(links, mq), maxWaitMs).catch(() => undefined);
    }
    return this.status();
  }

  /** A group's offset changed: the next push carries it. */
  async offsetChanged(group: string): Promise<void> {
    if (this.slaveLinks().length === 0) return;
    this.replicator.markOffsetDirty(group);
    await this.schedule();
  }

  /**
   * ASYNC replication of a change: pushed at once (ASYNC_REPLICATION_DELAY_MS 0), or by one
   * push after the delay that gathers every change meanwhile. A push already due (a retry
   * backing off, or the delay) carries it.
   */
  async schedule(): Promise<void> {
    if (this.pushDueAt !== null || this.slaveLinks().length === 0) return;
    const delayMs = this.deps.config().asyncReplicationDelayMs;
    if (delayMs <= 0) return this.pushSoon();
    this.pushDueAt = this.deps.now() + delayMs;
    await this.deps.alarmBy(this.pushDueAt);
  }

  /** Resolves when no immediate push is in flight (tests; a purge). */
  async settled(): Promise<void> {
    while (this.pushing) await this.pushing;
  }

  /**
   * Starts an immediate push unless one is in flight, which then pushes once more for what
   * arrived meanwhile. Not awaited by the caller's answer: the send is already answered.
   */
  private pushSoon(): void {
    if (this.pushing) {
      this.changedWhilePushing = true;
      return;
    }
    this.pushing = this.pushWhileChanged().finally(() => (this.pushing = null));
  }

  private async pushWhileChanged(): Promise<void> {
    do {
      this.changedWhilePushing = false;
      const outcome = await this.pushNow().catch((e: unknown) => {
        console.warn(`replication push failed: ${String(e)}`);
        return "failed" as const;
      });
      if (outcome === "failed") {
        // pushNow set the retry's time; the alarm carries it, and every change until then.
        if (this.pushDueAt !== null) await this.deps.alarmBy(this.pushDueAt);
        return;
      }
      this.pushDueAt = null; // "behind": this loop goes on instead of the alarm
    } while (this.changedWhilePushing || this.replicator.behind(this.slaveLinks()));
  }

  /**
   * Answers a durable group commit as the broker role says. A SYNC_MASTER answers once a slave
   * holds it (not awaited here: the next group is written while this one waits, and the next
   * push carries both); no slave at all is SLAVE_NOT_AVAILABLE, as in RocketMQ.
   */
  async confirm(answer: (status: SendStatus) => void): Promise<void> {
    const links = this.slaveLinks();
    const config = this.deps.config();
    const mq = this.deps.identity.mq;
    if (config.brokerRole === "SYNC_MASTER" && mq) {
      const target = this.deps.log.maxOffset;
      void this.replicator
        .syncUpTo(links, mq, target, config.syncFlushSlaveTimeoutMs)
        .then(answer, () => answer("SLAVE_NOT_AVAILABLE"))
        .then(() => (this.replicator.behind(links) ? this.schedule() : undefined)) // offsets, or a slave left behind
        .catch((e: unknown) => console.warn(`replication scheduling failed: ${String(e)}`));
    } else {
      answer("SEND_OK");
      await this.schedule();
    }
  }

  /**
   * The alarm's push: brings every slave up to date, or schedules a retry with backoff. Says
   * whether it failed, or succeeded with a slave still behind (what was appended meanwhile;
   * a push is then due at once).
   */
  async pushNow(): Promise<"done" | "behind" | "failed"> {
    this.pushDueAt = null;
    let ok = false;
    try {
      const links = this.slaveLinks();
      const mq = this.deps.identity.mq;
      if (links.length === 0 || !mq) {
        ok = true;
        return "done";
      }
      ok = await this.replicator.pushAll(links, mq);
      if (!ok) return "failed";
      this.failures = 0;
      if (!this.replicator.behind(links)) return "done";
      this.pushDueAt = this.deps.now() + 1;
      return "behind";
    } finally {
      if (!ok) {
        // An unreachable slave (or a push that threw) is retried with backoff, up to 30 s apart.
        this.failures++;
        this.pushDueAt = this.deps.now() + Math.min(MAX_RETRY_DELAY_MS, 500 * 2 ** Math.min(this.failures, 6));
      }
    }
  }

  /** Starts afresh after a purge: nothing due, and no cursor into the old log. */
  reset(): void {
    this.pushDueAt = null;
    this.replicator = this.newReplicator();
  }

  private newReplicator(): Replicator {
    return new Replicator(this.deps.log, this.deps.readOffsets, () => this.deps.identity.epoch);
  }

  private buildSlaveLinks(mq: MessageQueue): SlaveLink[] {
    return Array.from({ length: this.deps.config().slavesPerBroker }, (_, i) => {
      const brokerId = i + 1;
      return { brokerId, replicate: this.deps.slaveCall(mq, brokerId) };
    });
  }
}
