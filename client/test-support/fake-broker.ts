/**
 * A fake flaremq server for PushConsumer unit tests, as an injected fetch: the group assigns one
 * queue of `topic` to the member, the queue holds `bodies` from offset 0 (handed out one per
 * pull, so tests are deterministic), and every send-back and offset commit is recorded.
 */
import type { HeartbeatResponse } from "../../protocol/consumer.js";
import type { MessageExtWire, MessageQueue, PullResultWire } from "../../protocol/message.js";
import type { FetchLike } from "../transport.js";
import { mx } from "./messages.js";

export interface SendBack {
  queueOffset: number;
  delayLevel: number;
}

/** A call that answers only when its signal aborts, as an idle long poll does. */
function hang(signal: AbortSignal | null | undefined): Promise<Response> {
  return new Promise<Response>((_resolve, reject) => {
    if (!signal) return;
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
}

/** The shared fixture (messages.ts) in its wire form: the body as base64. */
function wireMessage(mq: MessageQueue, queueOffset: number, body: string): MessageExtWire {
  return { ...mx(queueOffset, mq), body: btoa(body) };
}

export function fakeBroker(topic: string, group: string, bodies: readonly string[]) {
  const mq: MessageQueue = { topic, brokerName: "broker-a", queueId: 0 };
  const queuePath = `/brokers/broker-a/topics/${encodeURIComponent(topic)}/queues/0`;
  const groupPath = `/groups/${encodeURIComponent(group)}`;
  const sendBacks: SendBack[] = [];
  const commits: number[] = [];
  const fetch: FetchLike = async (input, init) => {
    const url = new URL(input);
    const method = init.method ?? "GET";
    const path = url.pathname;
    const body = typeof init.body === "string" ? (JSON.parse(init.body) as Record<string, unknown>) : {};
    if (method === "POST" && path === `${groupPath}/heartbeat`) {
      const answer: HeartbeatResponse = { generation: 1, assignment: [mq], offsetResetSeq: 0, members: 1, sessionTimeoutMs: 30_000 };
      return Response.json(answer);
    }
    if (method === "GET" && path === `${groupPath}/watch`) return hang(init.signal);
    if (method === "DELETE" && path.startsWith(`${groupPath}/members/`)) return Response.json({ left: true });
    if (method === "POST" && path === `${groupPath}/sendback`) {
      sendBacks.push({ queueOffset: body.queueOffset as number, delayLevel: body.delayLevel as number });
      return Response.json({ ok: true });
    }
    if (path === `${queuePath}/groups/${encodeURIComponent(group)}/offset`) {
      if (method === "GET") return Response.json({ offset: 0 });
      commits.push(body.offset as number);
      return Response.json({ ok: true });
    }
    if (method === "GET" && path === `${queuePath}/messages`) {
      const offset = Number(url.searchParams.get("offset"));
      if (offset >= bodies.length) return hang(init.signal);
      const answer: PullResultWire = {
        pullStatus: "FOUND",
        nextBeginOffset: offset + 1,
        minOffset: 0,
        maxOffset: bodies.length,
        messages: [wireMessage(mq, offset, bodies[offset]!)],
      };
      return Response.json(answer);
    }
    return Response.json({ code: "NOT_FOUND", message: `${method} ${path}` }, { status: 404 });
  };
  return { mq, fetch, sendBacks, commits };
}
