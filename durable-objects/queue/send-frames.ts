/**
 * A send channel's frames (protocol/send-channel.ts): each stored through the same group commit
 * as an HTTP send, message by message (a multi-queue send's semantics: each message stored or
 * refused on its own, one row for the frame). The socket's life is channel-sockets.ts.
 */
import { bodiesTooLarge } from "../../protocol/size-refusals.js";
import { decodeFramed } from "../../protocol/framed-messages.js";
import { Limits } from "../../protocol/limits.js";
import type { MessageQueue, StoredMessage } from "../../protocol/message.js";
import type { MultiSendItem } from "../../protocol/multi-send.js";
import { sendResult } from "../../protocol/send-result.js";
import { ChannelFrameSchema } from "../../protocol/send-channel.js";
import { toStoredMessage } from "../../protocol/stored-message.js";
import { answer, closeSocket, CLOSE_MALFORMED, refusal, type ChannelSockets } from "./channel-sockets.js";
import type { AppendEachResult } from "./group-commit.js";

export interface SendFramesDeps {
  appendEach(messages: StoredMessage[], mq: MessageQueue): Promise<AppendEachResult[]>;
  now(): number;
}

export class SendFrames {
  /** Messages stored over channels since the object started, by SendStatus (GET /metrics). */
  readonly sendsByStatus: Record<string, number> = {};

  constructor(
    private readonly sockets: ChannelSockets,
    private readonly deps: SendFramesDeps,
  ) {}

  /** Stores one frame's messages and answers it; a frame that cannot be read closes the channel. */
  async onFrame(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    if (typeof data === "string") return closeSocket(ws, CLOSE_MALFORMED, "send frames are binary");
    const decoded = decodeFramed(new Uint8Array(data));
    const id = (decoded as { id?: unknown } | undefined)?.id;
    if (!decoded || typeof id !== "number") return closeSocket(ws, CLOSE_MALFORMED, "not a framed send");
    const parsed = ChannelFrameSchema.safeParse(decoded);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return answer(ws, { id, code: "VALIDATION_FAILED", message: `${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid frame"}` });
    }
    const grant = this.sockets.admit(ws, id);
    if (!grant) return;
    const frame = parsed.data;
    const total = frame.messages.reduce((n, m) => n + m.body.byteLength, 0);
    if (total > Limits.maxBatchBodyBytes) {
      const e = bodiesTooLarge(total);
      return answer(ws, { id, code: e.code, message: e.message });
    }
    const now = this.deps.now();
    const prepared = frame.messages.map((m, i): StoredMessage | MultiSendItem => {
      try {
        return toStoredMessage(m, m.body, now, grant.bornHost, frame.messages.length > 1 ? i : undefined);
      } catch (e) {
        return refusal(e);
      }
    });
    const stored = prepared.filter((p): p is StoredMessage => "body" in p);
    let outcomes: AppendEachResult[] = [];
    try {
      if (stored.length > 0) outcomes = await this.deps.appendEach(stored, grant.mq);
    } catch (e) {
      const error = refusal(e);
      outcomes = stored.map(() => error);
    }
    let next = 0;
    const results = prepared.map((p): MultiSendItem => {
      if (!("body" in p)) return p;
      const outcome = outcomes[next++]!;
      if (!outcome.ok) return { ok: false, code: outcome.code, message: outcome.message };
      const status = outcome.sendStatus ?? "SEND_OK";
      this.sendsByStatus[status] = (this.sendsByStatus[status] ?? 0) + 1;
      return { ok: true, result: sendResult(grant.mq, [p], outcome.queueOffset, status) };
    });
    answer(ws, { id, results });
  }
}
