/**
 * The pull channel: a WebSocket from a push consumer to one queue's object, opened by a signed
 * upgrade (GET .../queues/:queueId/pull-channel, SUB on the topic), carrying the consumer's
 * pulls without an HTTP request each. A pull that finds nothing waits in the object, parked in
 * the socket's attachment (so the object hibernates meanwhile), and is answered with the
 * messages themselves when an append or an owner change wakes it: no wake-up, re-read and answer
 * through the Worker as an HTTP long poll takes.
 *
 * Frames from the consumer are text: `{ id, pull }` (the query of GET .../messages as JSON), or
 * `{ cancel: id }`, which answers a parked pull at once with what it has (its time is up, or
 * the consumer let the queue go). Answers are binary, framed as a pull's framed answer with the
 * frame's `id` in the head, or text `{ id, code, message }` for a refusal; the hello, the age
 * and the end are the send channel's (send-channel.ts).
 */
import { z } from "zod";
import { Limits } from "./limits.js";
import { GroupNameSchema } from "./schemas.js";
import { FrameIdSchema } from "./send-channel.js";
import type { PullResultWire } from "./message.js";

/** The path segment after a queue's path: GET /brokers/:broker/topics/:topic/queues/:queueId/pull-channel. */
export const PULL_CHANNEL_SEGMENT = "pull-channel";

const uint = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
export const PullChannelFrameSchema = z.union([
  z.strictObject({
    id: FrameIdSchema,
    pull: z
      .strictObject({
        offset: uint,
        maxNums: z.number().int().min(1).max(Limits.maxPullNums),
        expression: z.string().max(Limits.maxExpressionLength),
        expressionType: z.enum(["TAG", "SQL92"]),
        /** How long the pull may wait in the object for messages; 0 answers at once. */
        maxWaitMs: z.number().int().min(0).max(Limits.maxPullWaitMs),
        /** A group member's pull: the group and the fence, together. */
        group: GroupNameSchema.optional(),
        fence: z.strictObject({ clientId: z.string().min(1).max(255), generation: uint }).optional(),
      })
      .refine((p) => (p.group === undefined) === (p.fence === undefined), "group and fence go together"),
  }),
  z.strictObject({ cancel: FrameIdSchema }),
]);

/** The head of a pull channel's answer: a framed pull answer with the frame's id. */
export type PullChannelAnswerHead = Omit<PullResultWire, "messages"> & {
  id: number;
  messages: (Omit<PullResultWire["messages"][number], "body"> & { body: number })[];
};
