/**
 * The long polls the Worker holds (cluster/wake-wait.ts): a queue pull, a consumer group member's
 * watch of its group's generation, and a transaction producer's poll for checks. Each asks its
 * object for an immediate answer and parks on it only while there is nothing to answer.
 */
import type { Env } from "./env.js";
import type { QueueStub } from "./stubs.js";
import { holdPoll, waitForWake, type HoldOptions } from "./wake-wait.js";

type ConsumerGroupStub = ReturnType<Env["CONSUMER_GROUP"]["get"]>;
type ProducerGroupStub = ReturnType<Env["PRODUCER_GROUP"]["get"]>;
type PullRequest = Parameters<QueueStub["pull"]>[0];
type PullAnswer = Awaited<ReturnType<QueueStub["pull"]>>;
/** A receive as a queue object takes it. */
export type PopReceiveRequest = Parameters<QueueStub["popReceive"]>[1];
type PopReceiveAnswer = Awaited<ReturnType<QueueStub["popReceive"]>>;

/**
 * RocketMQ's PullRequestHoldService, held in the Worker: reads from `req.offset`; with nothing to
 * answer, parks until an append (or an owner change) wakes it or `maxWaitMs` runs out, then reads
 * again. A filtered pull moves past what it has read that does not match, and ends NO_MATCHED_MSG at that
 * offset if nothing matching came. Each read is a fresh call, so the queue checks the group's
 * owner every time: a rebalance while parked never hands messages to the old owner.
 */
export function holdPull(stub: QueueStub, req: PullRequest, options: HoldOptions): Promise<PullAnswer> {
  let offset = req.offset;
  const now = options.now ?? Date.now;
  const deadline = now() + options.maxWaitMs;
  return holdPoll(
    stub,
    {
      ask: async () => {
        const answer = await stub.pull({ ...req, offset });
        if (answer.pullStatus !== "FOUND" && answer.pullStatus !== "OFFSET_ILLEGAL") offset = answer.nextBeginOffset;
        return answer;
      },
      answered: (a) =>
        a.pullStatus === "FOUND" ||
        a.pullStatus === "OFFSET_ILLEGAL" ||
        // A filtered scan that stopped short of the end answers at once, as RocketMQ does.
        a.nextBeginOffset < a.maxOffset ||
        // A slave behind the consumer answers "no new message" at the consumer's offset once the time is up.
        (req.replica === true && a.nextBeginOffset > a.maxOffset && now() >= deadline),
      seen: (a) => ({ maxOffset: a.maxOffset, ...(req.group !== undefined ? { group: req.group } : {}), ...(req.fence ? { fence: req.fence } : {}) }),
      empty: (a) => ({ ...a, pullStatus: a.nextBeginOffset > req.offset ? "NO_MATCHED_MSG" : "NO_NEW_MSG" }),
    },
    options,
  );
}

/**
 * A SimpleConsumer's receive on one queue: answered as soon as any message is visible to the
 * group, else parked until an append, an ack or a change of invisibility, or a held message's
 * visible time (the queue's alarm) wakes it, or `maxWaitMs` runs out.
 */
export function holdPopReceive(stub: QueueStub, group: string, req: PopReceiveRequest, options: HoldOptions): Promise<PopReceiveAnswer> {
  return holdPoll(
    stub,
    {
      ask: () => stub.popReceive(group, req),
      answered: (a) => a.messages.length > 0,
      seen: (a) => ({ maxOffset: a.maxOffset, pop: a.pop }),
      empty: (a) => a,
    },
    options,
  );
}

/** What one queue of a receive across several answered: its index in the list, and the answer. */
export interface QueueReceive {
  index: number;
  answer: PopReceiveAnswer;
}

/**
 * A SimpleConsumer's receive across several queues (a topic's): asks them in order for what is
 * left of `req.maxNum` (in order, so no more than maxNum messages turn invisible), and when none
 * has anything, parks on all of them at once until the first wakes or `maxWaitMs` runs out,
 * then asks again. The caller rotates the order so receivers spread over the queues. Answers
 * only the queues that handed out messages or claimed dead letters (none when the time ran
 * out); claimed dead letters alone end the wait too, so the caller moves them at once.
 */
export async function holdPopReceiveAcross(stubs: readonly QueueStub[], group: string, req: PopReceiveRequest, options: HoldOptions): Promise<QueueReceive[]> {
  const now = options.now ?? Date.now;
  const deadline = now() + options.maxWaitMs;
  const askAll = async () => {
    const got: QueueReceive[] = [];
    const all: PopReceiveAnswer[] = [];
    let count = 0;
    for (const [index, stub] of stubs.entries()) {
      if (count >= req.maxNum) break;
      const answer = await stub.popReceive(group, { ...req, maxNum: req.maxNum - count });
      all[index] = answer;
      count += answer.messages.length;
      if (answer.messages.length > 0 || answer.deadLetters.length > 0) got.push({ index, answer });
    }
    return { got, all };
  };
  for (;;) {
    const { got, all } = await askAll();
    if (got.length > 0) return got;
    const remainingMs = deadline - now();
    if (remainingMs <= 0) return [];
    const parked = new AbortController();
    const waits = stubs.map((stub, i) =>
      waitForWake(stub, { maxOffset: all[i]!.maxOffset, pop: all[i]!.pop }, { timeoutMs: remainingMs, account: options.account, signal: parked.signal }),
    );
    for (const w of waits) w.catch(() => undefined); // the first refusal is answered below; the others are dropped
    let reason;
    try {
      reason = await Promise.race(waits);
    } finally {
      parked.abort(); // the other queues' sockets close
    }
    if (reason === "timeout" || reason === "released") return [];
    if (reason === "closed") return (await askAll()).got; // one more look, as holdPoll does
  }
}

/** Resolves once the group's generation passes `known`, or with the current one after `maxWaitMs` (RocketMQ's NOTIFY_CONSUMER_IDS_CHANGED). */
export function holdWatch(stub: ConsumerGroupStub, known: number, options: HoldOptions): Promise<number> {
  return holdPoll(stub, { ask: () => stub.currentGeneration(), answered: (g) => g > known, seen: () => ({ generation: known }), empty: (g) => g }, options);
}

/** Hands up to `max` transaction checks to one producer of the group, waiting up to `maxWaitMs` for the first. */
export function holdCheckPoll(stub: ProducerGroupStub, max: number, group: string | undefined, options: HoldOptions) {
  return holdPoll(
    stub,
    { ask: () => stub.pollChecks(max, group), answered: (checks) => checks.length > 0, seen: () => ({}), empty: (checks) => checks },
    options,
  );
}
