/**
 * Membership of a consumer group: heartbeats on an interval (and on demand), hands each new
 * assignment to its owner, and leaves the group on stop so its queues move at once.
 */
import type { AllocateStrategyName } from "../protocol/allocate.js";
import type { HeartbeatRequest, HeartbeatResponse, MessageModel, Subscription } from "../protocol/consumer.js";
import { isMQError } from "../protocol/errors.js";
import { pathSegment, type Transport } from "./transport.js";

export interface MemberOptions {
  group: string;
  clientId: string;
  messageModel: MessageModel;
  allocateStrategy?: AllocateStrategyName | undefined;
  zone?: string | undefined;
  heartbeatIntervalMs: number;
  sessionTimeoutMs: number;
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
  ) {}

  /** First heartbeat; throws if the group refuses the member (bad subscription, limits). */
  async start(): Promise<void> {
    this.running = true;
    await this.beat();
    this.schedule();
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

  private async beat(): Promise<void> {
    const body: HeartbeatRequest = {
      clientId: this.options.clientId,
      messageModel: this.options.messageModel,
      subscriptions: this.subscriptions(),
      heartbeatIntervalMs: this.options.heartbeatIntervalMs,
      sessionTimeoutMs: this.options.sessionTimeoutMs,
    };
    if (this.options.allocateStrategy) body.allocateStrategy = this.options.allocateStrategy;
    if (this.options.zone) body.zone = this.options.zone;
    let response: HeartbeatResponse;
    try {
      response = await this.transport.request<HeartbeatResponse>(`/groups/${pathSegment(this.options.group)}/heartbeat`, {
        method: "POST",
        body,
      });
    } catch (e) {
      // A member that cannot reach its group keeps its queues until the server moves them;
      // its pulls and commits are then refused, which is the fence.
      if (isMQError(e) && !e.retriable) throw e;
      return;
    }
    this.current = response;
    if (this.running) await this.onAssignment(response);
  }
}

let sequence = 0;
/** A client id unique per consumer instance (RocketMQ: ip@instanceName, which may collide). */
export function newClientId(): string {
  const random = crypto.getRandomValues(new Uint32Array(2));
  return `c${Date.now().toString(36)}-${random[0]!.toString(36)}${random[1]!.toString(36)}-${++sequence}`;
}
