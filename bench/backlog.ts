/**
 * The 1 KiB body every scenario sends, and the backlog the drain scenarios read (push consumer,
 * POP, push subscription): a fresh topic of 8 queues over the 2 brokers filled with 1 KiB
 * messages, 4 batches of 64 in flight at a time.
 */
import { Admin, Producer } from "../client/index.js";

export const body1k = new Uint8Array(1024).map((_, i) => i % 251);

/** Creates `<prefix><now>` and stores at least `backlog` messages in it; answers the topic. */
export async function fillBacklog(endpoint: string, prefix: string, backlog: number): Promise<string> {
  const admin = new Admin({ endpoint, credentials: null });
  const topic = `${prefix}${Date.now()}`;
  await admin.createTopic(topic, { queueNums: 4 });
  const producer = new Producer({ endpoint, credentials: null, group: `${prefix.toLowerCase()}_pg`, sendMsgTimeoutMs: 30_000 });
  await producer.start();
  const batch = Array.from({ length: 64 }, () => ({ topic, body: body1k }));
  for (let sent = 0; sent < backlog; sent += batch.length * 4) {
    await Promise.all(Array.from({ length: 4 }, () => producer.send(batch)));
  }
  await producer.shutdown();
  return topic;
}
