/**
 * Auto-batching's wire side: the request function the produce accumulator calls (one
 * multi-queue send, POST /topics/:topic/messages, its answer split back into one outcome per
 * send), the options with their defaults, and the per-send wait that keeps each send's own
 * timeout and AbortSignal while its message rides a shared request.
 */
import { MQError } from "../protocol/errors.js";
import type { MessageQueue } from "../protocol/message.js";
import type { MultiSendItem, MultiSendResponse } from "../protocol/multi-send.js";
import { base64ToBytes } from "../protocol/base64.js";
import { encodeChannelFrame, MAX_CHANNEL_FRAME_BYTES, toChannelMessage, type ChannelMessage } from "../protocol/send-channel.js";
import type { QueueChannels } from "./queue-channels.js";
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

/** One queue's share of an auto-batched request. */
interface QueueShare {
  mq: MessageQueue;
  /** Positions of its sends in the request. */
  positions: number[];
  messages: MessageIn[];
  /** Each message's body as the caller's bytes, where it gave bytes. */
  bodies: (Uint8Array | undefined)[];
  /** The latest deadline of its sends. */
  deadline: number;
}

function outcomeOf(item: MultiSendItem | undefined): SendOutcome {
  if (!item) return { ok: false, error: new MQError("INTERNAL_ERROR", "the broker answered fewer results than messages sent") };
  return item.ok ? { ok: true, result: item.result } : { ok: false, error: new MQError(item.code, item.message) };
}

/** A frame's worth of bytes the channel takes (the head's JSON rides along; Cloudflare once capped messages at 1 MiB). */
const CHANNEL_BODY_BYTES = MAX_CHANNEL_FRAME_BYTES - 128 * 1024;

/**
 * The queue's share over its send channel: its outcomes, or undefined when it must go over HTTP
 * (no channel usable now, a message the channel does not carry, or the channel expired before
 * storing anything).
 */
async function overChannel(channels: QueueChannels, share: QueueShare, now: () => number): Promise<SendOutcome[] | undefined> {
  const channel = channels.channelFor(share.mq);
  if (!channel) return undefined;
  const messages: ChannelMessage[] = [];
  let bytes = 0;
  for (const [i, m] of share.messages.entries()) {
    const raw = share.bodies[i];
    const c = toChannelMessage(m, (text) => raw ?? base64ToBytes(text));
    if (!c) return undefined;
    bytes += c.body.byteLength;
    messages.push(c);
  }
  if (bytes > CHANNEL_BODY_BYTES) return undefined;
  try {
    const { reply } = channel.request((id) => encodeChannelFrame(id, messages), Math.max(1, share.deadline - now()));
    const items = (await reply).results as MultiSendItem[];
    return messages.map((_, i) => outcomeOf(items[i]));
  } catch (e) {
    const error = e instanceof MQError ? e : new MQError("NETWORK_ERROR", String(e));
    if (error.code === "CHANNEL_EXPIRED") return undefined; // nothing of it was stored
    return messages.map(() => ({ ok: false, error }));
  }
}

/**
 * Sends `sends` and answers one outcome per send, in order: each queue's share over its send
 * channel when it has one open (client/queue-channels.ts), the rest in one multi-queue request,
 * POST /topics/:topic/messages.
 */
export function multiSendRequest(transport: Transport, now: () => number = Date.now, channels?: QueueChannels) {
  return async (topic: string, sends: readonly PendingSend[]): Promise<SendOutcome[]> => {
    const shares: QueueShare[] = [];
    const shareOf = new Map<string, QueueShare>();
    sends.forEach((s, i) => {
      const key = `${s.mq.brokerName}\u0000${s.mq.queueId}`;
      let share = shareOf.get(key);
      if (!share) {
        share = { mq: s.mq, positions: [], messages: [], bodies: [], deadline: s.deadline };
        shareOf.set(key, share);
        shares.push(share);
      }
      share.positions.push(i);
      share.messages.push(s.message);
      share.bodies.push(s.body);
      share.deadline = Math.max(share.deadline, s.deadline);
    });
    const outcomes: SendOutcome[] = new Array<SendOutcome>(sends.length);
    const overHttp: QueueShare[] = [];
    await Promise.all(
      shares.map(async (share) => {
        const answered = channels ? await overChannel(channels, share, now) : undefined;
        if (!answered) return void overHttp.push(share);
        share.positions.forEach((p, i) => (outcomes[p] = answered[i]!));
      }),
    );
    if (overHttp.length > 0) {
      const deadline = Math.max(...sends.map((s) => s.deadline));
      const body: MultiSendRequest = { queues: overHttp.map((q) => ({ brokerName: q.mq.brokerName, queueId: q.mq.queueId, messages: q.messages })) };
      let response: MultiSendResponse;
      try {
        response = await transport.request<MultiSendResponse>(`/topics/${pathSegment(topic)}/messages`, {
          method: "POST",
          body,
          timeoutMs: Math.max(1, deadline - now()),
        });
      } catch (error) {
        // Only the HTTP shares failed: what went over channels keeps its own outcome.
        if (overHttp.length === shares.length) throw error;
        for (const share of overHttp) for (const p of share.positions) outcomes[p] = { ok: false, error };
        return outcomes;
      }
      // The answer lists results share by share, each share's messages in order.
      let at = 0;
      for (const share of overHttp) for (const p of share.positions) outcomes[p] = outcomeOf(response.results[at++]);
    }
    return outcomes;
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
