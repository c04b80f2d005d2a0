/**
 * Message shapes: what a producer sends, what the broker stores and what a consumer pulls.
 * Vocabulary follows RocketMQ (Message, MessageExt, SendResult, PullResult).
 */

/** A message as stored in a queue's commit log (the topic and queue are the queue's own). */
export interface StoredMessage {
  /** The client's unique key (RocketMQ UNIQ_KEY). */
  msgId: string;
  tags: string;
  keys: string[];
  properties: Record<string, string>;
  bornTimestamp: number;
  bornHost: string;
  flag: number;
  reconsumeTimes: number;
  body: Uint8Array;
}

export interface MessageQueue {
  topic: string;
  brokerName: string;
  queueId: number;
}

export type SendStatus = "SEND_OK" | "FLUSH_DISK_TIMEOUT" | "FLUSH_SLAVE_TIMEOUT" | "SLAVE_NOT_AVAILABLE";

/** The answer to a send, as RocketMQ's SendResult; for a batch, ids are listed in order. */
export interface SendResult {
  sendStatus: SendStatus;
  /** The client's unique key; for a batch, the ids joined with commas as RocketMQ does. */
  msgId: string;
  offsetMsgId: string;
  messageQueue: MessageQueue;
  /** Offset of the (first) message. */
  queueOffset: number;
  msgIds: string[];
  offsetMsgIds: string[];
  /** For a delayed message: when it becomes visible (its queueOffset is -1 until then). */
  deliverTimeMs?: number;
  /** For a transaction's half message: the id to commit or roll back (queueOffset -1). */
  transactionId?: string;
}

export type PullStatus = "FOUND" | "NO_NEW_MSG" | "NO_MATCHED_MSG" | "OFFSET_ILLEGAL";

/** A pulled message, as it travels in JSON: the body is base64. */
export interface MessageExtWire {
  topic: string;
  brokerName: string;
  queueId: number;
  queueOffset: number;
  msgId: string;
  offsetMsgId: string;
  tags: string;
  keys: string[];
  properties: Record<string, string>;
  bornTimestamp: number;
  bornHost: string;
  storeTimestamp: number;
  reconsumeTimes: number;
  flag: number;
  body: string;
}

export interface PullResultWire {
  pullStatus: PullStatus;
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
  messages: MessageExtWire[];
  /** RocketMQ's suggestWhichBrokerId: 0 the master, >0 a slave, for the next pull of this queue. */
  suggestWhichBrokerId?: number;
  /** Which member of the broker answered: 0 the master, >0 a slave. */
  brokerId?: number;
}

export interface QueueStats {
  minOffset: number;
  maxOffset: number;
  /** Store time of the newest message, 0 when the queue is empty. */
  lastStoreTimestamp: number;
  /** Bytes of SQLite storage the queue object uses. */
  storageBytes: number;
}

const NAME_VALUE_SEPARATOR = 1;
const PROPERTY_SEPARATOR = 2;
const encoder = new TextEncoder();

/**
 * Size of the properties block as RocketMQ would encode it (`name\u0001value\u0002`),
 * including TAGS and KEYS, so the 32 KiB limit means what it means in RocketMQ.
 */
export function propertiesSize(tags: string, keys: readonly string[], properties: Record<string, string>): number {
  let size = 0;
  const add = (name: string, value: string): void => {
    size += encoder.encode(name).length + encoder.encode(value).length + 2;
  };
  if (tags.length > 0) add("TAGS", tags);
  if (keys.length > 0) add("KEYS", keys.join(" "));
  for (const [name, value] of Object.entries(properties)) add(name, value);
  return size;
}

/** Separator bytes are how RocketMQ frames properties; they cannot appear inside names or values. */
export function hasPropertySeparator(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === NAME_VALUE_SEPARATOR || c === PROPERTY_SEPARATOR) return true;
  }
  return false;
}
