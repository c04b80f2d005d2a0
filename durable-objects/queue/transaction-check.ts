/**
 * Transaction check-back (RocketMQ's TransactionalMessageCheckService): a half message left
 * undecided past its check time is sent to its producer group, which asks a live producer for
 * the local transaction's state. Each transaction is checked at most `transactionCheckMax`
 * times, `transactionCheckIntervalMs` apart, then given up (half-store.ts keeps that count).
 * A check that cannot be delivered leaves the transaction pending: the next interval asks again.
 * Tested in transactions.test.ts ("QueueDO transactions: check-back").
 */
import type { Config } from "../../cluster/config.js";
import type { MessageQueue } from "../../protocol/message.js";
import { toMessageExt } from "../../protocol/message-ext.js";
import { TransactionProps, type TransactionCheck } from "../../protocol/transaction.js";
import type { DueCheck, HalfStore } from "./half-store.js";
import type { QueueIdentity } from "./identity.js";

/** Checks one alarm run raises at most. */
const MAX_CHECKS_PER_RUN = 200;
/** Bodies one alarm run decodes for checks at most, bounding its memory. */
const MAX_CHECK_BYTES_PER_RUN = 16 * 1024 * 1024;

export interface TransactionCheckDeps {
  half: HalfStore;
  identity: QueueIdentity;
  storage: Pick<DurableObjectStorage, "transactionSync">;
  config(): Pick<Config, "transactionCheckMax" | "transactionCheckIntervalMs">;
  /** Hands a check to the producer group object named `producerGroup`. */
  send(producerGroup: string, check: TransactionCheck): Promise<void>;
}

export class TransactionCheckBack {
  constructor(private readonly deps: TransactionCheckDeps) {}

  /** When the earliest pending transaction is due a check, or null when none is. */
  nextDueAt(): number | null {
    return this.deps.half.nextCheckAt();
  }

  /** Raises the checks due at `now` (counting each as asked) and delivers them. */
  async run(now: number): Promise<void> {
    const { half, storage } = this.deps;
    const config = this.deps.config();
    let checks: DueCheck[] = [];
    storage.transactionSync(() => {
      checks = half.takeDueChecks(now, MAX_CHECKS_PER_RUN, config.transactionCheckMax, config.transactionCheckIntervalMs, MAX_CHECK_BYTES_PER_RUN);
    });
    await this.send(checks);
  }

  private async send(checks: readonly DueCheck[]): Promise<void> {
    const mq = this.deps.identity.mq;
    if (!mq || checks.length === 0) return;
    await Promise.all(
      checks.map(async (c) => {
        const check = checkOf(mq, c);
        try {
          await this.deps.send(c.producerGroup, check);
        } catch (e) {
          // The half message stays pending; the next interval checks it again.
          console.warn(`transaction check ${c.transactionId} not delivered: ${String(e)}`);
        }
      }),
    );
  }
}

/** The check a producer receives: the half message as a MessageExt, with how often it was asked. */
function checkOf(mq: MessageQueue, c: DueCheck): TransactionCheck {
  return {
    transactionId: c.transactionId,
    producerGroup: c.producerGroup,
    messageQueue: mq,
    checkTimes: c.checkTimes,
    message: toMessageExt(mq, {
      queueOffset: -1,
      storeTimestamp: c.message.bornTimestamp,
      message: {
        ...c.message,
        properties: { ...c.message.properties, [TransactionProps.TRANSACTION_CHECK_TIMES]: String(c.checkTimes) },
      },
    }),
  };
}
