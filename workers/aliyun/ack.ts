/**
 * AckMessage of the Alibaba Cloud HTTP protocol (DELETE /topics/{topic}/messages?consumer=...):
 * a `<ReceiptHandles>` body acked through the SimpleConsumer's batch ack (groups/pop-calls.ts),
 * one call per queue. Every handle is applied or refused on its own; the refused ones come back
 * in the protocol's 404 `<Errors>` list: MessageNotExist for a handle whose NextConsumeTime
 * passed (or whose message was consumed again since), ReceiptHandleError for anything else
 * (unreadable, of another topic, already acked, a half-message handle).
 */
import type { AckStatus } from "../../protocol/receipt-handle.js";
import { decodeReceiptHandle } from "../../protocol/receipt-handle.js";
import type { Env } from "../../cluster/env.js";
import { popAck, type AuthorizeTopic } from "../groups/pop-calls.js";
import { AliyunError } from "./errors.js";
import type { HandleFailure } from "./response.js";
import type { XmlElement } from "./xml.js";

/** Handles one ack, commit or rollback takes at most (the protocol's 16). */
export const MAX_HANDLES = 16;

/** The handles of a `<ReceiptHandles>` body: MissingReceiptHandle for none, InvalidArgument past 16. */
export function readHandles(root: XmlElement): string[] {
  if (root.name !== "ReceiptHandles") throw new AliyunError("InvalidArgument", `expected a <ReceiptHandles> document, got <${root.name}>`);
  const handles = root.children.filter((c) => c.name === "ReceiptHandle").map((c) => c.text.trim());
  if (handles.length === 0) throw new AliyunError("MissingReceiptHandle", "ReceiptHandle is required.");
  if (handles.length > MAX_HANDLES) throw new AliyunError("InvalidArgument", `At most ${MAX_HANDLES} receipt handles in one request.`);
  return handles;
}

/** The protocol's item code for a handle the ack refused. */
export function failureCode(status: Exclude<AckStatus, "OK">): HandleFailure["code"] {
  return status === "RECEIPT_HANDLE_EXPIRED" ? "MessageNotExist" : "ReceiptHandleError";
}

/** Acks for `group` on `topic`; answers the handles that failed (none: 204). */
export async function ack(env: Env, topic: string, group: string, handles: readonly string[], authorizeTopic: AuthorizeTopic): Promise<HandleFailure[]> {
  // Handles of other topics are refused here: a request acts on the topic its path names.
  const ours = handles.filter((h) => decodeReceiptHandle(h)?.topic === topic);
  const results = ours.length === 0 ? [] : (await popAck(env, group, ours, authorizeTopic)).results;
  const status = new Map(results.map((r) => [r.receiptHandle, r.status]));
  const failures: HandleFailure[] = [];
  for (const receiptHandle of handles) {
    const s = status.get(receiptHandle) ?? "RECEIPT_HANDLE_INVALID";
    if (s !== "OK") failures.push({ receiptHandle, code: failureCode(s) });
  }
  return failures;
}
