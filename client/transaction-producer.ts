/**
 * TransactionProducer, as RocketMQ's TransactionMQProducer: sends a half message (durable,
 * invisible), runs the local transaction, then commits or rolls back. While started, it holds
 * a long poll for check-back requests of its group and answers them with the listener's
 * checkLocalTransaction; any one live producer of the group answers a given check.
 */
import { isMQError, MQError } from "../protocol/errors.js";
import type { SendResult } from "../protocol/message.js";
import type { EndTransactionResult, LocalTransactionState, TransactionCheck } from "../protocol/transaction.js";
import { fromWireMessage, type Message, type MessageExt } from "./message.js";
import { Producer, type ProducerOptions } from "./producer.js";
import { brokerPath } from "./routes.js";
import { sleep } from "./timing.js";
import { pathSegment } from "./transport.js";

export type { LocalTransactionState };

export interface TransactionListener {
  /** Runs the local transaction for a stored half message. A throw counts as UNKNOW. */
  executeLocalTransaction(message: Message, arg: unknown): LocalTransactionState | Promise<LocalTransactionState>;
  /** Answers a check-back; `TRANSACTION_CHECK_TIMES` in its properties says which check this is. */
  checkLocalTransaction(message: MessageExt): LocalTransactionState | Promise<LocalTransactionState>;
}

export interface TransactionProducerOptions extends ProducerOptions {
  transactionListener: TransactionListener;
  /** Long-poll hold of one check poll; default 20000. */
  checkPollWaitMs?: number;
  /** Pause after a failed check poll; default 3000 (RocketMQ's pull-after-exception delay). */
  checkPollRetryDelayMs?: number;
}

export interface TransactionSendResult extends SendResult {
  transactionId: string;
  localTransactionState: LocalTransactionState;
}

export class TransactionProducer extends Producer {
  private readonly listener: TransactionListener;
  private readonly checkPollWaitMs: number;
  private readonly checkPollRetryDelayMs: number;
  private loop: { abort: AbortController; done: Promise<void> } | undefined;
  /** Checks answered since start, for operators and tests. */
  checksAnswered = 0;

  constructor(options: TransactionProducerOptions) {
    super(options);
    this.listener = options.transactionListener;
    this.checkPollWaitMs = options.checkPollWaitMs ?? 20_000;
    this.checkPollRetryDelayMs = options.checkPollRetryDelayMs ?? 3000;
  }

  override async start(): Promise<void> {
    await super.start();
    if (this.loop) return;
    const abort = new AbortController();
    this.loop = { abort, done: this.pollChecks(abort.signal) };
  }

  override async shutdown(): Promise<void> {
    const loop = this.loop;
    this.loop = undefined;
    if (loop) {
      loop.abort.abort();
      await loop.done;
    }
    await super.shutdown();
  }

  async sendMessageInTransaction(message: Message, arg?: unknown): Promise<TransactionSendResult> {
    this.assertStarted();
    if (message.delayTimeLevel || message.deliverTimeMs !== undefined) {
      // RocketMQ silently clears the delay of a transaction message; say so instead.
      throw new MQError("MESSAGE_ILLEGAL", "a transaction message cannot be delayed");
    }
    const half = await this.dispatch(message, { retryOnSameQueue: true }, this.retryTimes, { transaction: { producerGroup: this.group } });
    const transactionId = half.transactionId ?? half.msgId;
    let state: LocalTransactionState;
    try {
      state = await this.listener.executeLocalTransaction(message, arg);
    } catch {
      state = "UNKNOW";
    }
    if (state !== "UNKNOW") {
      // A lost decision is not fatal: the broker checks back later.
      await this.endTransaction(half, transactionId, state).catch(() => undefined);
    }
    return { ...half, transactionId, localTransactionState: state };
  }

  private endTransaction(
    target: { messageQueue: SendResult["messageQueue"] },
    transactionId: string,
    decision: LocalTransactionState,
    fromTransactionCheck = false,
  ): Promise<EndTransactionResult> {
    return this.transport.request<EndTransactionResult>(`${brokerPath(target.messageQueue)}/transactions/${pathSegment(transactionId)}`, {
      method: "POST",
      body: { producerGroup: this.group, decision, fromTransactionCheck },
    });
  }

  private async pollChecks(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let checks: TransactionCheck[];
      try {
        ({ checks } = await this.transport.request<{ checks: TransactionCheck[] }>(`/producers/${pathSegment(this.group)}/checks`, {
          query: { maxWaitMs: this.checkPollWaitMs },
          timeoutMs: this.checkPollWaitMs + 10_000,
          signal,
        }));
      } catch (e) {
        if (signal.aborted || (isMQError(e) && e.code === "ABORTED")) return;
        await sleep(this.checkPollRetryDelayMs, signal);
        continue;
      }
      await Promise.all(checks.map((check) => this.answer(check)));
    }
  }

  private async answer(check: TransactionCheck): Promise<void> {
    let state: LocalTransactionState;
    try {
      state = await this.listener.checkLocalTransaction(fromWireMessage(check.message));
    } catch {
      state = "UNKNOW";
    }
    this.checksAnswered++;
    if (state === "UNKNOW") return;
    // A refused or lost answer is retried by the broker's next check.
    await this.endTransaction(check, check.transactionId, state, true).catch(() => undefined);
  }
}
