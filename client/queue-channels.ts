/**
 * Channels to queue objects (protocol/send-channel.ts, protocol/pull-channel.ts): one WebSocket
 * per queue and kind, opened by a signed upgrade, carrying a producer's auto-batched sends or a
 * push consumer's pulls without an HTTP request each. Without the request, a send is the queue
 * object's durable write and little else, and a pull that waits is answered with its messages.
 *
 * A channel is opened in the background the first time a queue is used (calls go over HTTP
 * meanwhile, so nothing waits for an upgrade), and is used only while it is younger than the age
 * the server gave it, less a margin; a successor opens before that. A channel that cannot be
 * opened (no WebSocket in this runtime, a refusal, a server without channels) is not tried again
 * for a while, and its calls go over HTTP: channels change how a call travels, never whether it
 * is made.
 */
import { MQError, isErrorCode } from "../protocol/errors.js";
import { decodeFramed } from "../protocol/framed-messages.js";
import type { MessageQueue } from "../protocol/message.js";
import type { ChannelAnswer } from "../protocol/send-channel.js";
import { pathSegment, type FetchLike, type Transport } from "./transport.js";

/** What a channel needs of a WebSocket, whichever runtime provides it. */
export interface ChannelSocket {
  send(data: Uint8Array | string): void;
  close(code?: number, reason?: string): void;
  /** Open for sending (not closing or closed). */
  readonly readyState: number;
}

/** The longest delay a timer takes (2^31 - 1 ms). */
const MAX_TIMER_MS = 2_147_483_647;

/** WebSocket's readyState when open, in every runtime. */
const OPEN = 1;

export interface ChannelSocketEvents {
  /** A text message, or a binary one's bytes. */
  message(data: string | Uint8Array): void;
  close(code: number, reason: string): void;
}

/** Opens a WebSocket to `url` with `headers` on its upgrade; rejects when it is refused. */
export type ChannelOpener = (url: string, headers: Record<string, string>, events: ChannelSocketEvents) => Promise<ChannelSocket>;

/** The part of the `ws` package this module uses (Node before 22 has no WebSocket client that sends headers). */
interface NodeWebSocket {
  on(event: "open", listener: () => void): void;
  on(event: "message", listener: (data: Uint8Array, isBinary: boolean) => void): void;
  on(event: "close", listener: (code: number, reason: unknown) => void): void;
  on(event: "error", listener: (error: Error) => void): void;
  on(event: "unexpected-response", listener: (request: unknown, response: { statusCode?: number }) => void): void;
  send(data: Uint8Array | string): void;
  close(code?: number, reason?: string): void;
  terminate(): void;
  readonly readyState: number;
}
type NodeWebSocketClass = new (
  url: string,
  options: { headers: Record<string, string>; perMessageDeflate: boolean; handshakeTimeout: number },
) => NodeWebSocket;

/** An upgrade not answered in this long is given up (its calls go over HTTP meanwhile). */
const OPEN_TIMEOUT_MS = 5_000;

/** Node: the `ws` package, loaded only when a channel is first opened. */
async function nodeOpener(): Promise<ChannelOpener | undefined> {
  let WebSocketClass: NodeWebSocketClass;
  try {
    // A module name in a variable keeps browser and Worker bundlers from resolving it.
    const name = "ws";
    const mod = (await import(/* @vite-ignore */ name)) as { default?: NodeWebSocketClass; WebSocket?: NodeWebSocketClass };
    const found = mod.WebSocket ?? mod.default;
    if (!found) return undefined;
    WebSocketClass = found;
  } catch {
    return undefined;
  }
  return (url, headers, events) =>
    new Promise((resolve, reject) => {
      const ws = new WebSocketClass(url.replace(/^http/, "ws"), { headers, perMessageDeflate: false, handshakeTimeout: OPEN_TIMEOUT_MS });
      let opened = false;
      ws.on("unexpected-response", (_req, res) => {
        reject(new MQError("SERVICE_UNAVAILABLE", `the send channel upgrade was refused: HTTP ${res.statusCode ?? "?"}`));
        ws.terminate();
      });
      ws.on("error", (e) => {
        if (!opened) reject(new MQError("NETWORK_ERROR", `the send channel could not be opened: ${e.message}`));
      });
      ws.on("open", () => {
        opened = true;
        // An open channel alone does not keep the process alive (as an idle keep-alive HTTP
        // connection does not); a frame waiting for its answer has its own timer.
        (ws as unknown as { _socket?: { unref?: () => void } })._socket?.unref?.();
        resolve(ws);
      });
      ws.on("message", (data, isBinary) => events.message(isBinary ? data : new TextDecoder().decode(data)));
      ws.on("close", (code, reason) => events.close(code, String(reason)));
    });
}

/** Workers: an upgrade through fetch. */
function fetchOpener(fetchImpl: FetchLike): ChannelOpener {
  return async (url, headers, events) => {
    const res = await fetchImpl(url, { headers: { ...headers, Upgrade: "websocket" }, signal: AbortSignal.timeout(OPEN_TIMEOUT_MS) });
    const ws = (res as Response & { webSocket?: (WebSocket & { accept(): void }) | null }).webSocket;
    if (res.status !== 101 || !ws) {
      await res.body?.cancel();
      throw new MQError("SERVICE_UNAVAILABLE", `the send channel upgrade was refused: HTTP ${res.status}`);
    }
    ws.accept();
    // workerd hands binary messages over as a Blob; read them in arrival order.
    let previous = Promise.resolve();
    ws.addEventListener("message", (e) => {
      const data = e.data as string | Blob | ArrayBuffer;
      previous = previous.then(async () =>
        events.message(typeof data === "string" ? data : new Uint8Array(data instanceof ArrayBuffer ? data : await data.arrayBuffer())),
      );
    });
    ws.addEventListener("close", (e) => events.close(e.code, e.reason));
    return ws;
  };
}

/**
 * How this runtime opens channels: through fetch in a Worker (WebSocketPair exists there), with
 * `ws` in Node; undefined in a browser, whose WebSocket cannot carry the signed headers.
 */
export async function defaultOpener(fetchImpl: FetchLike): Promise<ChannelOpener | undefined> {
  const g = globalThis as { WebSocketPair?: unknown; process?: { versions?: { node?: string } } };
  if (g.WebSocketPair !== undefined) return fetchOpener(fetchImpl);
  if (g.process?.versions?.node) return nodeOpener();
  return undefined;
}

/** Channels a client opened (each an upgrade request) and frames it sent over them. */
export interface ChannelStats {
  opened: number;
  frames: number;
}

/** What a frame's answer is: the JSON of a text answer, or the decoded head (bodies as bytes) of a binary one. */
export type ChannelReply = { id: number } & Record<string, unknown>;

/** One open channel to one queue. */
export class QueueChannel {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(reply: ChannelReply): void; reject(e: MQError): void; timer: ReturnType<typeof setTimeout> }>();
  private closed = false;
  /** The object said it takes no more frames: closed by this side once the frames sent are answered. */
  private ending = false;
  private socket: ChannelSocket | undefined;

  /** When it was opened, by this client's clock, and how long the server answers it. */
  constructor(
    readonly openedAt: number,
    public maxAgeMs: number,
    private readonly stats: ChannelStats = { opened: 0, frames: 0 },
  ) {}

  /** Takes no more frames. */
  get isClosed(): boolean {
    return this.closed || this.ending || this.socket?.readyState !== OPEN;
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** How much longer this client uses the channel (0 once it should not be used). */
  usableForMs(now: number): number {
    return this.isClosed ? 0 : Math.max(0, this.openedAt + this.maxAgeMs - USE_MARGIN_MS - now);
  }

  attach(socket: ChannelSocket): void {
    this.socket = socket;
  }

  /**
   * Sends the frame `encode` makes for a new id; resolves with its answer, or rejects with the
   * frame's refusal (CHANNEL_EXPIRED: the object did nothing of it), NETWORK_ERROR when the
   * socket closed before the answer, TIMEOUT after `timeoutMs`.
   */
  request(encode: (id: number) => Uint8Array | string, timeoutMs: number): { id: number; reply: Promise<ChannelReply> } {
    const id = this.nextId++;
    if (this.isClosed) return { id, reply: Promise.reject(new MQError("CHANNEL_EXPIRED", "the channel has ended")) };
    const frame = encode(id);
    const reply = new Promise<ChannelReply>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.pending.delete(id);
          reject(new MQError("TIMEOUT", `no answer on the channel within ${timeoutMs} ms`));
          this.close(); // an object that does not answer in time is not sent more
        },
        Math.min(timeoutMs, MAX_TIMER_MS),
      );
      this.pending.set(id, { resolve, reject, timer });
      try {
        this.socket!.send(frame);
        this.stats.frames++;
      } catch (e) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(new MQError("CHANNEL_EXPIRED", `the channel could not send: ${(e as Error).message}`));
      }
    });
    return { id, reply };
  }

  /** Sends a frame that is not answered by id (a pull's cancel). */
  notify(frame: string): void {
    try {
      if (!this.closed) this.socket?.send(frame);
    } catch {
      // the socket closed: the pending frame fails on its own
    }
  }

  /** A message from the object. */
  onMessage(data: string | Uint8Array): void {
    let reply: ChannelAnswer | ChannelReply | undefined;
    try {
      reply =
        typeof data === "string"
          ? (JSON.parse(data) as ChannelAnswer)
          : (decodeFramed<{ messages: { body: number }[] }>(data) as unknown as ChannelReply | undefined);
    } catch {
      reply = undefined;
    }
    if (!reply || "hello" in reply) return;
    if ("closing" in reply) {
      this.ending = true;
    } else if (typeof reply.id === "number") {
      const r = reply as Record<string, unknown> & { id: number };
      const code = typeof r.code === "string" && !("results" in r) ? r.code : undefined;
      const waiter = this.pending.get(r.id);
      if (waiter) {
        this.pending.delete(r.id);
        clearTimeout(waiter.timer);
        if (code !== undefined) waiter.reject(new MQError(isErrorCode(code) ? code : "INTERNAL_ERROR", String(r.message)));
        else waiter.resolve(r);
      }
      if (code === "CHANNEL_EXPIRED") this.ending = true;
    }
    if (this.ending && this.pending.size === 0) this.close();
  }

  /**
   * The socket closed: frames not answered may or may not have been acted on, so they fail as a
   * lost connection does (NETWORK_ERROR: a send is retried with the same msgIds, which the queue
   * folds; a pull moves nothing).
   */
  onClose(code: number, reason: string): void {
    this.closed = true;
    for (const waiter of this.pending.values()) {
      clearTimeout(waiter.timer);
      waiter.reject(new MQError("NETWORK_ERROR", `the channel closed (${code} ${reason}) before answering`));
    }
    this.pending.clear();
  }

  /** Takes no more frames, and closes once those sent are answered. */
  finish(): void {
    this.ending = true;
    if (this.pending.size === 0) this.close();
  }

  /** Closes the socket; frames still unanswered fail when it has closed (onClose). */
  close(): void {
    this.closed = true;
    try {
      this.socket?.close(1000, "done");
    } catch {
      // already closed
    }
  }
}

/** A channel younger than its age less this is used; a successor opens this long before that. */
const USE_MARGIN_MS = 250;
const RENEW_BEFORE_MS = 1000;
/** Channels shorter-lived than this are not worth an upgrade (a deployment with a very short route cache). */
const MIN_USEFUL_AGE_MS = 1000;
/** An open channel that says nothing this long is given up. */
const HELLO_TIMEOUT_MS = 5_000;
/** After a failed open, sends to the queue go over HTTP this long before another try. */
const RETRY_OPEN_AFTER_MS = 30_000;

interface QueueState {
  current?: QueueChannel;
  opening?: Promise<void>;
  /** No open is tried before this time. */
  notBefore: number;
}

/** One client's channels of one kind ("channel": sends, "pull-channel": pulls), by queue. */
export class QueueChannels {
  private readonly queues = new Map<string, QueueState>();
  private opener: Promise<ChannelOpener | undefined> | undefined;
  private shut = false;
  readonly stats: ChannelStats = { opened: 0, frames: 0 };

  constructor(
    private readonly transport: Transport,
    /** The path segment of the channel's upgrade after the queue's path. */
    private readonly segment: string,
    private readonly now: () => number = Date.now,
    opener?: ChannelOpener,
  ) {
    if (opener) this.opener = Promise.resolve(opener);
  }

  /**
   * The queue's channel if one is open and young enough to use now, else undefined (send over
   * HTTP); either way, starts opening one when the queue has none or its one is nearly done.
   */
  channelFor(mq: MessageQueue): QueueChannel | undefined {
    if (this.shut) return undefined;
    const key = this.keyOf(mq);
    let state = this.queues.get(key);
    if (!state) {
      if (this.queues.size >= 10_000) this.closeAll(); // bounded: a producer of very many queues starts afresh
      state = { notBefore: 0 };
      this.queues.set(key, state);
    }
    const now = this.now();
    const current = state.current;
    const age = current ? now - current.openedAt : Infinity;
    if (current && (current.isClosed || age >= current.maxAgeMs - USE_MARGIN_MS)) this.retire(state, current);
    const usable = state.current;
    const renewAt = usable ? Math.max(usable.maxAgeMs - RENEW_BEFORE_MS, usable.maxAgeMs / 2) : 0;
    if (!state.opening && now >= state.notBefore && (!usable || age >= renewAt)) state.opening = this.open(mq, state);
    return usable;
  }

  /**
   * The queue's channel as channelFor gives it, but waiting for one being opened (an upgrade
   * takes a round trip): for a call that may wait long anyway, a pull, which would otherwise
   * hold an HTTP long poll for its whole wait.
   */
  async channelWhenOpen(mq: MessageQueue): Promise<QueueChannel | undefined> {
    const now = this.channelFor(mq);
    if (now) return now;
    const opening = this.queues.get(this.keyOf(mq))?.opening;
    if (!opening) return undefined;
    await opening;
    return this.channelFor(mq);
  }

  /** Closes `mq`'s channel once its frames are answered (the client let the queue go). */
  release(mq: MessageQueue): void {
    const key = this.keyOf(mq);
    const state = this.queues.get(key);
    if (!state) return;
    this.queues.delete(key);
    if (state.current) this.retire(state, state.current);
  }

  /** Closes every channel; later calls go over HTTP (the client is shutting down). */
  closeAll(): void {
    for (const state of this.queues.values()) if (state.current) state.current.close();
    this.queues.clear();
  }

  shutdown(): void {
    this.shut = true;
    this.closeAll();
  }

  private keyOf(mq: MessageQueue): string {
    return `${mq.brokerName}\u0000${mq.topic}\u0000${mq.queueId}`;
  }

  /** Stops using `channel`; it closes once its frames are answered. */
  private retire(state: QueueState, channel: QueueChannel): void {
    if (state.current === channel) delete state.current;
    channel.finish();
  }

  private async open(mq: MessageQueue, state: QueueState): Promise<void> {
    try {
      this.opener ??= defaultOpener(this.transport.fetch);
      const opener = await this.opener;
      if (!opener) {
        state.notBefore = Infinity; // this runtime cannot open channels
        return;
      }
      const path = `/brokers/${pathSegment(mq.brokerName)}/topics/${pathSegment(mq.topic)}/queues/${mq.queueId}/${this.segment}`;
      const { url, headers } = await this.transport.signedUpgrade(path);
      const channel = new QueueChannel(this.now(), 0, this.stats);
      this.stats.opened++;
      let hello!: (maxAgeMs: number) => void;
      const helloed = new Promise<number>((resolve) => (hello = resolve));
      const socket = await opener(url, headers, {
        message: (data) => {
          if (typeof data === "string" && data.startsWith('{"hello"')) {
            const maxAgeMs = (JSON.parse(data) as { hello: { maxAgeMs: number } }).hello.maxAgeMs;
            return hello(typeof maxAgeMs === "number" ? maxAgeMs : 0);
          }
          channel.onMessage(data);
        },
        close: (code, reason) => {
          channel.onClose(code, reason);
          hello(0);
        },
      });
      channel.attach(socket);
      const helloTimer = setTimeout(() => hello(0), HELLO_TIMEOUT_MS);
      const maxAgeMs = await helloed;
      clearTimeout(helloTimer);
      // Shut down, or the queue let go (release) while this opened: nobody would close it.
      const released = this.queues.get(this.keyOf(mq)) !== state;
      if (this.shut || released || maxAgeMs < MIN_USEFUL_AGE_MS) {
        channel.close();
        if (!this.shut && !released) state.notBefore = this.now() + RETRY_OPEN_AFTER_MS;
        return;
      }
      channel.maxAgeMs = maxAgeMs;
      // A channel nothing uses any more (the client stopped calling this queue) ends with its
      // age, so the object does not hold it until the client shuts down.
      const idle = setTimeout(() => {
        if (state.current === channel) this.retire(state, channel);
      }, maxAgeMs);
      (idle as { unref?: () => void }).unref?.();
      const previous = state.current;
      state.current = channel;
      if (previous) this.retire(state, previous);
    } catch {
      state.notBefore = this.now() + RETRY_OPEN_AFTER_MS;
    } finally {
      delete state.opening;
    }
  }
}
