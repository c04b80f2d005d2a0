/**
 * Lets a fake deployment written for the per-queue send route answer auto-batched sends too:
 * a multi-queue send (POST /topics/:t/messages) is split into one per-queue POST per queue
 * entry, handed to the fake, and its answers are put back together one result per message.
 * A network failure or a hang of any entry is the whole request's, as over one connection.
 */
import type { MultiSendItem } from "../../protocol/multi-send.js";
import type { SendResult } from "../../protocol/message.js";
import type { MultiSendRequest } from "../../protocol/schemas.js";
import type { FetchLike } from "../transport.js";

export function withMultiSend(fetch: FetchLike): FetchLike {
  return async (input, init) => {
    const url = new URL(input);
    const m = /^\/topics\/([^/]+)\/messages$/.exec(url.pathname);
    if (!m || init.method !== "POST") return fetch(input, init);
    const { queues } = JSON.parse(init.body as string) as MultiSendRequest;
    const perEntry = await Promise.all(
      queues.map(async (q): Promise<MultiSendItem[]> => {
        const path = `/brokers/${encodeURIComponent(q.brokerName)}/topics/${m[1]!}/queues/${q.queueId}/messages`;
        const res = await fetch(url.origin + path, { ...init, body: JSON.stringify({ messages: q.messages }) });
        const body = (await res.json()) as SendResult & { code: string; message: string };
        if (!res.ok) return q.messages.map(() => ({ ok: false, code: body.code as never, message: body.message }));
        return q.messages.map((msg, i) => ({
          ok: true,
          result: { ...body, msgId: msg.msgId!, msgIds: [msg.msgId!], queueOffset: body.queueOffset + i },
        }));
      }),
    );
    return Response.json({ results: perEntry.flat() });
  };
}
