/** `dlq list|resend|delete`: the dead-letter queue `%DLQ%<group>` of a consumer group. */
import { UsageError, type FlagSpecs } from "../args.js";
import type { Noun } from "../command.js";
import { count, messageJson, messagesTable } from "../output.js";

const groupFlag = { group: { kind: "string", value: "G", required: true, help: "consumer group" } } satisfies FlagSpecs;

export const dlq: Noun = {
  summary: "dead-lettered messages of a consumer group: list, resend, delete",
  verbs: {
    list: {
      summary: "messages in the group's dead-letter queue",
      flags: { ...groupFlag, max: { kind: "int", value: "N", help: "at most N messages" } },
      async run(ctx, flags) {
        const max = flags.number("max");
        const messages = await ctx.admin.listDlq(flags.requiredString("group"), max === undefined ? {} : { maxNum: max });
        return { data: messages.map(messageJson), text: messagesTable(messages, { originTopic: true }) };
      },
    },
    resend: {
      summary: "send dead-lettered messages back to their topics (--all, or --offset-id ID ...)",
      flags: {
        ...groupFlag,
        all: { kind: "bool", help: "every message in the dead-letter queue" },
        "offset-id": { kind: "multi", value: "ID ...", splitCommas: true, help: "offsetMsgId of a message to resend (repeatable)" },
      },
      async run(ctx, flags) {
        const all = flags.bool("all");
        const ids = flags.list("offset-id");
        if (all === ids.length > 0) throw new UsageError("give either --all or --offset-id");
        const group = flags.requiredString("group");
        const result = await ctx.progress.serverSide(
          all ? `resending every dead-lettered message of ${group}` : `resending ${count(ids.length, "message")}`,
          () => ctx.admin.resendDlq(group, all ? { all: true } : { offsetMsgIds: ids }),
        );
        return { data: result, text: `resent ${count(result.resent, "message")}` };
      },
    },
    delete: {
      summary: "delete a broker's dead-lettered messages below an offset",
      flags: {
        ...groupFlag,
        broker: { kind: "string", value: "B", required: true, help: "broker name" },
        "before-offset": { kind: "int", value: "N", required: true, help: "delete messages with offset < N" },
      },
      async run(ctx, flags) {
        const result = await ctx.admin.deleteDlq(flags.requiredString("group"), {
          brokerName: flags.requiredString("broker"),
          beforeOffset: flags.requiredNumber("before-offset"),
        });
        return { data: result, text: `deleted ${count(result.deleted, "message")}` };
      },
    },
  },
};
