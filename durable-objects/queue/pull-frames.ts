/**
 * A pull channel's frames (protocol/pull-channel.ts): a pull is read at once and answered with
 * its messages, or, with nothing to answer and time to wait, parked in the socket's attachment
 * until wake() (an append, an owner change) finds something for it, or the consumer cancels it.
 * As the Worker's held pull (cluster/long-polls.ts): a filtered pull moves past what does not
 * match while it waits, and every read is a fresh pull, so the queue checks the group's owner
 * each time and a rebalance never hands messages to the old owner.
 */
import { encodeFramed } from "../../protocol/framed-messages.js";
import { toFramedMessageExt } from "../../protocol/message-ext.js";
import type { MessageQueue } from "../../protocol/message.js";
import { PullChannelFrameSchema, type PullChannelAnswerHead } from "../../protocol/pull-channel.js";
import { answer, closeSocket, CLOSE_MALFORMED, refusal, type ChannelAttachment, type ChannelSockets } from "./channel-sockets.js";
import type { PullRequest } from "./long-poll.js";
import type { PullOutcome } from "./pull.js";

/** A pull waiting in the object: its frame, the offset it asked from, and how far it has read. */
interface Parked {
  id: number;
  startOffset: number;
  req: PullRequest;
}

export interface PullFramesDeps {
  /** The queue's pull (with its push-subscription and owner checks). */
  pull(req: PullRequest): PullOutcome & { slaveHolds?: number };
  /** RocketMQ's suggestWhichBrokerId for an answer the master gives. */
  suggest(outcome: PullOutcome & { slaveHolds?: number }): number;
  now(): number;
}

/** Whether a read answers the pull now (as holdPull's `answered`). */
function answers(o: PullOutcome): boolean {
  return o.pullStatus === "FOUND" || o.pullStatus === "OFFSET_ILLEGAL" || o.nextBeginOffset < o.maxOffset;
}

export class PullFrames {
  constructor(
    private readonly sockets: ChannelSockets,
    private readonly deps: PullFramesDeps,
  ) {}

  /** Reads, parks or cancels one frame's pull; a frame that cannot be read closes the channel. */
  onFrame(ws: WebSocket, data: string | ArrayBuffer): void {
    if (typeof data !== "string") return closeSocket(ws, CLOSE_MALFORMED, "pull frames are text");
    let raw: unknown;
    try {
      raw = JSON.parse(data);
    } catch {
      return closeSocket(ws, CLOSE_MALFORMED, "not JSON");
    }
    const parsed = PullChannelFrameSchema.safeParse(raw);
    if (!parsed.success) {
      const id = (raw as { id?: unknown } | null)?.id;
      if (typeof id !== "number") return closeSocket(ws, CLOSE_MALFORMED, "not a pull frame");
      const issue = parsed.error.issues[0];
      return answer(ws, { id, code: "VALIDATION_FAILED", message: `${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid frame"}` });
    }
    const frame = parsed.data;
    if ("cancel" in frame) {
      const attachment = ws.deserializeAttachment() as ChannelAttachment;
      const parked = attachment.parked as Parked | undefined;
      if (parked?.id === frame.cancel) this.settle(ws, attachment, parked, true);
      return;
    }
    const grant = this.sockets.admit(ws, frame.id);
    if (!grant) return;
    // One pull waits per channel: one still parked is answered now with what it has, not dropped.
    const previous = grant.parked as Parked | undefined;
    if (previous) this.settle(ws, grant, previous, true);
    const { maxWaitMs, group, fence, ...read } = frame.pull;
    const req: PullRequest = { ...read, ...(group !== undefined && fence ? { group, fence } : {}) };
    const current = ws.deserializeAttachment() as ChannelAttachment;
    this.settle(ws, current, { id: frame.id, startOffset: req.offset, req }, maxWaitMs === 0);
  }

  /** Reads every parked pull again; those with something to answer are answered. */
  wake(): void {
    for (const ws of this.sockets.open("pull")) {
      const attachment = ws.deserializeAttachment() as ChannelAttachment;
      const parked = attachment.parked as Parked | undefined;
      if (parked) this.settle(ws, attachment, parked, false);
    }
  }

  /** Reads `parked`'s pull: answers it if the read answers it or `now`, else keeps it parked. */
  private settle(ws: WebSocket, attachment: ChannelAttachment, parked: Parked, now: boolean): void {
    const { parked: _previous, ...rest } = attachment;
    // A pull parked on a channel that has ended or aged since is refused: the consumer pulls
    // again on a new channel, whose upgrade checks its rights again.
    if (attachment.parked && (attachment.closing || this.deps.now() - attachment.openedAt > attachment.maxAgeMs)) {
      ws.serializeAttachment(rest);
      return answer(ws, { id: parked.id, code: "CHANNEL_EXPIRED", message: "the channel has ended; pull again on a new one" });
    }
    let outcome: PullOutcome & { slaveHolds?: number };
    try {
      outcome = this.deps.pull(parked.req);
    } catch (e) {
      ws.serializeAttachment(rest);
      const { code, message } = refusal(e);
      return answer(ws, { id: parked.id, code, message });
    }
    if (!answers(outcome) && !now) {
      // A filtered pull moves past what does not match while it waits.
      const next: Parked = { ...parked, req: { ...parked.req, offset: outcome.nextBeginOffset } };
      return ws.serializeAttachment({ ...rest, parked: next } satisfies ChannelAttachment);
    }
    ws.serializeAttachment(rest);
    const pullStatus = answers(outcome) ? outcome.pullStatus : outcome.nextBeginOffset > parked.startOffset ? "NO_MATCHED_MSG" : "NO_NEW_MSG";
    this.send(ws, attachment.mq, parked.id, { ...outcome, pullStatus });
  }

  private send(ws: WebSocket, mq: MessageQueue, id: number, outcome: PullOutcome & { slaveHolds?: number }): void {
    const head: PullChannelAnswerHead = {
      id,
      pullStatus: outcome.pullStatus,
      nextBeginOffset: outcome.nextBeginOffset,
      minOffset: outcome.minOffset,
      maxOffset: outcome.maxOffset,
      suggestWhichBrokerId: this.deps.suggest(outcome),
      brokerId: 0,
      messages: outcome.entries.map((e) => toFramedMessageExt(mq, e)),
    };
    try {
      ws.send(
        encodeFramed(
          head,
          outcome.entries.map((e) => e.message.body),
        ),
      );
    } catch {
      // the consumer left; a pull moves nothing, so nothing is lost
    }
  }
}
