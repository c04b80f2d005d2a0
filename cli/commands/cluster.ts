/**
 * `cluster list` (mqadmin clusterList): the brokers, their addresses and the topics each holds;
 * `cluster wipe-write-perm` / `add-write-perm` drain a broker and give it back.
 */
import type { Noun } from "../command.js";
import { keyValues, table } from "../output.js";

export const cluster: Noun = {
  summary: "show the cluster's brokers and their topics; drain a broker",
  verbs: {
    list: {
      summary: "list brokers with their addresses and topics",
      flags: {},
      async run(ctx) {
        const [info, topics] = await Promise.all([ctx.admin.clusterInfo(), ctx.admin.listTopics()]);
        const brokers = info.brokers.map((b) => ({
          ...b,
          topics: topics.filter((t) => t.queues.some((q) => q.brokerName === b.brokerName)).map((t) => t.topic),
        }));
        return {
          data: { ...info, brokers },
          text: [
            keyValues([
              ["cluster", info.clusterName],
              ["autoCreateTopicEnable", info.autoCreateTopicEnable],
            ]),
            table(
              ["BROKER", "ADDRESS", "TOPIC_COUNT", "TOPICS"],
              brokers.map((b) => [b.brokerName, Object.values(b.brokerAddrs).join(","), b.topics.length, b.topics.join(",")]),
            ),
          ].join("\n\n"),
        };
      },
    },
    "wipe-write-perm": {
      summary: "drain a broker: producers stop sending there, consumers finish reading it (mqadmin wipeWritePerm)",
      flags: { broker: { kind: "string", value: "B", required: true, help: "broker name" } },
      async run(ctx, flags) {
        const r = await ctx.admin.wipeWritePerm(flags.requiredString("broker"));
        return { data: r, text: `${r.broker}: write permission removed from ${r.topics.length} topic(s)` };
      },
    },
    "add-write-perm": {
      summary: "give a drained broker its write permission back (mqadmin addWritePerm)",
      flags: { broker: { kind: "string", value: "B", required: true, help: "broker name" } },
      async run(ctx, flags) {
        const r = await ctx.admin.addWritePerm(flags.requiredString("broker"));
        return { data: r, text: `${r.broker}: write permission restored on ${r.topics.length} topic(s)` };
      },
    },
  },
};
