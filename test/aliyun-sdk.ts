/**
 * Helpers for driving Alibaba Cloud's official Node SDK (`@aliyunmq/mq-http-sdk`, unmodified)
 * against a flaremq test server: the code an SDK call failed with, and collecting what a
 * consumer receives across several polls.
 */
import sdk, { type MQConsumer, type SdkError, type SdkMessage } from "@aliyunmq/mq-http-sdk";

export const { MQClient, MessageProperties } = sdk;

/** The protocol error code an SDK call threw, or "NO_ERROR". */
export async function sdkCode(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    const code = (e as Partial<SdkError>).Code;
    if (typeof code === "string") return code;
    throw e;
  }
  return "NO_ERROR";
}

/** Messages of one consume call; [] for the protocol's "nothing there" (404 MessageNotExist). */
export async function consumeOnce(consumer: MQConsumer, num: number, waitSeconds: number, orderly = false): Promise<SdkMessage[]> {
  try {
    const res = orderly ? await consumer.consumeMessageOrderly(num, waitSeconds) : await consumer.consumeMessage(num, waitSeconds);
    return res.body;
  } catch (e) {
    if ((e as Partial<SdkError>).Code === "MessageNotExist") return [];
    throw e;
  }
}

/** Consumes (without acking) until `count` messages arrived or `timeoutMs` passed. */
export async function consumeCount(consumer: MQConsumer, count: number, timeoutMs = 30_000): Promise<SdkMessage[]> {
  const got: SdkMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  while (got.length < count && Date.now() < deadline) got.push(...(await consumeOnce(consumer, Math.min(16, count - got.length), 3)));
  return got;
}
