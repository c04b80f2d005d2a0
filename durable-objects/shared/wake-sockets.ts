/**
 * Parked long polls of one object, held as hibernatable WebSockets (the object side of
 * cluster/wake-wait.ts). The Worker holds the client's long poll and a socket to the object; the
 * object keeps no request, no promise and no timer per waiter, only the sockets, which the
 * runtime keeps open while the object hibernates. `wake()` tells every waiter to ask again and
 * closes its socket; the Worker's own timer ends a wait nobody woke.
 *
 * The cap on parked waiters is shared fairly between accounts: when it is reached, an account
 * holding fewer than the busiest one still gets in, and the busiest account's oldest waiter is
 * released early ("released": its long poll ends as one that timed out, and its caller polls
 * again). So accounts that fill the cap can only crowd out themselves; an account is refused
 * (TOO_MANY_WAITERS) only while it holds about as many as any other (at least its share,
 * cap / accounts waiting). Who waits, and since when, is each socket's attachment, which
 * survives hibernation.
 *
 * The queue (pulls), the consumer group (watches) and the producer group (check polls) park
 * their waiters here, hence its place in shared/.
 */
import { decodeRpcError, toRpcError } from "../../cluster/rpc-errors.js";
import { RELEASED_MESSAGE, WAKE_ACCOUNT_HEADER, WAKE_MESSAGE, WAKE_SEEN_HEADER } from "../../cluster/wake-wait.js";
import { ErrorCodes } from "../../protocol/errors.js";
import { Limits } from "../../protocol/limits.js";

/** Every parked socket carries this tag, so other sockets an object may hold later are not mistaken for waiters. */
const TAG = "wake";

/** A parked waiter, as its socket's attachment. */
interface Parked {
  account: string;
  /** Arrival order: the smallest of an account is its oldest. */
  seq: number;
}

export interface WakeSocketsOptions {
  /** Parked waiters held at most; default Limits.maxWaitersPerQueue. */
  max?: number;
  /** What the refusal calls the object and its waiters, e.g. "this queue" and "parked pulls". */
  holder: string;
  waiters: string;
}

/**
 * Whose waiter makes room for one more of `account`'s when the cap is reached: the busiest
 * account's, or null (refuse `account`) when taking one from the busiest would only swap who is
 * short, i.e. it holds at most one more than `account`. Among equally busy accounts the first by
 * name gives up the place: the runtime lists sockets in no promised order, and which account
 * loses a waiter should not depend on it.
 */
export function accountToRelease(counts: ReadonlyMap<string, number>, account: string): string | null {
  const mine = counts.get(account) ?? 0;
  let busiest = account;
  let most = mine;
  for (const [a, n] of counts) {
    if (n > most || (n === most && busiest !== account && a < busiest)) {
      busiest = a;
      most = n;
    }
  }
  return most <= mine + 1 ? null : busiest;
}

export class WakeSockets {
  private readonly max: number;
  private lastSeq = 0;

  constructor(
    private readonly ctx: Pick<DurableObjectState, "acceptWebSocket" | "getWebSockets">,
    private readonly options: WakeSocketsOptions,
  ) {
    this.max = options.max ?? Limits.maxWaitersPerQueue;
  }

  /** Waiters parked now. */
  get size(): number {
    return this.open().length;
  }

  /**
   * Answers the Worker's upgrade request: "wake" at once when `isStale` says what the caller saw
   * has changed already (no socket then), a coded refusal when the cap leaves this account no
   * place, else the parked socket.
   */
  accept(request: Request, isStale: (seen: unknown) => boolean): Response {
    if (request.headers.get("Upgrade")?.toLowerCase() !== "websocket") return new Response("expected a WebSocket upgrade", { status: 426 });
    let seen: unknown;
    try {
      seen = JSON.parse(decodeURIComponent(request.headers.get(WAKE_SEEN_HEADER) ?? "null"));
    } catch {
      return new Response(`${WAKE_SEEN_HEADER} is not URI-encoded JSON`, { status: 400 });
    }
    if (isStale(seen)) return new Response(WAKE_MESSAGE);
    let account: string;
    try {
      account = decodeURIComponent(request.headers.get(WAKE_ACCOUNT_HEADER) ?? "");
    } catch {
      return new Response(`${WAKE_ACCOUNT_HEADER} is not URI-encoded`, { status: 400 });
    }
    try {
      this.makeRoomFor(account);
    } catch (e) {
      const coded = decodeRpcError(e);
      if (!coded) throw e;
      return Response.json(coded, { status: ErrorCodes[coded.code] });
    }
    const pair = new WebSocketPair();
    const server = pair[1];
    this.ctx.acceptWebSocket(server, [TAG]);
    server.serializeAttachment({ account, seq: this.nextSeq() } satisfies Parked);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  /** Tells every parked waiter to ask again, and lets its socket go. */
  wake(): void {
    for (const ws of this.open()) this.letGo(ws, WAKE_MESSAGE);
  }

  /** Sockets still open (one closed a moment ago may still be listed until its close completes). */
  private open(): WebSocket[] {
    return this.ctx.getWebSockets(TAG).filter((ws) => ws.readyState === WebSocket.OPEN);
  }

  /** Releases the busiest account's oldest waiter for `account`, or refuses `account`. */
  private makeRoomFor(account: string): void {
    const sockets = this.open();
    if (sockets.length < this.max) return;
    const parked = sockets.map((ws) => ({ ws, ...(ws.deserializeAttachment() as Parked) }));
    const counts = new Map<string, number>();
    for (const p of parked) counts.set(p.account, (counts.get(p.account) ?? 0) + 1);
    const busiest = accountToRelease(counts, account);
    if (busiest === null) {
      const { holder, waiters } = this.options;
      const mine = counts.get(account) ?? 0;
      throw toRpcError("TOO_MANY_WAITERS", `${holder} already holds ${this.max} ${waiters}, ${mine} of them this account's (its share); retry later`);
    }
    let oldest: (typeof parked)[number] | undefined;
    for (const p of parked) if (p.account === busiest && (oldest === undefined || p.seq < oldest.seq)) oldest = p;
    if (oldest) this.letGo(oldest.ws, RELEASED_MESSAGE);
  }

  private letGo(ws: WebSocket, message: string): void {
    try {
      ws.send(message);
      ws.close(1000, message);
    } catch {
      // The Worker went away meanwhile: nothing to tell.
    }
  }

  /**
   * Increasing within an instance and across hibernation (a later instance starts from a later
   * clock), so arrival order survives the object leaving memory.
   */
  private nextSeq(): number {
    this.lastSeq = Math.max(this.lastSeq + 1, Date.now() * 1000);
    return this.lastSeq;
  }
}

/**
 * An object's webSocketClose handler: the Worker closed a parked socket (its wait ran out, or
 * its client left); answering the close completes it.
 */
export function closeParked(ws: WebSocket, code: number): void {
  try {
    ws.close(code === 1005 || code === 1006 ? 1000 : code, "closed");
  } catch {
    // already closed
  }
}
