/** Producer Worker: sends orders to flaremq by RPC over a service binding (send, sendBatch, sendOrderly). */
import { mqErrorFromRpc, type FlareMQService, type WorkerMessage } from "../../../protocol/worker-rpc.js";

interface Env {
  MQ: FlareMQService;
  TOPIC: string;
}

interface Order {
  id: string;
  item: string;
  quantity: number;
}

function isOrder(value: unknown): value is Order {
  const o = value as Partial<Order> | null;
  return typeof o === "object" && o !== null && typeof o.id === "string" && typeof o.item === "string" && typeof o.quantity === "number";
}

/** One order as a message: tagged, keyed by its id (so it can be queried by key), JSON body. */
function orderMessage(topic: string, order: Order): WorkerMessage {
  return { topic, tags: "OrderCreated", keys: [order.id], body: JSON.stringify(order) };
}

async function route(request: Request, env: Env): Promise<Response> {
  const { pathname } = new URL(request.url);
  if (request.method !== "POST") return Response.json({ code: "NOT_FOUND", message: "POST /orders, /orders/batch or /orders/ordered" }, { status: 404 });
  const body: unknown = await request.json().catch(() => undefined);
  if (pathname === "/orders" && isOrder(body)) {
    // Resolves once flaremq stored the message durably: the SendResult says where.
    return Response.json(await env.MQ.send(orderMessage(env.TOPIC, body)));
  }
  if (pathname === "/orders/batch" && Array.isArray(body) && body.every(isOrder)) {
    // One batch: one queue, all or none, consecutive offsets.
    return Response.json(await env.MQ.sendBatch(body.map((o) => orderMessage(env.TOPIC, o))));
  }
  if (pathname === "/orders/ordered" && Array.isArray(body) && body.every(isOrder)) {
    // Ordered by order id: one id's messages go to one queue, in the order sent (each awaited).
    const results = [];
    for (const order of body) results.push(await env.MQ.sendOrderly(orderMessage(env.TOPIC, order), order.id));
    return Response.json(results);
  }
  return Response.json({ code: "VALIDATION_FAILED", message: "expected an order { id, item, quantity } (or an array of them)" }, { status: 400 });
}

export default {
  async fetch(request, env): Promise<Response> {
    try {
      return await route(request, env);
    } catch (e) {
      // flaremq's refusals cross RPC with their code (ACCESS_DENIED, MESSAGE_ILLEGAL, ...).
      const error = mqErrorFromRpc(e);
      if (!error) throw e;
      return Response.json({ code: error.code, message: error.message }, { status: error.status });
    }
  },
} satisfies ExportedHandler<Env>;
