/** `group list|progress|members|reset-offset` (mqadmin consumerProgress, consumerConnection, resetOffsetByTime). */
import type { FlagSpecs } from "../args.js";
import type { Noun } from "../command.js";
import { isMQError } from "../../client/index.js";
import { keyValues, queueName, table, time } from "../output.js";
import { pushProgressText } from "./push.js";

const groupFlag = { group: { kind: "string", value: "G", required: true, help: "consumer group" } } satisfies FlagSpecs;

export const group: Noun = {
  summary: "consumer groups: list, progress and lag, members, offset reset",
  verbs: {
    list: {
      summary: "list consumer groups and when each was last seen",
      flags: {},
      async run(ctx) {
        const groups = await ctx.admin.listGroups();
        return {
          data: groups,
          text: table(
            ["GROUP", "LAST_SEEN"],
            groups.map((g) => [g.group, time(g.lastSeenAt)]),
          ),
        };
      },
    },
    progress: {
      summary: "per-queue broker offset, consumer offset and lag (mqadmin consumerProgress)",
      flags: { ...groupFlag, topic: { kind: "string", value: "T", help: "only this topic (default: the group's subscriptions)" } },
      async run(ctx, flags) {
        const group = flags.requiredString("group");
        const progress = await ctx.admin.consumerProgress(group, flags.string("topic"));
        // A group the server delivers (push subscription): its delivery state too.
        const push = await ctx.admin.getPushSubscription(group).catch((e: unknown) => {
          if (isMQError(e) && e.code === "PUSH_SUBSCRIPTION_NOT_FOUND") return null;
          throw e;
        });
        // A POP group's messages received and not acked: a column only when there are any.
        const inflight = progress.queues.some((q) => q.inflight > 0);
        return {
          data: push ? { ...progress, pushSubscription: push } : progress,
          text: [
            table(
              ["TOPIC", "BROKER", "QUEUE", "BROKER_OFFSET", "CONSUMER_OFFSET", ...(inflight ? ["IN_FLIGHT"] : []), "LAG", "LAST_STORED"],
              progress.queues.map((q) => [
                q.messageQueue.topic,
                q.messageQueue.brokerName,
                q.messageQueue.queueId,
                q.brokerOffset,
                q.consumerOffset,
                ...(inflight ? [q.inflight] : []),
                q.lag,
                time(q.lastTimestamp),
              ]),
            ),
            keyValues([["total lag", progress.totalLag]]),
            ...(push ? [pushProgressText(push)] : []),
          ].join("\n\n"),
        };
      },
    },
    members: {
      summary: "live members, their subscriptions and queues (mqadmin consumerConnection)",
      flags: groupFlag,
      async run(ctx, flags) {
        const info = await ctx.admin.groupInfo(flags.requiredString("group"));
        return {
          data: info,
          text: [
            keyValues([
              ["group", info.group],
              ["generation", info.generation],
              ["allocateStrategy", info.allocateStrategy],
              ["members", info.members.length],
            ]),
            table(
              ["CLIENT_ID", "MODEL", "SUBSCRIPTIONS", "QUEUES", "LAST_HEARTBEAT"],
              info.members.map((m) => [
                m.clientId,
                m.messageModel,
                m.subscriptions.map((s) => `${s.topic}(${s.expression})`).join(" "),
                m.assignment.map((mq) => `${mq.topic}:${queueName(mq)}`).join(" "),
                time(m.lastHeartbeatAt),
              ]),
            ),
          ].join("\n\n"),
        };
      },
    },
    "reset-offset": {
      summary: "move the group's offsets of a topic to a time (mqadmin resetOffsetByTime)",
      flags: {
        ...groupFlag,
        topic: { kind: "string", value: "T", required: true, help: "topic" },
        timestamp: { kind: "time", value: "ms|ISO", required: true, help: "epoch milliseconds or an ISO date" },
      },
      async run(ctx, flags) {
        const timestamp = flags.requiredNumber("timestamp");
        const result = await ctx.admin.resetOffsetByTime(flags.requiredString("group"), flags.requiredString("topic"), timestamp);
        return {
          data: result,
          text: [
            `offsets reset to ${time(timestamp)}`,
            table(
              ["BROKER", "QUEUE", "OFFSET"],
              result.offsets.map((o) => [o.messageQueue.brokerName, o.messageQueue.queueId, o.offset]),
            ),
          ].join("\n"),
        };
      },
    },
  },
};
