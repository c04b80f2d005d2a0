/** `cluster list` (mqadmin clusterList): the brokers, their addresses and the topics each holds. */
import type { Noun } from "../command.js";
import { keyValues, table } from "../output.js";

export const cluster: Noun = {
  summary: "show the cluster's brokers and their topics",
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
  },
};
