/**
 * A message as the Alibaba Cloud HTTP protocol's consume answers show it (`<Message>` inside
 * `<Messages>`): id, handle, body and its MD5, publish time, the delivery's NextConsumeTime,
 * FirstConsumeTime and ConsumedTimes, tag and properties. Properties are the message's own:
 * the user's, KEYS and the protocol's `__` keys, without the markers flaremq adds itself.
 */
import { md5 } from "../../protocol/md5.js";
import { TransactionProps } from "../../protocol/transaction.js";
import { formatProperties } from "./properties.js";
import { fieldsElement } from "./xml.js";

/** Properties flaremq sets for its own bookkeeping; an SDK never sees them. */
const INTERNAL_PROPS: ReadonlySet<string> = new Set([
  "TIMER_DELIVER_MS",
  "DELAY",
  TransactionProps.TRAN_MSG,
  TransactionProps.PGROUP,
  TransactionProps.TRANSACTION_CHECK_TIMES,
  TransactionProps.CHECK_IMMUNITY_TIME_IN_SECONDS,
]);

export interface AliyunMessage {
  msgId: string;
  receiptHandle: string;
  body: string;
  publishTime: number;
  nextConsumeTime: number;
  firstConsumeTime: number;
  consumedTimes: number;
  tag: string;
  keys: readonly string[];
  properties: Record<string, string>;
}

/** Upper-case hex MD5 of the body's UTF-8 bytes (MessageBodyMD5). */
export function bodyMd5(body: string): string {
  let hex = "";
  for (const b of md5(body)) hex += b.toString(16).padStart(2, "0");
  return hex.toUpperCase();
}

/** The properties an SDK reads back: the message's own and KEYS. */
export function visibleProperties(keys: readonly string[], properties: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(properties)) if (!INTERNAL_PROPS.has(k)) out[k] = v;
  if (keys.length > 0) out.KEYS = keys.join(" ");
  return out;
}

export function messageElement(m: AliyunMessage): string {
  const properties = formatProperties(visibleProperties(m.keys, m.properties));
  return fieldsElement("Message", [
    ["MessageId", m.msgId],
    ["ReceiptHandle", m.receiptHandle],
    ["MessageBodyMD5", bodyMd5(m.body)],
    ["MessageBody", m.body],
    ["PublishTime", m.publishTime],
    ["NextConsumeTime", m.nextConsumeTime],
    ["FirstConsumeTime", m.firstConsumeTime],
    ["ConsumedTimes", m.consumedTimes],
    ["MessageTag", m.tag === "" ? undefined : m.tag],
    ["Properties", properties === "" ? undefined : properties],
  ]);
}
