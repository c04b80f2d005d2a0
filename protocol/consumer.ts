/** Consumer-side vocabulary shared by broker and client (RocketMQ's names). */
import type { MessageQueue } from "./message.js";
import type { AllocateStrategyName } from "./allocate.js";

export type MessageModel = "CLUSTERING" | "BROADCASTING";
export type ConsumeFromWhere = "CONSUME_FROM_LAST_OFFSET" | "CONSUME_FROM_FIRST_OFFSET" | "CONSUME_FROM_TIMESTAMP";
export type ExpressionType = "TAG" | "SQL92";

export interface Subscription {
  topic: string;
  expressionType: ExpressionType;
  expression: string;
}

/** What a member tells its group on every heartbeat. */
export interface HeartbeatRequest {
  clientId: string;
  messageModel: MessageModel;
  subscriptions: Subscription[];
  allocateStrategy?: AllocateStrategyName;
  /** Zone (machine room) of the member, for zone-aware allocation. */
  zone?: string;
  heartbeatIntervalMs: number;
  sessionTimeoutMs: number;
  /** For the CONFIG strategy: the queues this member is configured to read. */
  configuredQueues?: MessageQueue[];
  /**
   * Queues the member is still reading. A queue moving to another member is handed over only
   * once its old owner no longer lists it (or after a timeout), so its offset is committed first.
   */
  heldQueues?: MessageQueue[];
  /** The generation whose assignment the member has applied (heldQueues reflect it). */
  generation?: number;
}

/** The group's answer: the member's queues under the current generation. */
export interface HeartbeatResponse {
  generation: number;
  /** Queues this member owns (CLUSTERING); empty for BROADCASTING members, which read every queue. */
  assignment: MessageQueue[];
  /** Bumped by an admin offset reset; a member that sees it change reloads its offsets. */
  offsetResetSeq: number;
  members: number;
  sessionTimeoutMs: number;
}

export interface MemberInfo {
  clientId: string;
  messageModel: MessageModel;
  subscriptions: Subscription[];
  zone: string | null;
  lastHeartbeatAt: number;
  sessionTimeoutMs: number;
  assignment: MessageQueue[];
}

export interface GroupInfo {
  group: string;
  generation: number;
  allocateStrategy: AllocateStrategyName;
  offsetResetSeq: number;
  /** How the group consumes: by offsets (push and pull members) or by POP (SimpleConsumer receive/ack). */
  consumeMode: "OFFSETS" | "POP";
  members: MemberInfo[];
}

/** Per-queue progress of a group (mqadmin consumerProgress). */
export interface QueueProgress {
  messageQueue: MessageQueue;
  brokerOffset: number;
  consumerOffset: number;
  minOffset: number;
  lag: number;
  lastTimestamp: number;
  /** True when the committed offset is below minOffset: the consumer will skip to minOffset. */
  behindMinOffset: boolean;
  /** A POP group's messages received and not acked yet (counted in lag); 0 for offset groups. */
  inflight: number;
}

export interface GroupProgress {
  group: string;
  queues: QueueProgress[];
  totalLag: number;
}

/** Ownership of a queue by a group member, carried by pulls and commits for fencing. */
export interface MemberFence {
  clientId: string;
  generation: number;
  offsetResetSeq?: number | undefined;
}

export function retryTopic(group: string): string {
  return `%RETRY%${group}`;
}

export function dlqTopic(group: string): string {
  return `%DLQ%${group}`;
}
