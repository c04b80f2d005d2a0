/** `message send|view|query|by-offset` (mqadmin sendMessage, queryMsgById, queryMsgByKey, queryMsgByOffset). */
import type { Message } from "../../client/index.js";
import { decodeOffsetMsgId } from "../../protocol/offset-msg-id.js";
import { parseProperties, UsageError, type FlagSpecs } from "../args.js";
import type { Noun } from "../command.js";
import { keyValues, messageJson, messagesTable, messageText, queueName } from "../output.js";

/**
 * Without --topic the id must be an offsetMsgId (it names its queue); a msgId (UNIQ_KEY, what
 * SendResult.msgId and a consumer show) is only found within its topic, so say so instead of
 * letting the server answer that the id is not an offsetMsgId.
 */
function checkOffsetMsgId(id: string): void {
  if (decodeOffsetMsgId(id)) return;
  if (/^[0-9A-F]{32}$/.test(id))
    throw new UsageError(`"${id}" is a msgId (UNIQ_KEY), which is looked up within its topic: add --topic T (only an offsetMsgId finds its message alone)`);
  throw new UsageError(`"${id}" is not an offsetMsgId of this cluster; for a msgId (UNIQ_KEY), add --topic T`);
}

const topicFlag = { topic: { kind: "string", value: "T", required: true, help: "topic" } } satisfies FlagSpecs;

export const message: Noun = {
  summary: "send, look up and query messages",
  verbs: {
    send: {
      summary: `send one message (producer group "flaremq_cli")`,
      flags: {
        ...topicFlag,
        body: { kind: "string", value: "TEXT", required: true, help: "message body, sent as UTF-8 text" },
        tags: { kind: "string", value: "X", help: "tag" },
        keys: { kind: "list", value: "k1,k2", help: "business keys" },
        property: { kind: "multi", value: "k=v ...", help: "user property (repeatable)" },
      },
      async run(ctx, flags) {
        const msg: Message = { topic: flags.requiredString("topic"), body: flags.requiredString("body") };
        const tags = flags.string("tags");
        if (tags !== undefined) msg.tags = tags;
        if (flags.has("keys")) msg.keys = flags.list("keys");
        if (flags.has("property")) msg.properties = parseProperties("property", flags.list("property"));
        const producer = await ctx.producer();
        try {
          const r = await producer.send(msg);
          return {
            data: r,
            text: keyValues([
              ["sendStatus", r.sendStatus],
              ["msgId", r.msgId],
              ["offsetMsgId", r.offsetMsgId],
              ["queue", `${r.messageQueue.topic}:${queueName(r.messageQueue)}`],
              ["queueOffset", r.queueOffset],
            ]),
          };
        } finally {
          await producer.shutdown();
        }
      },
    },
    view: {
      summary: "show a message by offsetMsgId, or by msgId with --topic (mqadmin queryMsgById)",
      flags: {
        id: { kind: "string", value: "ID", required: true, help: "offsetMsgId; or msgId (UNIQ_KEY) when --topic is given" },
        topic: { kind: "string", value: "T", help: "look the id up as a msgId in this topic" },
      },
      async run(ctx, flags) {
        const id = flags.requiredString("id");
        const topic = flags.string("topic");
        if (topic === undefined) checkOffsetMsgId(id);
        const m = topic === undefined ? await ctx.admin.viewMessage(id) : await ctx.admin.viewMessageById(topic, id);
        return { data: messageJson(m), text: messageText(m) };
      },
    },
    query: {
      summary: "messages of a topic with a key, over every queue (mqadmin queryMsgByKey)",
      flags: {
        ...topicFlag,
        key: { kind: "string", value: "K", required: true, help: "message key" },
        begin: { kind: "time", value: "ms|ISO", help: "stored at or after" },
        end: { kind: "time", value: "ms|ISO", help: "stored before" },
        max: { kind: "int", value: "N", help: "at most N messages" },
      },
      async run(ctx, flags) {
        const topic = flags.requiredString("topic");
        const options: { beginMs?: number; endMs?: number; maxNum?: number } = {};
        const begin = flags.number("begin");
        const end = flags.number("end");
        const max = flags.number("max");
        if (begin !== undefined) options.beginMs = begin;
        if (end !== undefined) options.endMs = end;
        if (max !== undefined) options.maxNum = max;
        const messages = await ctx.progress.serverSide(`querying the queues of ${topic}`, () =>
          ctx.admin.queryMessage(topic, flags.requiredString("key"), options),
        );
        return { data: messages.map(messageJson), text: messagesTable(messages) };
      },
    },
    "by-offset": {
      summary: "show the message at a queue offset (mqadmin queryMsgByOffset)",
      flags: {
        ...topicFlag,
        broker: { kind: "string", value: "B", required: true, help: "broker name" },
        queue: { kind: "int", value: "N", required: true, help: "queue id" },
        offset: { kind: "int", value: "O", required: true, help: "queue offset" },
      },
      async run(ctx, flags) {
        const mq = { topic: flags.requiredString("topic"), brokerName: flags.requiredString("broker"), queueId: flags.requiredNumber("queue") };
        const m = await ctx.admin.viewMessageByOffset(mq, flags.requiredNumber("offset"));
        return { data: messageJson(m), text: messageText(m) };
      },
    },
  },
};
