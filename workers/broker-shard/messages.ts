/** Conversion between wire messages (JSON, base64 bodies) and stored messages, with limits. */
import { base64DecodedLength, base64ToBytes } from "../../protocol/base64.js";
import { MQError } from "../../protocol/errors.js";
import { Limits } from "../../protocol/limits.js";
import type { StoredMessage } from "../../protocol/message.js";
import { bodiesTooLarge, bodyTooLarge } from "../../protocol/size-refusals.js";
import type { MessageIn } from "../../protocol/schemas.js";
import { toStoredMessage } from "../../protocol/stored-message.js";

const encoder = new TextEncoder();

export function toStoredMessages(input: readonly MessageIn[], now: number, bornHost: string): StoredMessage[] {
  let total = 0;
  const out = input.map((m, i) => {
    const index = input.length > 1 ? i : undefined;
    const encoding = m.bodyEncoding ?? "base64";
    // The size first, so an oversized base64 body is refused before it is decoded.
    const size = encoding === "utf8" ? encoder.encode(m.body).length : base64DecodedLength(m.body);
    if (size > Limits.maxBodyBytes) throw bodyTooLarge(size, index);
    const body = encoding === "utf8" ? encoder.encode(m.body) : base64ToBytes(m.body);
    if (!body) throw new MQError("MESSAGE_ILLEGAL", `body is not valid base64${index === undefined ? "" : ` (message ${i})`}`);
    total += body.length;
    return toStoredMessage(m, body, now, bornHost, index);
  });
  if (total > Limits.maxBatchBodyBytes) throw bodiesTooLarge(total);
  return out;
}

export { toMessageExt } from "../../protocol/message-ext.js";
