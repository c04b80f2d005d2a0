/**
 * Which queue an ordered message's key maps to, as RocketMQ's SelectMessageQueueByHash: the
 * client's producer (client/queue-selector.ts) and the Workers RPC producer (workers/rpc/)
 * agree on it, so sends with one key land on one queue whichever door they come through.
 */

/** Java's String.hashCode, so keys land where a RocketMQ Java producer would put them. */
export function javaStringHash(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(31, h) + text.charCodeAt(i)) | 0;
  return h;
}

/** |hash(key)| mod the number of queues: the index of the key's queue among the write queues. */
export function queueIndexForKey(key: string, queueCount: number): number {
  return Math.abs(javaStringHash(key) % queueCount);
}
