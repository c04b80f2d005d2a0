/**
 * Membership of a consumer group: heartbeats on an interval (and on demand), hands each new
 * assignment to its owner, and leaves the group on stop so its queues move at once.
 */
import type { AllocateStrategyName } from "../protocol/allocate.js";
import type { HeartbeatRequest, HeartbeatResponse, MessageModel, Subscription } from "../protocol/consumer.js";
import { isMQError } from "../protocol/errors.js";
import type { MessageQueue } from "../protocol/message.js";
import { sleep } from "./timing.js";
import { pathSegment, type Transport } from "./transport.js";

export interface MemberOptions {
  /** Told of a heartbeat that did not reach the group (the member carries on and tries again). */
  onError?: (error: unknown, where: string) => void;
  group: string;
  clientId: string;
  messageModel: MessageModel;
  allocateStrategy?: AllocateStrategyName | undefined;
  zone?: string | undefined;
  heartbeatIntervalMs: number;
  sessionTimeoutMs: number;
  /** CONFIG strategy: the queues this member reads. */
  configuredQueues?: MessageQueue[] | undefined;
}

export type AssignmentHandler = (response: HeartbeatResponse) => Promise<void> | void;

export class GroupMember {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private running = false;
  private inFlight: Promise<void> | undefined;
  /** The last answer, for fencing pulls and commits. */
  current: HeartbeatResponse | undefined;

  constructor(
    private readonly transport: Transport,
    private readonly options: MemberOptions,
    private readonly subscriptions: () => Subscription[],
    private readonly onAssignment: AssignmentHandler,
    /** Queues the member is still reading, reported so the group can hand them over cleanly. */
    private readonly heldQueues: () => MessageQueue[] = () => [],
  ) {}

  /** First heartbeat; throws if the group refuses the member (bad subscription, limits). */
  async start(): Promise<void> {
    this.running = true;
    this.watchAbort = new AbortController();
    try {
      // The first heartbeat must reach the server: one that cannot be reached at start is an
      // error for the caller, not something to retry in silence.
      await this.beat(true);
    } catch (e) {
      this.running = false;
      throw e;
    }
    this.schedule();
    void this.watch(this.watchAbort.signal);
  }

  private watchAbort = new AbortController();

  /**
   * Holds a long poll on the group's generation; when another member joins or leaves, this
   * member heartbeats at once and picks up its new queues.
   */
  private async watch(signal: AbortSignal): Promise<void> {
    while (this.running && !signal.aborted) {
      const known = this.current?.generation ?? 0;
      try {
        const { generation } = await this.transport.request<{ generation: number }>(`/groups/${pathSegment(this.options.group)}/watch`, {
          query: { generation: known, maxWaitMs: 20_000 },
          timeoutMs: 30_000,
          signal,
        });
        if (generation > known && this.running) {
          await this.beatSoon();
          // A heartbeat that failed leaves us behind; pause rather than spin on the watch.
          if ((this.current?.generation ?? 0) <= known) await sleep(Math.min(this.options.heartbeatIntervalMs, 1000), signal);
        }
      } catch {
        if (signal.aborted) return;
        await sleep(Math.min(this.options.heartbeatIntervalMs, 1000), signal);
      }
    }
  }

  /** Heartbeats now (after a refused pull, say); concurrent calls share one request. */
  beatSoon(): Promise<void> {
    if (!this.inFlight) {
      this.inFlight = this.beat()
        .catch(() => undefined)
        .finally(() => (this.inFlight = undefined));
    }
    return this.inFlight;
  }

  async stop(leave: boolean): Promise<void> {
    this.running = false;
    this.watchAbort.abort();
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight;
    if (leave) {
      await this.transport
        .request(`/groups/${pathSegment(this.options.group)}/members/${pathSegment(this.options.clientId)}`, { method: "DELETE" })
        .catch(() => undefined);
    }
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      void this.beatSoon().finally(() => this.schedule());
    }, this.options.heartbeatIntervalMs);
  }

  private async beat(firstContact = false): Promise<void> {
    const body: HeartbeatRequest = {
      clientId: this.options.clientId,
      messageModel: this.options.messageModel,
      subscriptions: this.subscriptions(),
      heartbeatIntervalMs: this.options.heartbeatIntervalMs,
      sessionTimeoutMs: this.options.sessionTimeoutMs,
    };
    if (this.options.allocateStrategy) body.allocateStrategy = this.options.allocateStrategy;
    if (this.options.zone) body.zone = this.options.zone;
    if (this.options.configuredQueues) body.configuredQueues = this.options.configuredQueues;
    body.heldQueues = this.heldQueues();
    // Heartbeats run one at a time, after the previous answer was applied: the queues above
    // are those of this generation.
    if (this.current) body.generation = this.current.generation;
    let response: HeartbeatResponse;
    try {
      response = await this.transport.request<HeartbeatResponse>(`/groups/${pathSegment(this.options.group)}/heartbeat`, {
        method: "POST",
        body,
      });
    } catch (e) {
      // A member that cannot reach its group keeps its queues until the server moves them;
      // its pulls and commits are then refused, which is the fence.
      // At start, a server that does not answer at all (connection refused, DNS, TLS) fails
      // start(); one that answers "busy" (503) does not: the member is known to be reachable.
      const unreachable = isMQError(e) && e.code === "NETWORK_ERROR";
      if ((firstContact && unreachable) || (isMQError(e) && !e.retriable)) throw e;
      this.options.onError?.(e, "heartbeat");
      return;
    }
    this.current = response;
    // Applied in the background: letting go of a queue waits for its listener calls, and the
    // heartbeats must keep flowing meanwhile (held queues are reported until let go).
    if (this.running) void Promise.resolve(this.onAssignment(response)).catch(() => undefined);
  }
}

let sequence = 0;
/** A client id unique per consumer instance (RocketMQ: ip@instanceName, which may collide). */
export function newClientId(): string {
  const random = crypto.getRandomValues(new Uint32Array(2));
  return `c${Date.now().toString(36)}-${random[0]!.toString(36)}${random[1]!.toString(36)}-${++sequence}`;
}
