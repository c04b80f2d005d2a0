/**
 * The sticky queue of auto-batching (Kafka's uniform sticky partitioner): which queue a send
 * without a selector or sharding key takes while its topic holds sends back (a request in
 * flight, or the linger). Such a send waits for the next request anyway; joining the queue
 * whose sends already wait makes that request one log row instead of one per queue.
 *
 * Otherwise (nothing in flight, or the filling queue is full or unusable) a send takes the queue
 * that took the fewest of this producer's sends, ties broken in round-robin order: while the
 * shares are even that is exactly the next queue round-robin, as RocketMQ spreads sends, and
 * after a run on one queue the others catch up. So the shares stay within about one request of
 * each other however the runs vary in length, and a clustering group's members still get even
 * shares.
 */
import type { MessageQueue } from "../protocol/message.js";
import { queueKey, type ProduceAccumulator } from "./produce-accumulator.js";

/** Topics whose counts are kept at most (a producer sending to more forgets them all; the next sends rebalance). */
const MAX_TOPICS = 10_000;

export class StickyQueues {
  /** Sends this producer put on each queue, per topic. */
  private readonly sent = new Map<string, Map<string, number>>();

  constructor(private readonly accumulator: ProduceAccumulator) {}

  /**
   * The queue for the next send of `topic`: the filling one while the topic holds sends back,
   * else the least used, ties from `roundRobinStart` on; undefined when no queue is usable.
   */
  choose(topic: string, queues: readonly MessageQueue[], usable: (mq: MessageQueue) => boolean, roundRobinStart: number): MessageQueue | undefined {
    const filling = this.accumulator.fillingQueue(topic); // none unless the topic holds sends back
    if (filling && usable(filling)) {
      const inRoute = queues.find((q) => q.brokerName === filling.brokerName && q.queueId === filling.queueId);
      if (inRoute) return inRoute;
    }
    const counts = this.counts(topic);
    let least: MessageQueue | undefined;
    let leastCount = Infinity;
    for (let i = 0; i < queues.length; i++) {
      const q = queues[(roundRobinStart + i) % queues.length]!;
      if (!usable(q)) continue;
      const n = counts.get(queueKey(q)) ?? 0;
      if (n < leastCount) [least, leastCount] = [q, n];
    }
    // A queue passed over because its broker failed does not fall behind: once it is usable
    // again it takes its round-robin turns, not every send until it has caught up.
    if (least) {
      for (const q of queues) {
        if (!usable(q) && (counts.get(queueKey(q)) ?? 0) < leastCount) counts.set(queueKey(q), leastCount);
      }
    }
    return least;
  }

  /** Counts one send on `mq`, whichever way it was chosen. */
  count(mq: MessageQueue): void {
    const counts = this.counts(mq.topic);
    const key = queueKey(mq);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }

  private counts(topic: string): Map<string, number> {
    let counts = this.sent.get(topic);
    if (!counts) {
      if (this.sent.size >= MAX_TOPICS) this.sent.clear();
      counts = new Map();
      this.sent.set(topic, counts);
    }
    return counts;
  }
}
