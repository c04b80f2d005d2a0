/**
 * `cluster list` (mqadmin clusterList): every broker member with its role, last heartbeat,
 * topics and replication lag; `cluster add-broker` adds one to a running deployment;
 * `cluster wipe-write-perm` / `add-write-perm` drain a broker and give it back.
 */
import type { Noun } from "../command.js";
import { keyValues, table } from "../output.js";
import { brokerAddress } from "../../protocol/route.js";

export const cluster: Noun = {
  summary: "show the cluster's brokers and their topics; drain a broker",
  verbs: {
    list: {
      summary: "list brokers: role per brokerId, last heartbeat, topics, replication lag",
      flags: {},
      async run(ctx) {
        const info = await ctx.admin.clusterInfo();
        const now = Date.now();
        const rows = info.brokers.flatMap((b) =>
          Object.entries(b.brokerIds).map(([id, role]) => {
            const slave = b.replication?.slaves.find((s) => String(s.brokerId) === id);
            // Each member registers on its own: its own heartbeat and state.
            const member = (b.members ?? []).find((m) => String(m.brokerId) === id) ?? b;
            // Only admins are shown the lag (it wakes the broker's queue objects).
            // Unknown only while the slave does not answer its master: say on how many queues.
            const unknown = slave && slave.failingQueues > 0 ? `unknown (not answering on ${slave.failingQueues} queues)` : "unknown";
            const lag = id === "0" ? "-" : b.replication === null ? "admin only" : (slave?.lagMessages ?? unknown);
            return [
              b.brokerName,
              id,
              role,
              b.brokerAddrs[id] ?? brokerAddress(b.brokerName, Number(id)),
              member.alive ? "alive" : "EXPIRED",
              `${Math.round((now - member.lastUpdateTimestamp) / 1000)}s ago`,
              (b.permission & 2) === 2 ? "rw" : "r (drained)",
              b.topics.length,
              lag,
            ];
          }),
        );
        return {
          data: info,
          text: [
            keyValues([
              ["cluster", info.clusterName],
              ["autoCreateTopicEnable", info.autoCreateTopicEnable],
              ["nameServers", info.nameServers.join(",")],
              ["brokerExpiryMs", info.brokerExpiryMs],
            ]),
            table(["BROKER", "ID", "ROLE", "ADDRESS", "STATE", "LAST_HEARTBEAT", "PERM", "TOPICS", "REPLICATION_LAG"], rows),
          ].join("\n\n"),
        };
      },
    },
    "add-broker": {
      summary: "add a broker to the running deployment; it registers and takes new topics",
      flags: { broker: { kind: "string", value: "B", required: true, help: "broker name" } },
      async run(ctx, flags) {
        const b = await ctx.admin.addBroker(flags.requiredString("broker"));
        return { data: b, text: `${b.brokerName}: registered with ${Object.keys(b.brokerIds).length} member(s)` };
      },
    },
    "remove-broker": {
      summary: "remove a broker that holds no topics (move them off with topic update --brokers first)",
      flags: { broker: { kind: "string", value: "B", required: true, help: "broker name" } },
      async run(ctx, flags) {
        const broker = flags.requiredString("broker");
        await ctx.admin.removeBroker(broker);
        return { data: { removed: broker }, text: `${broker}: removed` };
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
