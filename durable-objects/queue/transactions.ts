/**
 * Transactional messages on one queue (RocketMQ's TransactionalMessageService): a half message
 * is stored durable and invisible, then the producer's decision commits it into the log or
 * rolls it back. Decisions are idempotent and remembered for a while after; a contradicting
 * one is refused. Asking the producer about undecided ones is transaction-check.ts.
 */
import { toRpcError } from "../../cluster/rpc-errors.js";
import type { MessageQueue, StoredMessage } from "../../protocol/message.js";
import { TransactionProps, type EndTransactionResult, type LocalTransactionState } from "../../protocol/transaction.js";
import type { CommitLog } from "./commit-log.js";
import type { HalfInfo, HalfState, HalfStore } from "./half-store.js";
import type { QueueIdentity } from "./identity.js";

/** Decided transactions are remembered this long, so repeated decisions stay idempotent. */
export const DECIDED_RETENTION_MS = 3600_000;
/** Decisions one alarm run forgets at most. */
const FORGET_MAX_PER_RUN = 500;

export interface TransactionsDeps {
  half: HalfStore;
  log: CommitLog;
  identity: QueueIdentity;
  storage: Pick<DurableObjectStorage, "sync" | "transactionSync">;
  now(): number;
  /** Points the alarm at the earliest due work (a new half message's first check included). */
  armAlarm(): Promise<void>;
  /** After a commit is durable: wakes parked pulls and schedules replication. */
  committed(): Promise<void>;
}

export class Transactions {
  constructor(private readonly deps: TransactionsDeps) {}

  /** Stores a transaction's half message: durable, invisible until committed. Idempotent per msgId. */
  async prepare(mq: MessageQueue, message: StoredMessage, producerGroup: string, firstCheckAt: number): Promise<void> {
    const { half } = this.deps;
    const existing = half.get(message.msgId);
    if (existing) {
      // Names no group: which producer group owns a transaction is not the sender's business.
      if (existing.producerGroup !== producerGroup)
        throw toRpcError("TRANSACTION_GROUP_MISMATCH", `msgId ${message.msgId} is taken by another transaction on this queue; send with a new msgId`);
      return;
    }
    this.deps.identity.remember(mq);
    half.add(message, producerGroup, this.deps.now(), firstCheckAt);
    await this.deps.armAlarm();
    await this.deps.storage.sync();
  }

  /**
   * Applies a producer's decision. COMMIT appends the message and makes it visible; ROLLBACK
   * discards it; both are idempotent; contradicting an earlier decision is refused; UNKNOW
   * changes nothing (the next check asks again). A transaction of another producer group is
   * answered exactly as one that does not exist, so a decision reveals nothing about it.
   */
  async end(transactionId: string, producerGroup: string, decision: LocalTransactionState): Promise<EndTransactionResult> {
    const { half, log, storage } = this.deps;
    const info = half.get(transactionId);
    if (!info || info.producerGroup !== producerGroup)
      throw toRpcError("TRANSACTION_NOT_FOUND", `no transaction ${transactionId} of this producer group on this queue (unknown or expired)`);
    const result = (state: HalfState, queueOffset: number | null): EndTransactionResult => ({ transactionId, state, queueOffset });
    if (decision === "UNKNOW") return result(info.state, info.queueOffset);
    if (decision === "COMMIT_MESSAGE") {
      if (info.state === "COMMITTED") return result("COMMITTED", info.queueOffset);
      if (info.state !== "PENDING") throw toRpcError("TRANSACTION_ALREADY_ROLLED_BACK", `transaction ${transactionId} was already rolled back`);
      const message = half.message(transactionId);
      if (!message) throw toRpcError("TRANSACTION_NOT_FOUND", `transaction ${transactionId} has no message`);
      const now = this.deps.now();
      const visible = { ...message, properties: withoutTransactionProps(message.properties) };
      let offset = 0;
      // Append and decision in one transaction: a commit is never half applied.
      // The decision is written first and the append last, so nothing can fail after the
      // log's in-memory position moved (a rolled-back append would leave a gap).
      storage.transactionSync(() => {
        offset = log.maxOffset;
        half.decide(transactionId, "COMMITTED", now, offset);
        log.append([visible], now);
      });
      await storage.sync();
      await this.deps.committed();
      return result("COMMITTED", offset);
    }
    if (info.state === "COMMITTED") throw toRpcError("TRANSACTION_ALREADY_COMMITTED", `transaction ${transactionId} was already committed`);
    if (info.state === "PENDING") {
      half.decide(transactionId, "ROLLED_BACK", this.deps.now(), null);
      await storage.sync();
    }
    return result(info.state === "PENDING" ? "ROLLED_BACK" : info.state, null);
  }

  list(state: HalfState | undefined, limit: number): HalfInfo[] {
    return this.deps.half.list(state, limit);
  }

  /** When the oldest remembered decision may be forgotten, or null when there is none. */
  forgetDueAt(): number | null {
    const oldestDecided = this.deps.half.oldestDecidedAt();
    return oldestDecided === null ? null : oldestDecided + DECIDED_RETENTION_MS;
  }

  /** Forgets decisions older than the retention time, a bounded number per call. */
  forgetDecided(now: number): void {
    this.deps.half.forgetDecided(now - DECIDED_RETENTION_MS, FORGET_MAX_PER_RUN);
  }
}

/** The message as it becomes visible: without the markers that made it a half message. */
function withoutTransactionProps(properties: Record<string, string>): Record<string, string> {
  const { [TransactionProps.TRAN_MSG]: _t, [TransactionProps.PGROUP]: _g, ...rest } = properties;
  return rest;
}
