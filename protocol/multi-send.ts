/**
 * The answer to a multi-queue send (MultiSendRequestSchema): one entry per message, in request
 * order (queue entries in order, each queue's messages in order). Messages are independent, so
 * each one is either stored (its own SendResult) or refused with its own error code, and a
 * producer can resolve or retry each send by itself.
 */
import type { ErrorCode } from "./errors.js";
import type { SendResult } from "./message.js";

export type MultiSendItem = { ok: true; result: SendResult } | { ok: false; code: ErrorCode; message: string };

export interface MultiSendResponse {
  results: MultiSendItem[];
}
