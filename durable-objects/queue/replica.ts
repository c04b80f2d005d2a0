/**
 * Slave side of a queue's replication (RocketMQ's HAClient): stores a master's rows and
 * consumer offsets exactly as sent (same offsets, ids and store times), and drops what the
 * master's retention dropped. Idempotent: rows already held are skipped, so a repeated or
 * overlapping push changes nothing. A push from an older epoch of the master's log is refused;
 * one from a newer epoch (the master's queue was purged) first wipes the old log.
 */
import { toRpcError } from "../../cluster/rpc-errors.js";
import type { CommitLog } from "./commit-log.js";
import type { ConsumeOffsets } from "./consume-offsets.js";
import type { QueueIdentity } from "./identity.js";
import type { ReplicaAck, ReplicaBatch } from "./replicator.js";
import { MAX_EXPIRED_ROWS_PER_CALL } from "./retention.js";

/** Truncation calls one push makes at most; the master pushes again while the slave is behind. */
const MAX_TRUNCATIONS_PER_PUSH = 10;

export interface ReplicaDeps {
  log: CommitLog;
  identity: QueueIdentity;
  offsets: ConsumeOffsets;
  storage: Pick<DurableObjectStorage, "transactionSync">;
  /** Empties the whole queue object (the master's log started again). */
  purge(): Promise<void>;
  /** After new rows were stored: wakes parked pulls and arms the slave's own retention. */
  stored(): Promise<void>;
}

export class Replica {
  constructor(private readonly deps: ReplicaDeps) {}

  /** Takes one push; answers where this slave's log now starts and ends. */
  async apply(batch: ReplicaBatch): Promise<ReplicaAck> {
    const { deps } = this;
    const { log, identity } = deps;
    if (identity.mq && identity.brokerId === 0) throw toRpcError("NO_PERMISSION", "a master queue takes no replication");
    if (identity.mq && batch.epoch < identity.epoch) throw toRpcError("SERVICE_UNAVAILABLE", "a push from an older log of this queue (it was purged since)");
    if (identity.mq && batch.epoch > identity.epoch) {
      // The master's log was purged and started again: drop everything of the old one.
      await deps.purge();
    }
    identity.remember(batch.mq, batch.brokerId, batch.epoch);
    let wrote = false;
    // Row by row (each its own transaction), so memory and disk agree even if one fails.
    for (const row of batch.rows) wrote = log.appendRaw(row) || wrote;
    if (batch.offsets.length > 0) {
      deps.storage.transactionSync(() => {
        for (const { group, offset, updatedAt } of batch.offsets) deps.offsets.storeReplicated(group, offset, updatedAt);
      });
    }
    // Bounded per push; the master pushes again while the slave's minOffset is behind its own.
    for (let i = 0; i < MAX_TRUNCATIONS_PER_PUSH && batch.minOffset > log.minOffset; i++) {
      if (log.truncate({ beforeOffset: batch.minOffset, maxRows: MAX_EXPIRED_ROWS_PER_CALL }) === 0) break;
    }
    if (wrote) await deps.stored();
    return { nextOffset: log.maxOffset, minOffset: log.minOffset };
  }
}
