/** Admin, as RocketMQ's mqadmin/DefaultMQAdminExt: topics, routes, queue stats, message lookup. */
import type { MessageExtWire, MessageQueue, QueueStats } from "../protocol/message.js";
import type { TopicConfig, TopicRouteData } from "../protocol/route.js";
import type { HalfInfo, HalfState } from "../protocol/transaction.js";
import type { GroupInfo, GroupProgress } from "../protocol/consumer.js";
import type { AccountPolicy } from "../protocol/auth/permissions.js";
import type { ClusterInfo } from "../protocol/cluster.js";
import type { LiveBrokerInfo } from "../protocol/route.js";
import type { PushSubscriptionInfo, PushSubscriptionProgress, PushSubscriptionRequest } from "../protocol/push-subscription.js";
import { readQueues } from "./routes.js";
import type { TopicConfigInput } from "../protocol/schemas.js";
import { fromWireMessage, type MessageExt } from "./message.js";
import { brokerPath } from "./routes.js";
import { pathSegment, Transport, type CallOptions, type ClientOptions } from "./transport.js";

export type AdminOptions = ClientOptions;
export type { TopicConfig, TopicRouteData, TopicConfigInput };

/** Delayed messages waiting in a topic (or one queue): count per level (0 = timer messages). */
export interface DelayStats {
  count: number;
  byLevel: Record<string, number>;
  nextDueAt: number | null;
}

/** A transaction's half message as the broker tracks it, with the queue it waits in. */
export interface HalfMessageInfo extends HalfInfo {
  messageQueue: MessageQueue;
}

/** What a producer group's object holds: checks waiting for a producer, parked polls, its webhook. */
export interface ProducerGroupStatus {
  group: string;
  /** Transaction checks waiting for a producer of the group to poll them. */
  pendingChecks: number;
  pendingCheckBytes: number;
  /** Polls held open now: about the number of live producers of the group. */
  parkedPolls: number;
  /** When a producer last polled (0: not since the object started). */
  lastPollAt: number;
  webhookUrl: string | null;
}

/** An account as the API shows it: permissions, never secrets. */
export type AccountInfo = AccountPolicy;

export type { ClusterBroker, ClusterInfo } from "../protocol/cluster.js";

export class Admin {
  private readonly transport: Transport;

  constructor(options: AdminOptions) {
    this.transport = new Transport(options);
  }

  /**
   * Creates or updates a topic (mqadmin updateTopic). `queueNums` is per broker; `brokers`
   * defaults to every broker.
   */
  createTopic(topic: string, config: TopicConfigInput = {}, options: CallOptions = {}): Promise<TopicConfig> {
    return this.transport.request<TopicConfig>(`/namesrv/topics/${pathSegment(topic)}`, {
      ...options,
      method: "PUT",
      body: config,
    });
  }

  updateTopic(topic: string, config: TopicConfigInput, options: CallOptions = {}): Promise<TopicConfig> {
    return this.createTopic(topic, config, options);
  }

  async deleteTopic(topic: string, options: CallOptions = {}): Promise<void> {
    await this.transport.request(`/namesrv/topics/${pathSegment(topic)}`, { ...options, method: "DELETE" });
  }

  async listTopics(options: CallOptions = {}): Promise<TopicConfig[]> {
    return (await this.transport.request<{ topics: TopicConfig[] }>("/namesrv/topics", options)).topics;
  }

  topicRoute(topic: string, options: CallOptions = {}): Promise<TopicRouteData> {
    return this.transport.request<TopicRouteData>(`/namesrv/topics/${pathSegment(topic)}/route`, options);
  }

  clusterInfo(options: CallOptions = {}): Promise<ClusterInfo> {
    return this.transport.request<ClusterInfo>("/namesrv/brokers", options);
  }

  /** A queue's stats on its master, or on a slave (`brokerId` > 0). */
  queueStats(mq: MessageQueue, options: CallOptions & { brokerId?: number } = {}): Promise<QueueStats> {
    const { brokerId, ...call } = options;
    return this.transport.request<QueueStats>(`${brokerPath(mq)}/stats`, { ...call, query: { brokerId } });
  }

  /** Looks a message up by its offsetMsgId (straight to its queue). */
  async viewMessage(offsetMsgId: string, options: CallOptions = {}): Promise<MessageExt> {
    const wire = await this.transport.request<MessageExtWire>(`/messages/${pathSegment(offsetMsgId)}`, options);
    return fromWireMessage(wire);
  }

  /** Reads the message at a queue offset. */
  async viewMessageByOffset(mq: MessageQueue, queueOffset: number, options: CallOptions = {}): Promise<MessageExt> {
    const wire = await this.transport.request<MessageExtWire>(`${brokerPath(mq)}/messages/${queueOffset}`, options);
    return fromWireMessage(wire);
  }

  /** Delayed messages of a topic, summed over its queues (queried in parallel). */
  async delayStats(topic: string, options: CallOptions = {}): Promise<DelayStats> {
    const queues = readQueues(topic, await this.topicRoute(topic, options));
    const parts = await Promise.all(queues.map((mq) => this.transport.request<DelayStats>(`${brokerPath(mq)}/delayed`, options)));
    const total: DelayStats = { count: 0, byLevel: {}, nextDueAt: null };
    for (const p of parts) {
      total.count += p.count;
      for (const [level, n] of Object.entries(p.byLevel)) total.byLevel[level] = (total.byLevel[level] ?? 0) + n;
      if (p.nextDueAt !== null && (total.nextDueAt === null || p.nextDueAt < total.nextDueAt)) total.nextDueAt = p.nextDueAt;
    }
    return total;
  }

  /** Half messages of a topic's transactions, optionally of one state (queried in parallel). */
  async listTransactions(topic: string, state?: HalfState, options: CallOptions = {}): Promise<HalfMessageInfo[]> {
    const queues = readQueues(topic, await this.topicRoute(topic, options));
    const parts = await Promise.all(queues.map((mq) => this.queueTransactions(mq, state, options)));
    return parts.flat();
  }

  /** Half messages of one queue, optionally of one state; at most `limit` (default 1000). */
  async queueTransactions(mq: MessageQueue, state?: HalfState, options: CallOptions & { limit?: number } = {}): Promise<HalfMessageInfo[]> {
    const { limit, ...call } = options;
    const r = await this.transport.request<{ transactions: HalfInfo[] }>(`${brokerPath(mq)}/transactions`, {
      ...call,
      query: { state, limit: limit ?? 1000 },
    });
    return r.transactions.map((t) => ({ ...t, messageQueue: mq }));
  }

  /**
   * Registers (or with null removes) a producer group's check-back webhook: the broker POSTs
   * each transaction check to it and applies the `{ decision }` it answers.
   */
  async setProducerWebhook(group: string, url: string | null, options: CallOptions = {}): Promise<void> {
    await this.transport.request(`/producers/${pathSegment(group)}/webhook`, {
      ...options,
      method: url === null ? "DELETE" : "PUT",
      ...(url === null ? {} : { body: { url } }),
    });
  }

  producerGroupStatus(group: string, options: CallOptions = {}): Promise<ProducerGroupStatus> {
    return this.transport.request(`/producers/${pathSegment(group)}`, options);
  }

  /** Producer groups the server has heard from: a producer polled for checks, a check waited, or a webhook was set. */
  async listProducerGroups(options: CallOptions = {}): Promise<{ group: string; lastSeenAt: number }[]> {
    return (await this.transport.request<{ groups: { group: string; lastSeenAt: number }[] }>("/producers", options)).groups;
  }

  /** Members of a consumer group, their subscriptions and queues, and the generation. */
  groupInfo(group: string, options: CallOptions = {}): Promise<GroupInfo> {
    return this.transport.request<GroupInfo>(`/groups/${pathSegment(group)}`, options);
  }

  /** Per queue broker offset, consumer offset and lag (mqadmin consumerProgress). */
  consumerProgress(group: string, topic?: string, options: CallOptions = {}): Promise<GroupProgress> {
    return this.transport.request<GroupProgress>(`/groups/${pathSegment(group)}/progress`, { ...options, query: { topic } });
  }

  /** Moves the group's offsets of a topic to a time (mqadmin resetOffsetByTime); live members reload. */
  resetOffsetByTime(
    group: string,
    topic: string,
    timestampMs: number,
    options: CallOptions = {},
  ): Promise<{ offsetResetSeq: number; offsets: { messageQueue: MessageQueue; offset: number }[] }> {
    return this.transport.request(`/groups/${pathSegment(group)}/reset-offset`, {
      ...options,
      method: "POST",
      body: { topic, timestamp: timestampMs },
    });
  }

  /**
   * Deletes a consumer group that has no live member (mqadmin deleteSubGroup), with its retry
   * and dead-letter topics; its committed offsets stay. GROUP_HAS_MEMBERS while members are live.
   */
  deleteSubscriptionGroup(group: string, options: CallOptions = {}): Promise<{ group: string; topicsDeleted: string[] }> {
    return this.transport.request(`/groups/${pathSegment(group)}`, { ...options, method: "DELETE" });
  }

  /**
   * Creates or replaces a group's push subscription (the server delivers the topic's messages to
   * a service binding or an HTTPS webhook). A new webhook's signing secret is in `secret`, this
   * once only: store it where the receiver verifies signatures.
   */
  putPushSubscription(
    group: string,
    subscription: PushSubscriptionRequest,
    options: CallOptions = {},
  ): Promise<{ subscription: PushSubscriptionInfo; secret?: string }> {
    return this.transport.request(`/groups/${pathSegment(group)}/push-subscription`, { ...options, method: "PUT", body: subscription });
  }

  /** The group's push subscription and its progress per queue (lag, last delivery, last error, retry backlog). */
  getPushSubscription(group: string, options: CallOptions = {}): Promise<PushSubscriptionProgress> {
    return this.transport.request(`/groups/${pathSegment(group)}/push-subscription`, options);
  }

  async pausePushSubscription(group: string, options: CallOptions = {}): Promise<PushSubscriptionInfo> {
    return (
      await this.transport.request<{ subscription: PushSubscriptionInfo }>(`/groups/${pathSegment(group)}/push-subscription/pause`, {
        ...options,
        method: "POST",
      })
    ).subscription;
  }

  async resumePushSubscription(group: string, options: CallOptions = {}): Promise<PushSubscriptionInfo> {
    return (
      await this.transport.request<{ subscription: PushSubscriptionInfo }>(`/groups/${pathSegment(group)}/push-subscription/resume`, {
        ...options,
        method: "POST",
      })
    ).subscription;
  }

  async deletePushSubscription(group: string, options: CallOptions = {}): Promise<void> {
    await this.transport.request(`/groups/${pathSegment(group)}/push-subscription`, { ...options, method: "DELETE" });
  }

  /** Consumer groups that have had members. */
  async listGroups(options: CallOptions = {}): Promise<{ group: string; lastSeenAt: number }[]> {
    return (await this.transport.request<{ groups: { group: string; lastSeenAt: number }[] }>("/namesrv/groups", options)).groups;
  }

  /** Per queue min and max offset, last update time and storage (mqadmin topicStatus). */
  topicStatus(
    topic: string,
    options: CallOptions = {},
  ): Promise<{
    topic: string;
    queues: { messageQueue: MessageQueue; minOffset: number; maxOffset: number; lastUpdateTimestamp: number; storageBytes: number }[];
  }> {
    return this.transport.request(`/topics/${pathSegment(topic)}/status`, options);
  }

  /** Messages of a topic carrying `key`, optionally within a store-time range (queried in parallel). */
  async queryMessage(
    topic: string,
    key: string,
    range: { beginMs?: number; endMs?: number; maxNum?: number } = {},
    options: CallOptions = {},
  ): Promise<MessageExt[]> {
    const r = await this.transport.request<{ messages: MessageExtWire[] }>(`/topics/${pathSegment(topic)}/messages`, {
      ...options,
      query: { key, begin: range.beginMs, end: range.endMs, maxNum: range.maxNum },
    });
    return r.messages.map(fromWireMessage);
  }

  /** A message by its msgId (the client's unique key) within a topic. */
  async viewMessageById(topic: string, msgId: string, options: CallOptions = {}): Promise<MessageExt> {
    return fromWireMessage(await this.transport.request<MessageExtWire>(`/topics/${pathSegment(topic)}/messages/by-id/${pathSegment(msgId)}`, options));
  }

  /** Messages in the group's dead-letter queue. */
  async listDlq(group: string, range: { maxNum?: number } = {}, options: CallOptions = {}): Promise<MessageExt[]> {
    const r = await this.transport.request<{ messages: MessageExtWire[] }>(`/groups/${pathSegment(group)}/dlq`, {
      ...options,
      query: { maxNum: range.maxNum },
    });
    return r.messages.map(fromWireMessage);
  }

  /** Resends dead-lettered messages to their original topic (same msgId), all or by offsetMsgId. */
  resendDlq(group: string, which: { all?: boolean; offsetMsgIds?: string[] }, options: CallOptions = {}): Promise<{ resent: number }> {
    return this.transport.request(`/groups/${pathSegment(group)}/dlq/resend`, { ...options, method: "POST", body: which });
  }

  /** Deletes the group's dead-lettered messages on one broker below an offset. */
  deleteDlq(group: string, where: { brokerName: string; beforeOffset: number }, options: CallOptions = {}): Promise<{ deleted: number }> {
    return this.transport.request(`/groups/${pathSegment(group)}/dlq/delete`, { ...options, method: "POST", body: where });
  }

  /** Accounts managed through the API (never with secrets). */
  async listAccounts(options: CallOptions = {}): Promise<AccountInfo[]> {
    return (await this.transport.request<{ accounts: AccountInfo[] }>("/admin/accounts", options)).accounts;
  }

  /** Creates or replaces an account; the secret is turned into a signing key and never returned. */
  putAccount(account: AccountInfo & { secretKey: string }, options: CallOptions = {}): Promise<AccountInfo> {
    const { accessKey, ...body } = account;
    return this.transport.request<AccountInfo>(`/admin/accounts/${pathSegment(accessKey)}`, { ...options, method: "PUT", body });
  }

  async deleteAccount(accessKey: string, options: CallOptions = {}): Promise<void> {
    await this.transport.request(`/admin/accounts/${pathSegment(accessKey)}`, { ...options, method: "DELETE" });
  }

  /** A dashboard session for the signing account: a token, also set as an HttpOnly cookie in a browser. */
  createSession(options: CallOptions = {}): Promise<{ token: string; expiresAt: number }> {
    return this.transport.request("/auth/session", { ...options, method: "POST" });
  }

  /** The account this client signs in as (by signature or session cookie), and the session's expiry. */
  session(options: CallOptions = {}): Promise<{ accessKey: string; expiresAt: number | null }> {
    return this.transport.request("/auth/session", options);
  }

  /** Signs a browser out: it forgets its session cookie. */
  async deleteSession(options: CallOptions = {}): Promise<void> {
    await this.transport.request("/auth/session", { ...options, method: "DELETE" });
  }

  /** Adds a broker to the running deployment: it registers with every NameServer and takes new topics. */
  addBroker(brokerName: string, options: CallOptions = {}): Promise<LiveBrokerInfo> {
    return this.transport.request<LiveBrokerInfo>("/namesrv/brokers", { ...options, method: "POST", body: { brokerName } });
  }

  /** Removes a broker that holds no topics: it stops heartbeating and leaves every NameServer. */
  async removeBroker(brokerName: string, options: CallOptions = {}): Promise<void> {
    await this.transport.request(`/namesrv/brokers/${pathSegment(brokerName)}`, { ...options, method: "DELETE" });
  }

  /** Drains a broker (mqadmin wipeWritePerm): producers stop sending there, consumers finish reading it. */
  wipeWritePerm(brokerName: string, options: CallOptions = {}): Promise<{ broker: string; topics: string[] }> {
    return this.transport.request(`/namesrv/brokers/${pathSegment(brokerName)}/wipe-write-perm`, { ...options, method: "POST" });
  }

  /** Gives a drained broker its write permission back (mqadmin addWritePerm). */
  addWritePerm(brokerName: string, options: CallOptions = {}): Promise<{ broker: string; topics: string[] }> {
    return this.transport.request(`/namesrv/brokers/${pathSegment(brokerName)}/add-write-perm`, { ...options, method: "POST" });
  }
}
