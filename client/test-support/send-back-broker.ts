/**
 * A fake broker for the consume services' unit tests (push/consume-*.test.ts), as a Transport:
 * it takes send-backs of group G1 and records them; the first `refuse` are answered 503, as a
 * busy broker would. Every other call is a 404.
 */
import type { MessageQueue } from "../../protocol/message.js";
import { Transport, type FetchLike } from "../transport.js";

/** A send-back as the service posts it. */
export interface SendBackBody {
  messageQueue: MessageQueue;
  queueOffset: number;
  delayLevel: number;
  maxReconsumeTimes: number;
}

export function sendBackBroker(refuse = 0): { sendBacks: SendBackBody[]; transport: Transport } {
  const sendBacks: SendBackBody[] = [];
  let refused = 0;
  const fetch: FetchLike = async (input, init) => {
    const path = new URL(input).pathname;
    if (init.method === "POST" && path === "/groups/G1/sendback") {
      if (refused < refuse) {
        refused++;
        return Response.json({ code: "SERVICE_UNAVAILABLE", message: "busy" }, { status: 503 });
      }
      sendBacks.push(JSON.parse(init.body as string) as SendBackBody);
      return Response.json({ ok: true });
    }
    return Response.json({ code: "NOT_FOUND", message: path }, { status: 404 });
  };
  return { sendBacks, transport: new Transport({ endpoint: "http://mq.test", credentials: null, fetch }) };
}
