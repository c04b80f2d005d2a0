/**
 * The queue object's channel sockets (protocol/send-channel.ts, protocol/pull-channel.ts):
 * producers' and consumers' WebSockets, accepted as hibernatable sockets so an idle channel
 * keeps nothing awake. This module is their life: the upgrade, the age, the end, the cap; what a
 * frame does is send-frames.ts and pull-frames.ts.
 *
 * The Worker authorized the upgrade (PUB or SUB on the topic), resolved the queue and names both
 * in a header only it can set (a client reaches the object only through the Worker), so a frame
 * carries nothing that says where it goes or who sends it. A channel answers frames for at most
 * its `maxAgeMs`; after that, and after a route change (closeAll), it is told it is closing and
 * every later frame is refused whole with CHANNEL_EXPIRED, so the client opens a new channel,
 * whose upgrade checks rights and route again. The client closes the old one once its frames
 * are answered: a frame never meets a socket the object closed under it. The cap on channels is
 * shared between accounts as the parked pulls' cap is.
 */
import { MQError, type ErrorCode } from "../../protocol/errors.js";
import { Limits } from "../../protocol/limits.js";
import type { MessageQueue } from "../../protocol/message.js";
import type { ChannelAnswer } from "../../protocol/send-channel.js";
import { decodeRpcError } from "../../cluster/rpc-errors.js";
import { accountToRelease } from "../shared/wake-sockets.js";

export type ChannelKind = "send" | "pull";

/** The paths of the Worker's forwarded upgrades on the object (parked pulls use another). */
export const CHANNEL_PATHS: Readonly<Record<ChannelKind, string>> = { send: "/send-channel", pull: "/pull-channel" };

/** The Worker's header on the upgrade it forwards: who opened the channel, to which queue. */
export const CHANNEL_GRANT_HEADER = "x-mq-channel-grant";

/** What the Worker's header carries. */
export interface ChannelGrant {
  account: string;
  mq: MessageQueue;
  bornHost: string;
  maxAgeMs: number;
}

/** Each socket's attachment (it survives hibernation). */
export interface ChannelAttachment extends ChannelGrant {
  /** When the object accepted it: its age, and which of an account's channels is the oldest. */
  openedAt: number;
  /** Told it takes no more frames (its age ran out, or the route changed). */
  closing?: true;
  /** A pull channel's pull waiting for messages (pull-frames.ts). */
  parked?: unknown;
}

/** An ended channel its client has not closed is closed by the object this long after its age ran out (only when the cap is reached). */
const STALE_AFTER_MS = 60_000;

/** Close codes: a stale channel, room made under the cap, a frame that is not one. */
const CLOSE_STALE = 4410;
const CLOSE_RELEASED = 4429;
export const CLOSE_MALFORMED = 1007;

export interface ChannelSocketsDeps {
  ctx: Pick<DurableObjectState, "acceptWebSocket" | "getWebSockets" | "getTags">;
  now(): number;
  /** Channels (both kinds) held at most; default Limits.maxChannelsPerQueue. */
  max?: number;
}

/** Sends a text answer; a client that left is not an error (what was stored stays stored). */
export function answer(ws: WebSocket, value: ChannelAnswer | { id: number; code: ErrorCode; message: string }): void {
  try {
    ws.send(JSON.stringify(value));
  } catch {
    // the client left
  }
}

export function closeSocket(ws: WebSocket, code: number, reason: string): void {
  try {
    ws.close(code, reason);
  } catch {
    // already closed
  }
}

/** A coded refusal of whatever `e` is (a coded RPC error keeps its code). */
export function refusal(e: unknown): { ok: false; code: ErrorCode; message: string } {
  const coded = decodeRpcError(e);
  return { ok: false, code: coded?.code ?? "INTERNAL_ERROR", message: coded?.message ?? String(e) };
}

export class ChannelSockets {
  /** Frames received since the object started, for the bench's cost meter (stats()). */
  framesReceived = 0;

  constructor(private readonly deps: ChannelSocketsDeps) {}

  /** The channel kind of `ws`, or undefined for another socket (a parked pull's). */
  kindOf(ws: WebSocket): ChannelKind | undefined {
    const tags = this.deps.ctx.getTags(ws);
    return tags.includes("send") ? "send" : tags.includes("pull") ? "pull" : undefined;
  }

  /** Channels of `kind` that take frames now. */
  size(kind: ChannelKind): number {
    return this.live(kind).length;
  }

  /** Answers the Worker's forwarded upgrade: the channel, or a coded refusal. */
  accept(request: Request, kind: ChannelKind): Response {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") return new Response("expected a WebSocket upgrade", { status: 426 });
    let grant: ChannelGrant;
    try {
      grant = JSON.parse(decodeURIComponent(request.headers.get(CHANNEL_GRANT_HEADER) ?? "")) as ChannelGrant;
    } catch {
      return new Response(`${CHANNEL_GRANT_HEADER} is not URI-encoded JSON`, { status: 400 });
    }
    const refused = this.makeRoomFor(grant.account);
    if (refused) return Response.json(refused.toJSON(), { status: refused.status });
    const pair = new WebSocketPair();
    const server = pair[1];
    this.deps.ctx.acceptWebSocket(server, [kind]);
    server.serializeAttachment({ ...grant, openedAt: this.deps.now() } satisfies ChannelAttachment);
    answer(server, { hello: { maxAgeMs: grant.maxAgeMs } });
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  /**
   * The channel's attachment when it may take frame `id` now; else undefined, with the frame
   * refused CHANNEL_EXPIRED (and the channel ended, if its age just ran out).
   */
  admit(ws: WebSocket, id: number): ChannelAttachment | undefined {
    const grant = ws.deserializeAttachment() as ChannelAttachment;
    if (!grant.closing && this.deps.now() - grant.openedAt <= grant.maxAgeMs) return grant;
    const message = grant.closing ? "the channel has ended; open a new one" : `the channel is older than ${grant.maxAgeMs} ms; open a new one`;
    if (!grant.closing) this.end(ws, grant, message);
    answer(ws, { id, code: "CHANNEL_EXPIRED", message });
    return undefined;
  }

  /** Ends every channel: the topic's route changed, so the next frames go through a new upgrade. */
  closeAll(): number {
    let ended = 0;
    for (const ws of this.open()) {
      const grant = ws.deserializeAttachment() as ChannelAttachment;
      if (grant.closing) continue;
      this.end(ws, grant, "the topic's route changed; open a new channel");
      ended++;
    }
    return ended;
  }

  /** Marks the channel as taking no more frames and tells its client, who closes it. */
  end(ws: WebSocket, grant: ChannelAttachment, message: string): void {
    ws.serializeAttachment({ ...grant, closing: true } satisfies ChannelAttachment);
    answer(ws, { closing: { code: "CHANNEL_EXPIRED", message } });
  }

  /** Open sockets of `kind` (or of both). */
  open(kind?: ChannelKind): WebSocket[] {
    const sockets = kind ? this.deps.ctx.getWebSockets(kind) : [...this.deps.ctx.getWebSockets("send"), ...this.deps.ctx.getWebSockets("pull")];
    return sockets.filter((ws) => ws.readyState === WebSocket.OPEN);
  }

  /** Channels that take frames now (not ended). */
  private live(kind: ChannelKind): WebSocket[] {
    return this.open(kind).filter((ws) => !(ws.deserializeAttachment() as ChannelAttachment).closing);
  }

  /** Room for one more of `account`'s channels: nothing to do, the busiest account's oldest let go, or a refusal. */
  private makeRoomFor(account: string): MQError | undefined {
    const max = this.deps.max ?? Limits.maxChannelsPerQueue;
    let open = this.open();
    if (open.length < max) return undefined;
    // Channels their clients left without a word make room first.
    const now = this.deps.now();
    for (const ws of open) {
      const a = ws.deserializeAttachment() as ChannelAttachment;
      if (now - a.openedAt > a.maxAgeMs + STALE_AFTER_MS) closeSocket(ws, CLOSE_STALE, "stale");
    }
    open = this.open();
    if (open.length < max) return undefined;
    const counts = new Map<string, number>();
    for (const ws of open) {
      const a = (ws.deserializeAttachment() as ChannelAttachment).account;
      counts.set(a, (counts.get(a) ?? 0) + 1);
    }
    const victim = accountToRelease(counts, account);
    if (victim === null) return new MQError("TOO_MANY_CHANNELS", `this queue holds ${open.length} channels; use HTTP`);
    let oldest: WebSocket | undefined;
    let oldestAt = Infinity;
    for (const ws of open) {
      const a = ws.deserializeAttachment() as ChannelAttachment;
      if (a.account === victim && a.openedAt < oldestAt) [oldest, oldestAt] = [ws, a.openedAt];
    }
    if (oldest) closeSocket(oldest, CLOSE_RELEASED, "released for another account");
    return undefined;
  }
}
