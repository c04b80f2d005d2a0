/**
 * A producer's message as the log stores it, with every per-message check a send makes: body
 * size and emptiness, separators in tags, keys and properties, and the properties' encoded
 * size. Shared by the HTTP send paths (base64 or UTF-8 bodies, workers/broker-shard/messages.ts)
 * and the send channel (raw bodies, durable-objects/queue/send-channels.ts).
 */
import { MQError } from "./errors.js";
import { Limits } from "./limits.js";
import { hasPropertySeparator, propertiesSize, type StoredMessage } from "./message.js";
import { createMsgId } from "./msg-id.js";
import type { MessageIn } from "./schemas.js";
import { bodyTooLarge } from "./size-refusals.js";

/** The fields of a message besides its body and its delay. */
export type MessageFields = Omit<MessageIn, "body" | "bodyEncoding" | "delayTimeLevel" | "deliverTimeMs">;

/**
 * The stored form of one message whose body is `body`; `index` names the message in a refusal
 * when it is one of several.
 */
export function toStoredMessage(m: MessageFields, body: Uint8Array, now: number, bornHost: string, index?: number): StoredMessage {
  const at = index === undefined ? "" : ` (message ${index})`;
  if (body.length > Limits.maxBodyBytes) throw bodyTooLarge(body.length, index);
  if (body.length === 0) throw new MQError("MESSAGE_ILLEGAL", `body is empty${at}`);
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
}
