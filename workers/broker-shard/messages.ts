/** Conversion between wire messages (JSON, base64 bodies) and stored messages, with limits. */
import { base64DecodedLength, base64ToBytes } from "../../protocol/base64.js";
import { MQError } from "../../protocol/errors.js";
import { Limits } from "../../protocol/limits.js";
import { hasPropertySeparator, propertiesSize, type StoredMessage } from "../../protocol/message.js";
import { createMsgId } from "../../protocol/msg-id.js";
import { bodiesTooLarge, bodyTooLarge } from "../../protocol/size-refusals.js";
import type { MessageIn } from "../../protocol/schemas.js";

const encoder = new TextEncoder();

export function toStoredMessages(input: readonly MessageIn[], now: number, bornHost: string): StoredMessage[] {
  let total = 0;
  const out = input.map((m, i) => {
    const at = input.length > 1 ? ` (message ${i})` : "";
    const encoding = m.bodyEncoding ?? "base64";
    const size = encoding === "utf8" ? encoder.encode(m.body).length : base64DecodedLength(m.body);
    if (size > Limits.maxBodyBytes) throw bodyTooLarge(size, input.length > 1 ? i : undefined);
    const body = encoding === "utf8" ? encoder.encode(m.body) : base64ToBytes(m.body);
    if (!body) throw new MQError("MESSAGE_ILLEGAL", `body is not valid base64${at}`);
    if (body.length === 0) throw new MQError("MESSAGE_ILLEGAL", `body is empty${at}`);
    total += body.length;
    const tags = m.tags ?? "";
    const keys = m.keys ?? [];
    const properties = m.properties ?? {};
    const texts = [tags, ...keys, ...Object.keys(properties), ...Object.values(properties)];
    if (texts.some(hasPropertySeparator)) throw new MQError("MESSAGE_ILLEGAL", `tags, keys and properties may not contain \\u0001 or \\u0002${at}`);
    const propsSize = propertiesSize(tags, keys, properties);
    if (propsSize > Limits.maxPropertiesBytes)
      throw new MQError("PROPERTIES_SIZE_EXCEEDED", `properties are ${propsSize} bytes encoded, the limit is ${Limits.maxPropertiesBytes}${at}`);
    return {
      msgId: m.msgId ?? createMsgId(now),
      tags,
      keys,
      properties,
      bornTimestamp: m.bornTimestamp ?? now,
      bornHost: m.bornHost ?? bornHost,
      flag: m.flag ?? 0,
      reconsumeTimes: 0,
      body,
    };
  });
  if (total > Limits.maxBatchBodyBytes) throw bodiesTooLarge(total);
  return out;
}

export { toMessageExt } from "../../protocol/message-ext.js";
