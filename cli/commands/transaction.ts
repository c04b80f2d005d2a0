/** `transaction list`: a topic's half messages and where each stands. */
import type { HalfState } from "../../protocol/transaction.js";
import { UsageError } from "../args.js";
import type { Noun } from "../command.js";
import { table, time } from "../output.js";

const STATES: readonly HalfState[] = ["PENDING", "COMMITTED", "ROLLED_BACK", "GIVEN_UP"];

function isHalfState(s: string): s is HalfState {
  return (STATES as readonly string[]).includes(s);
}

export const transaction: Noun = {
  summary: "transactions' half messages",
  verbs: {
    list: {
      summary: "half messages of a topic, optionally of one state",
      flags: {
        topic: { kind: "string", value: "T", required: true, help: "topic" },
        state: { kind: "string", value: STATES.join("|"), help: "only this state" },
      },
      async run(ctx, flags) {
        const topic = flags.requiredString("topic");
        const state = flags.string("state");
        if (state !== undefined && !isHalfState(state)) throw new UsageError(`--state must be one of ${STATES.join(", ")}`);
        const list = await ctx.progress.perQueue(
          "querying",
          () => ctx.readQueueCount(topic),
          () => ctx.admin.listTransactions(topic, state),
        );
        return {
          data: list,
          text: table(
            ["TRANSACTION_ID", "PRODUCER_GROUP", "STATE", "BROKER", "QUEUE", "CHECKS", "BORN", "NEXT_CHECK", "OFFSET"],
            list.map((t) => [
              t.transactionId,
              t.producerGroup,
              t.state,
              t.messageQueue.brokerName,
              t.messageQueue.queueId,
              t.checkTimes,
              time(t.bornTimestamp),
              time(t.nextCheckAt),
              t.queueOffset,
            ]),
          ),
        };
      },
    },
  },
};
