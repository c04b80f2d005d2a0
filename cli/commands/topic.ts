/** `topic create|update|delete|list|route|status` (mqadmin updateTopic, deleteTopic, topicList, topicRoute, topicStatus). */
import type { TopicConfig, TopicConfigInput } from "../../client/admin.js";
import { UsageError, type Flags, type FlagSpecs } from "../args.js";
import type { Noun } from "../command.js";
import { keyValues, table, time } from "../output.js";

const topicFlag = { topic: { kind: "string", value: "T", required: true, help: "topic name" } } satisfies FlagSpecs;

const configFlags = {
  ...topicFlag,
  queues: { kind: "int", value: "N", help: "read and write queues per broker (default 4)" },
  "read-queues": { kind: "int", value: "N", help: "read queues per broker" },
  "write-queues": { kind: "int", value: "N", help: "write queues per broker" },
  perm: { kind: "int", value: "6", help: "permission: 2 write, 4 read, 6 read and write" },
  brokers: { kind: "list", value: "a,b", help: "brokers that hold the topic (default all)" },
} satisfies FlagSpecs;

function topicConfig(flags: Flags): TopicConfigInput {
  const config: TopicConfigInput = {};
  const queues = flags.number("queues");
  const read = flags.number("read-queues");
  const write = flags.number("write-queues");
  const perm = flags.number("perm");
  if (queues !== undefined) config.queueNums = queues;
  if (read !== undefined) config.readQueueNums = read;
  if (write !== undefined) config.writeQueueNums = write;
  if (perm !== undefined) {
    if (perm !== 2 && perm !== 4 && perm !== 6) throw new UsageError("--perm must be 2 (write), 4 (read) or 6 (read and write)");
    config.perm = perm;
  }
  if (flags.has("brokers")) config.brokers = flags.list("brokers");
  return config;
}

function queuesTable(config: TopicConfig): string {
  return table(
    ["BROKER", "READ_QUEUES", "WRITE_QUEUES", "PERM"],
    config.queues.map((q) => [q.brokerName, q.readQueueNums, q.writeQueueNums, q.perm]),
  );
}

export const topic: Noun = {
  summary: "create, update, delete, list and inspect topics",
  verbs: {
    create: {
      summary: "create a topic, or update it if it exists (mqadmin updateTopic)",
      flags: configFlags,
      async run(ctx, flags) {
        const name = flags.requiredString("topic");
        const config = await ctx.admin.createTopic(name, topicConfig(flags));
        return { data: config, text: `topic ${name} created\n${queuesTable(config)}` };
      },
    },
    update: {
      summary: "change a topic's queues, permission or brokers",
      flags: configFlags,
      async run(ctx, flags) {
        const name = flags.requiredString("topic");
        const config = await ctx.admin.updateTopic(name, topicConfig(flags));
        return { data: config, text: `topic ${name} updated\n${queuesTable(config)}` };
      },
    },
    delete: {
      summary: "delete a topic and its messages",
      flags: topicFlag,
      async run(ctx, flags) {
        const name = flags.requiredString("topic");
        await ctx.admin.deleteTopic(name);
        return { data: { topic: name, deleted: true }, text: `topic ${name} deleted` };
      },
    },
    list: {
      summary: "list topics",
      flags: {},
      async run(ctx) {
        const topics = await ctx.admin.listTopics();
        const sum = (t: TopicConfig, f: (q: TopicConfig["queues"][number]) => number): number => t.queues.reduce((n, q) => n + f(q), 0);
        return {
          data: topics,
          text: table(
            ["TOPIC", "BROKERS", "READ_QUEUES", "WRITE_QUEUES", "CREATED"],
            topics.map((t) => [
              t.topic,
              t.queues.map((q) => q.brokerName).join(","),
              sum(t, (q) => q.readQueueNums),
              sum(t, (q) => q.writeQueueNums),
              time(t.createdAt),
            ]),
          ),
        };
      },
    },
    route: {
      summary: "show a topic's route: brokers, addresses, queues (mqadmin topicRoute)",
      flags: topicFlag,
      async run(ctx, flags) {
        const route = await ctx.admin.topicRoute(flags.requiredString("topic"));
        const addr = new Map(route.brokerDatas.map((b) => [b.brokerName, b]));
        return {
          data: route,
          text: table(
            ["BROKER", "CLUSTER", "ADDRESS", "READ_QUEUES", "WRITE_QUEUES", "PERM"],
            route.queueDatas.map((q) => {
              const b = addr.get(q.brokerName);
              return [q.brokerName, b?.cluster, Object.values(b?.brokerAddrs ?? {}).join(","), q.readQueueNums, q.writeQueueNums, q.perm];
            }),
          ),
        };
      },
    },
    status: {
      summary: "per-queue min/max offsets, last update and storage (mqadmin topicStatus)",
      flags: topicFlag,
      async run(ctx, flags) {
        const name = flags.requiredString("topic");
        const status = await ctx.progress.serverSide(`reading the queues of ${name}`, () => ctx.admin.topicStatus(name));
        const messages = status.queues.reduce((n, q) => n + (q.maxOffset - q.minOffset), 0);
        const bytes = status.queues.reduce((n, q) => n + q.storageBytes, 0);
        return {
          data: status,
          text: [
            table(
              ["BROKER", "QUEUE", "MIN_OFFSET", "MAX_OFFSET", "LAST_UPDATED", "STORAGE_BYTES"],
              status.queues.map((q) => [
                q.messageQueue.brokerName,
                q.messageQueue.queueId,
                q.minOffset,
                q.maxOffset,
                time(q.lastUpdateTimestamp),
                q.storageBytes,
              ]),
            ),
            keyValues([
              ["queues", status.queues.length],
              ["messages", messages],
              ["storage bytes", bytes],
            ]),
          ].join("\n\n"),
        };
      },
    },
  },
};
