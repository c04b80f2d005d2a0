/**
 * The long polls the Worker holds (cluster/wake-wait.ts): a queue pull, a consumer group member's
 * watch of its group's generation, and a transaction producer's poll for checks. Each asks its
 * object for an immediate answer and parks on it only while there is nothing to answer.
 */
import type { Env } from "./env.js";
import type { QueueStub } from "./stubs.js";
import { holdPoll, type HoldOptions } from "./wake-wait.js";

type ConsumerGroupStub = ReturnType<Env["CONSUMER_GROUP"]["get"]>;
type ProducerGroupStub = ReturnType<Env["PRODUCER_GROUP"]["get"]>;
type PullRequest = Parameters<QueueStub["pull"]>[0];
type PullAnswer = Awaited<ReturnType<QueueStub["pull"]>>;

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
