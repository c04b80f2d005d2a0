/** Transaction vocabulary shared by broker and client (RocketMQ's LocalTransactionState). */
import type { MessageExtWire, MessageQueue } from "./message.js";

export type LocalTransactionState = "COMMIT_MESSAGE" | "ROLLBACK_MESSAGE" | "UNKNOW";

/** Where a half message stands on the broker. GIVEN_UP: rolled back after too many checks. */
export type HalfState = "PENDING" | "COMMITTED" | "ROLLED_BACK" | "GIVEN_UP";

/** A transaction's half message as the broker tracks it. */
export interface HalfInfo {
  transactionId: string;
  producerGroup: string;
  state: HalfState;
  bornTimestamp: number;
  checkTimes: number;
  nextCheckAt: number | null;
  queueOffset: number | null;
  decidedAt: number | null;
}

/** A check-back request handed to one live producer of the group. */
export interface TransactionCheck {
  transactionId: string;
  producerGroup: string;
  messageQueue: MessageQueue;
  /** How many times this half message has been checked, this one included (TRANSACTION_CHECK_TIMES). */
  checkTimes: number;
  message: MessageExtWire;
}

export interface EndTransactionResult {
  transactionId: string;
  state: HalfState;
  /** Offset in the queue once committed. */
  queueOffset: number | null;
}

/** Property names the broker sets on half and delayed messages. */
export const TransactionProps = {
  TRAN_MSG: "TRAN_MSG",
  PGROUP: "PGROUP",
  TRANSACTION_CHECK_TIMES: "TRANSACTION_CHECK_TIMES",
  CHECK_IMMUNITY_TIME_IN_SECONDS: "CHECK_IMMUNITY_TIME_IN_SECONDS",
} as const;
