/**
 * The send channel: a WebSocket from a producer to one queue's object, opened by a signed
 * upgrade (GET .../queues/:queueId/channel) that the Worker authorizes and routes once. Each
 * frame after that is a multi-queue send's entry for that queue, without the HTTP request: no
 * Worker invocation, no signature and no route lookup per send, which locally is most of a
 * send's cost (a no-op HTTP request costs workerd about as much CPU as the durable write) and
 * on Cloudflare bills an incoming message at a twentieth of a request.
 *
 * Frames from the producer are binary, framed as a pull's answer (framed-messages.ts): the head
 * `{ id, messages }` with each body's byte length, then the raw bodies. The object answers in
 * text: first a hello with the channel's age limit, then one answer per frame, `{ id, results }`
 * (one MultiSendItem per message, as the HTTP multi-send) or `{ id, code, message }` when the
 * whole frame is refused (nothing of it stored). A channel takes frames for at most `maxAgeMs`
 * (the deployment's route cache time), so the rights and routes the upgrade checked are never
 * older than an HTTP send's cached ones; a route change ends the channels it touches at once.
 * An ended channel says `{ closing }` and refuses later frames with CHANNEL_EXPIRED, storing
 * nothing of them; the producer closes it once its frames are answered (the object never
 * closes a channel that may have frames on the way, so no frame goes unanswered).
 */
import { z } from "zod";
import type { ErrorCode } from "./errors.js";
import { encodeFramed } from "./framed-messages.js";
import { Limits } from "./limits.js";
import type { MultiSendItem } from "./multi-send.js";
import { MessageInSchema, type MessageIn } from "./schemas.js";

/** The path segment after a queue's path: GET /brokers/:broker/topics/:topic/queues/:queueId/channel. */
export const SEND_CHANNEL_SEGMENT = "channel";

/** Largest frame a producer sends: Cloudflare took WebSocket messages of up to 1 MiB before it took 32 MiB. */
export const MAX_CHANNEL_FRAME_BYTES = 1024 * 1024;

/** A frame's head, with bodies as bytes (after framed decoding). Delayed and transaction sends go over HTTP. */
/** A frame's id, which its answer carries back (both channel kinds). */
export const FrameIdSchema = z
  .number()
  .int()
  .nonnegative()
  .max(2 ** 31);

export const ChannelFrameSchema = z.strictObject({
  id: FrameIdSchema,
  messages: z
    .array(
      MessageInSchema.omit({ bodyEncoding: true, delayTimeLevel: true, deliverTimeMs: true }).extend({
        body: z.custom<Uint8Array>((v) => v instanceof Uint8Array, "body must be bytes"),
      }),
    )
    .min(1)
    .max(Limits.maxBatchCount),
});
export type ChannelFrame = z.infer<typeof ChannelFrameSchema>;
export type ChannelMessage = ChannelFrame["messages"][number];

/** What the object sends: the hello once, then an answer per frame. */
export type ChannelAnswer =
  | { hello: { maxAgeMs: number } }
  /** The channel takes no more frames (its age is up, or the topic's route changed): open a new one, then close this once its frames are answered. */
  | { closing: { code: ErrorCode; message: string } }
  | { id: number; results: MultiSendItem[] }
  | { id: number; code: ErrorCode; message: string };

/** The frame carrying `messages` (their bodies already as bytes). */
export function encodeChannelFrame(id: number, messages: readonly ChannelMessage[]): Uint8Array<ArrayBuffer> {
  const head = { id, messages: messages.map((m) => ({ ...m, body: m.body.byteLength })) };
  return encodeFramed(
    head,
    messages.map((m) => m.body),
  );
}

const encoder = new TextEncoder();

/** A wire message (base64 or UTF-8 body) as a channel message, or undefined for a kind the channel does not carry. */
export function toChannelMessage(m: MessageIn, decodeBase64: (text: string) => Uint8Array | undefined): ChannelMessage | undefined {
  if (m.delayTimeLevel || m.deliverTimeMs !== undefined) return undefined;
  const body = m.bodyEncoding === "utf8" ? encoder.encode(m.body) : decodeBase64(m.body);
  if (!body) return undefined;
  const { bodyEncoding: _e, delayTimeLevel: _d, deliverTimeMs: _t, ...rest } = m;
  return { ...rest, body };
}
