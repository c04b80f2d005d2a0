/**
 * Transactions of the Alibaba Cloud HTTP protocol on flaremq's transaction code
 * (durable-objects/queue/transactions.ts, transaction-check.ts, producer-group.ts).
 *
 * The protocol's transactional publish names no producer group, and any group's half-message
 * consume sees a topic's half messages, so a topic's half messages belong to one producer group
 * of its own, `%TX%<topic>` (transactionGroup). The queue's check-back hands each due check to
 * that group's object, exactly as for native producers; a half-message consume (`trans=pop`)
 * is a long poll for those checks (holdCheckPoll, as GET /producers/{group}/checks), each shown
 * as a `<Message>` whose ConsumedTimes is the check count and whose handle (half-handle.ts)
 * decides it until the next check is due (NextConsumeTime). Commit and rollback
 * (`trans=commit|rollback`) end the transaction on its queue by that handle or by the one the
 * publish answered. Check times: the first after __TransCheckT seconds, then every
 * TRANSACTION_CHECK_INTERVAL_MS, at most TRANSACTION_CHECK_MAX times (then rolled back).
 */
import { isMQError } from "../../protocol/errors.js";
import type { TransactionCheck } from "../../protocol/transaction.js";
import { readConfig } from "../../cluster/config.js";
import type { Env } from "../../cluster/env.js";
import { holdCheckPoll } from "../../cluster/long-polls.js";
import { callRpc } from "../../cluster/rpc-errors.js";
import { producerGroupStub, queueStub } from "../../cluster/stubs.js";
import { base64ToBytes } from "../../protocol/base64.js";
import { withPollSlot } from "../shared/rate-limit.js";
import type { ConsumeParams } from "./consume.js";
import { messagesDocument } from "./consume.js";
import { decodeHalfHandle, encodeHalfHandle } from "./half-handle.js";
import { messageElement } from "./message-xml.js";
import { AliyunProps } from "./properties.js";
import type { HandleFailure } from "./response.js";

/** The producer group that owns a topic's half messages published through this door. */
export function transactionGroup(topic: string): string {
  return `%TX%${topic}`;
}

const decoder = new TextDecoder();

function toElement(check: TransactionCheck, now: number, intervalMs: number): string {
  const m = check.message;
  const validUntil = now + intervalMs;
  const transSeconds = Number(m.properties[AliyunProps.TRANS_CHECK_T] ?? "0");
  return messageElement({
    msgId: m.msgId,
    receiptHandle: encodeHalfHandle({ ...check.messageQueue, transactionId: check.transactionId, validUntil }),
    body: decoder.decode(base64ToBytes(m.body) ?? new Uint8Array()),
    publishTime: m.bornTimestamp,
    nextConsumeTime: validUntil,
    // The first check is due __TransCheckT after the publish.
    firstConsumeTime: m.bornTimestamp + transSeconds * 1000,
    consumedTimes: check.checkTimes,
    tag: m.tags,
    keys: m.keys,
    properties: m.properties,
  });
}

/** ConsumeHalfMessage: the topic's half messages due a check; answers the `<Messages>` document. */
export async function consumeHalf(env: Env, topic: string, params: ConsumeParams, accountKey: string): Promise<string> {
  const group = transactionGroup(topic);
  const checks = await withPollSlot(accountKey, () =>
    callRpc(() => holdCheckPoll(producerGroupStub(env, group), params.numOfMessages, group, { maxWaitMs: params.waitSeconds * 1000, account: accountKey })),
  );
  const now = Date.now();
  const intervalMs = readConfig(env).transactionCheckIntervalMs;
  return messagesDocument(checks.filter((c) => c.messageQueue.topic === topic).map((c) => toElement(c, now, intervalMs)));
}

/** Commits or rolls back the half messages the handles name; answers the handles that failed. */
export async function decide(env: Env, topic: string, handles: readonly string[], commit: boolean, now = Date.now()): Promise<HandleFailure[]> {
  const failures: HandleFailure[] = [];
  const brokers = readConfig(env).brokers;
  for (const receiptHandle of handles) {
    const handle = decodeHalfHandle(receiptHandle);
    if (!handle || handle.topic !== topic || !brokers.includes(handle.brokerName)) {
      failures.push({ receiptHandle, code: "ReceiptHandleError" });
      continue;
    }
    if (now > handle.validUntil) {
      failures.push({ receiptHandle, code: "MessageNotExist" });
      continue;
    }
    const stub = queueStub(env, handle.brokerName, topic, handle.queueId);
    try {
      await callRpc(() => stub.endTransaction(handle.transactionId, transactionGroup(topic), commit ? "COMMIT_MESSAGE" : "ROLLBACK_MESSAGE"));
    } catch (e) {
      // Unknown, of another topic's group, or decided the other way: the handle is no good.
      if (!isMQError(e) || !e.code.startsWith("TRANSACTION_")) throw e;
      failures.push({ receiptHandle, code: "ReceiptHandleError" });
    }
  }
  return failures;
}
