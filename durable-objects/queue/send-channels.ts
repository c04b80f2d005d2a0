/**
 * The queue object's side of the send channel (protocol/send-channel.ts): producers' WebSockets,
 * accepted as hibernatable sockets so an idle channel keeps nothing awake, each frame stored
 * through the same group commit as an HTTP send, message by message (a multi-queue send's
 * semantics: each message stored or refused on its own, one row for the frame).
 *
 * The Worker authorized the upgrade (PUB on the topic), resolved the queue and names both in a
 * header only it can set (a client reaches the object only through the Worker), so a frame
 * carries messages and nothing that says where they go. A channel answers frames for at most
 * its `maxAgeMs`; after that, and after a route change (closeAll), it is told it is closing and
 * every later frame is refused whole with CHANNEL_EXPIRED, so the producer opens a new channel,
 * whose upgrade checks rights and route again. The producer closes the old one once its frames
 * are answered: a frame never meets a socket the object closed under it. The cap on channels is
 * shared between accounts as the parked pulls' cap is.
 */
import { bodiesTooLarge } from "../../protocol/size-refusals.js";
import { decodeFramed } from "../../protocol/framed-messages.js";
import { MQError, type ErrorCode } from "../../protocol/errors.js";
import { Limits } from "../../protocol/limits.js";
import type { MessageQueue, StoredMessage } from "../../protocol/message.js";
import type { MultiSendItem } from "../../protocol/multi-send.js";
import { sendResult } from "../../protocol/send-result.js";
import { ChannelFrameSchema, type ChannelAnswer } from "../../protocol/send-channel.js";
import { toStoredMessage } from "../../protocol/stored-message.js";
import { decodeRpcError } from "../../cluster/rpc-errors.js";
import { accountToRelease } from "../shared/wake-sockets.js";
import type { AppendEachResult } from "./group-commit.js";

/** The path of the Worker's forwarded upgrade on the object (parked pulls use another). */
export const SEND_CHANNEL_PATH = "/send-channel";

/** The Worker's header on the upgrade it forwards: who opened the channel, to which queue. */
export const SEND_CHANNEL_HEADER = "x-mq-send-channel";

/** What the Worker's header and each socket's attachment carry. */
export interface SendChannelGrant {
  account: string;
  mq: MessageQueue;
  bornHost: string;
  maxAgeMs: number;
}

interface Attachment extends SendChannelGrant {
  /** When the object accepted it: its age, and which of an account's channels is the oldest. */
  openedAt: number;
  /** Told it takes no more frames (its age ran out, or the route changed). */
  closing?: true;
}

/** An ended channel its producer has not closed is closed by the object this long after its age ran out (only when the cap is reached). */
const STALE_AFTER_MS = 60_000;

/** Every channel socket carries this tag; parked pulls carry another. */
const TAG = "send";

/** Close codes (application range): the channel's time is up, or the cap made room. */
const CLOSE_STALE = 4410;
const CLOSE_RELEASED = 4429;
const CLOSE_MALFORMED = 1007;

export interface SendChannelsDeps {
  ctx: Pick<DurableObjectState, "acceptWebSocket" | "getWebSockets" | "getTags">;
  appendEach(messages: StoredMessage[], mq: MessageQueue): Promise<AppendEachResult[]>;
  now(): number;
  /** Channels held at most; default Limits.maxSendChannelsPerQueue. */
  max?: number;
}

function answer(ws: WebSocket, value: ChannelAnswer): void {
  try {
    ws.send(JSON.stringify(value));
  } catch {
    // the producer left; what was stored stays stored, and its retry is folded by msgId
  }
}

function close(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // already closed
  }
}

function refusal(e: unknown): { ok: false; code: ErrorCode; message: string } {
  const coded = decodeRpcError(e);
  return { ok: false, code: coded?.code ?? "INTERNAL_ERROR", message: coded?.message ?? String(e) };
}

export class SendChannels {
  /** Frames answered since the object started, for the bench's cost meter (stats()). */
  framesReceived = 0;
  /** Messages stored over channels since the object started, by SendStatus (GET /metrics). */
  readonly sendsByStatus: Record<string, number> = {};

  constructor(private readonly deps: SendChannelsDeps) {}

  /** Whether `ws` is a send channel (not a parked pull). */
  owns(ws: WebSocket): boolean {
    return this.deps.ctx.getTags(ws).includes(TAG);
  }

  /** Channels that take frames now. */
  get size(): number {
    return this.live().length;
  }

  /** Answers the Worker's forwarded upgrade: the channel, or a coded refusal. */
  accept(request: Request): Response {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") return new Response("expected a WebSocket upgrade", { status: 426 });
    let grant: SendChannelGrant;
    try {
      grant = JSON.parse(decodeURIComponent(request.headers.get(SEND_CHANNEL_HEADER) ?? "")) as SendChannelGrant;
    } catch {
      return new Response(`${SEND_CHANNEL_HEADER} is not URI-encoded JSON`, { status: 400 });
    }
    const refused = this.makeRoomFor(grant.account);
    if (refused) return Response.json(refused.toJSON(), { status: refused.status });
    const pair = new WebSocketPair();
    const server = pair[1];
    this.deps.ctx.acceptWebSocket(server, [TAG]);
    server.serializeAttachment({ ...grant, openedAt: this.deps.now() } satisfies Attachment);
    answer(server, { hello: { maxAgeMs: grant.maxAgeMs } });
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  /** Stores one frame's messages and answers it; a frame that cannot be read closes the channel. */
  async onFrame(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    this.framesReceived++;
    if (typeof data === "string") return close(ws, CLOSE_MALFORMED, "frames are binary");
    const decoded = decodeFramed(new Uint8Array(data));
    const id = (decoded as { id?: unknown } | undefined)?.id;
    if (!decoded || typeof id !== "number") return close(ws, CLOSE_MALFORMED, "not a framed send");
    const parsed = ChannelFrameSchema.safeParse(decoded);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return answer(ws, { id, code: "VALIDATION_FAILED", message: `${issue?.path.join(".") ?? ""}: ${issue?.message ?? "invalid frame"}` });
    }
    const frame = parsed.data;
    const grant = ws.deserializeAttachment() as Attachment;
    const now = this.deps.now();
    if (grant.closing || now - grant.openedAt > grant.maxAgeMs) {
      const message = grant.closing ? "the channel has ended; open a new one" : `the channel is older than ${grant.maxAgeMs} ms; open a new one`;
      if (!grant.closing) this.endChannel(ws, grant, message);
      return answer(ws, { id, code: "CHANNEL_EXPIRED", message });
    }
    const total = frame.messages.reduce((n, m) => n + m.body.byteLength, 0);
    if (total > Limits.maxBatchBodyBytes) {
      const e = bodiesTooLarge(total);
      return answer(ws, { id, code: e.code, message: e.message });
    }
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

  /** Ends every channel: the topic's route changed, so the next frames go through a new upgrade. */
  closeAll(): number {
    let ended = 0;
    for (const ws of this.open()) {
      const grant = ws.deserializeAttachment() as Attachment;
      if (grant.closing) continue;
      this.endChannel(ws, grant, "the topic's route changed; open a new channel");
      ended++;
    }
    return ended;
  }

  /** Marks the channel as taking no more frames and tells its producer, who closes it. */
  private endChannel(ws: WebSocket, grant: Attachment, message: string): void {
    ws.serializeAttachment({ ...grant, closing: true } satisfies Attachment);
    answer(ws, { closing: { code: "CHANNEL_EXPIRED", message } });
  }

  private open(): WebSocket[] {
    return this.deps.ctx.getWebSockets(TAG).filter((ws) => ws.readyState === WebSocket.OPEN);
  }

  /** Channels that take frames now (not ended). */
  private live(): WebSocket[] {
    return this.open().filter((ws) => !(ws.deserializeAttachment() as Attachment).closing);
  }

  /** Room for one more of `account`'s channels: nothing to do, the busiest account's oldest let go, or a refusal. */
  private makeRoomFor(account: string): MQError | undefined {
    const max = this.deps.max ?? Limits.maxSendChannelsPerQueue;
    let open = this.open();
    if (open.length < max) return undefined;
    // Ended channels their producers did not close (gone without a word) make room first.
    const now = this.deps.now();
    for (const ws of open) {
      const a = ws.deserializeAttachment() as Attachment;
      if (now - a.openedAt > a.maxAgeMs + STALE_AFTER_MS) close(ws, CLOSE_STALE, "stale");
    }
    open = this.open();
    if (open.length < max) return undefined;
    const counts = new Map<string, number>();
    for (const ws of open) {
      const a = (ws.deserializeAttachment() as Attachment).account;
      counts.set(a, (counts.get(a) ?? 0) + 1);
    }
    const victim = accountToRelease(counts, account);
    if (victim === null) return new MQError("TOO_MANY_CHANNELS", `this queue holds ${open.length} send channels; send over HTTP`);
    let oldest: WebSocket | undefined;
    let oldestAt = Infinity;
    for (const ws of open) {
      const a = ws.deserializeAttachment() as Attachment;
      if (a.account === victim && a.openedAt < oldestAt) [oldest, oldestAt] = [ws, a.openedAt];
    }
    if (oldest) close(oldest, CLOSE_RELEASED, "released for another account");
    return undefined;
  }
}
