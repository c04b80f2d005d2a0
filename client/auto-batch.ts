/**
 * Auto-batching's wire side: the request function the produce accumulator calls (one
 * multi-queue send, POST /topics/:topic/messages, its answer split back into one outcome per
 * send), the options with their defaults, and the per-send wait that keeps each send's own
 * timeout and AbortSignal while its message rides a shared request.
 */
import { MQError } from "../protocol/errors.js";
import type { MultiSendResponse } from "../protocol/multi-send.js";
import type { MessageIn, MultiSendRequest } from "../protocol/schemas.js";
import type { AccumulatorLimits, PendingSend, SendOutcome } from "./produce-accumulator.js";
import { pathSegment, type Transport } from "./transport.js";

export interface AutoBatchOptions {
  /**
   * Auto-batching of single sends (RocketMQ 5's autoBatch): sends of one topic ready at the same
   * time travel in one request, each with its own result. Default true; false sends each message
   * in a request of its own.
   */
  autoBatch?: boolean;
  /** Linger: how long the first waiting send of an idle topic waits for others; default 0 (no added latency). */
  autoBatchHoldMs?: number;
  /**
   * Most messages in one auto-batched request; default 128. Under many concurrent sends a full
   * request leaves at once, so the next one fills (on the same queue) while it is in flight.
   */
  autoBatchMaxMessages?: number;
  /** Most body bytes in one auto-batched request; default 1 MiB (a larger message goes alone). */
  autoBatchMaxBytes?: number;
  /**
   * Auto-batched requests of one topic in flight at once; default 1. Sends issued meanwhile
   * wait and ride the next request (a full request leaves at once), which is what makes
   * batches out of single sends: fewer requests and fewer rows written per message.
   */
  autoBatchMaxRequestsInFlight?: number;
  /**
   * Sends without a selector or sharding key join the queue whose sends are already waiting for
   * the next request, instead of the next queue round-robin (Kafka's sticky partitioner): one
   * log row per request instead of one per queue. The queues still take turns, request by
   * request. Default true.
   */
  autoBatchStickyQueue?: boolean;
}

export function autoBatchLimits(options: AutoBatchOptions): AccumulatorLimits | undefined {
  if (options.autoBatch === false) return undefined;
  const limits = {
    holdMs: options.autoBatchHoldMs ?? 0,
    maxMessages: options.autoBatchMaxMessages ?? 128,
    maxBytes: options.autoBatchMaxBytes ?? 1024 * 1024,
    maxRequestsInFlight: options.autoBatchMaxRequestsInFlight ?? 1,
  };
  if (
    !(limits.holdMs >= 0) ||
    !(limits.maxMessages >= 1 && limits.maxMessages <= 1024) ||
    !(limits.maxBytes >= 1) ||
    !(Number.isInteger(limits.maxRequestsInFlight) && limits.maxRequestsInFlight >= 1)
  )
    throw new MQError(
      "BAD_REQUEST",
      "autoBatchHoldMs must be >= 0, autoBatchMaxMessages 1-1024, autoBatchMaxBytes >= 1, autoBatchMaxRequestsInFlight an integer >= 1",
    );
  return limits;
}

/** Body bytes of a wire message, as the caps count them. */
export function wireBodyBytes(message: MessageIn): number {
  return message.bodyEncoding === "utf8" ? new TextEncoder().encode(message.body).length : Math.floor((message.body.length * 3) / 4);
}

/** Sends one multi-queue request for `sends` and answers one outcome per send, in order. */
export function multiSendRequest(transport: Transport, now: () => number = Date.now) {
  return async (topic: string, sends: readonly PendingSend[]): Promise<SendOutcome[]> => {
    const queues: MultiSendRequest["queues"] = [];
    const entryOf = new Map<string, MultiSendRequest["queues"][number]>();
    const positions: { entry: number; index: number }[] = [];
    for (const s of sends) {
      const key = `${s.mq.brokerName}\u0000${s.mq.queueId}`;
      let entry = entryOf.get(key);
      if (!entry) {
        entry = { brokerName: s.mq.brokerName, queueId: s.mq.queueId, messages: [] };
        entryOf.set(key, entry);
        queues.push(entry);
      }
      positions.push({ entry: queues.indexOf(entry), index: entry.messages.length });
      entry.messages.push(s.message);
    }
    // The answer lists results queue entry by queue entry.
    const starts: number[] = [];
    queues.reduce((n, q) => (starts.push(n), n + q.messages.length), 0);
    const deadline = Math.max(...sends.map((s) => s.deadline));
    const response = await transport.request<MultiSendResponse>(`/topics/${pathSegment(topic)}/messages`, {
      method: "POST",
      body: { queues },
      timeoutMs: Math.max(1, deadline - now()),
    });
    return positions.map(({ entry, index }): SendOutcome => {
      const item = response.results[starts[entry]! + index];
      if (!item) return { ok: false, error: new MQError("INTERNAL_ERROR", "the broker answered fewer results than messages sent") };
      return item.ok ? { ok: true, result: item.result } : { ok: false, error: new MQError(item.code, item.message) };
    });
  };
}

/**
 * Waits for a send's own outcome, but no longer than its own time budget or its signal allow:
 * the shared request may go on for the other sends it carries.
 */
export function awaitOwn<T>(outcome: Promise<T>, timeoutMs: number, signal: AbortSignal | undefined): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => finish(() => reject(new MQError("ABORTED", "the send was aborted")));
    const timer = setTimeout(() => finish(() => reject(new MQError("TIMEOUT", "the send was not answered in time"))), Math.max(1, timeoutMs));
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      settle();
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener("abort", onAbort, { once: true });
    outcome.then(
      (v) => finish(() => resolve(v)),
      (e: unknown) => finish(() => reject(e)),
    );
  });
}
