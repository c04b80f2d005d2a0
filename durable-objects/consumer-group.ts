/**
 * ConsumerGroup: one object per consumer group. Members heartbeat here; a member silent for
 * its session timeout is dropped, one that shuts down leaves at once. Every membership or
 * subscription change bumps the generation and recomputes the assignment with the group's
 * strategy (pure functions shared with the client); before a member hears of its queues,
 * each queue object is told its new owner, so a stale member is refused there (fencing) and
 * a queue is read by at most one member of the group.
 *
 * Members watch the generation through long polls the Worker holds (cluster/long-polls.ts), each
 * parked here as a hibernatable socket (shared/wake-sockets.ts) that a new generation wakes.
 *
 * Members, the generation and the owner each queue was told are kept in SQLite (written only
 * when they change): after a restart a member that heartbeats again with the same client id is
 * the member it was, keeps its queues and is not fenced against itself.
 *
 * Beside it in consumer-group/: the assignment (assignment.ts), the hand-over of queues that
 * move (hand-over.ts), telling queue objects their owners (owner-telling.ts), what is stored
 * (group-store.ts), one strategy per group (strategy.ts) and CONFIG's queues (configured-queues.ts).
 */
import { DurableObject } from "cloudflare:workers";
import type { AllocateStrategyName } from "../protocol/allocate.js";
import type { GroupInfo, HeartbeatRequest, HeartbeatResponse, MemberInfo } from "../protocol/consumer.js";
import { retryTopic } from "../protocol/consumer.js";
import { toRpcError } from "../cluster/rpc-errors.js";
import { Limits } from "../protocol/limits.js";
import type { MessageQueue } from "../protocol/message.js";
import type { TopicConfig } from "../protocol/route.js";
import type { Env } from "../cluster/env.js";
import { allocateTopics, isExpired, memberShape, queueKey, readQueuesOf, restoredAssignment, sameAssignment } from "./consumer-group/assignment.js";
import { upsertTopic } from "../cluster/topic-registry.js";
import { readNameServer, writeNameServers } from "../cluster/nameservers.js";
import { closeParked, WakeSockets } from "./shared/wake-sockets.js";
import { illegalConfiguredQueue } from "./consumer-group/configured-queues.js";
import { GroupStore, storedMember } from "./consumer-group/group-store.js";
import { heldShape, holdBackReleasing, RELEASE_TIMEOUT_MS } from "./consumer-group/hand-over.js";
import { OwnerTelling } from "./consumer-group/owner-telling.js";
import { PushSubscriptionStore } from "./consumer-group/push-subscription.js";
import type { PushSubscriptionConfig, PushSubscriptionRequest } from "../protocol/push-subscription.js";
import { DEFAULT_STRATEGY, groupStrategy, strategyConflict } from "./consumer-group/strategy.js";
import { trackActivity } from "./shared/activity.js";

interface Member extends HeartbeatRequest {
  lastHeartbeatAt: number;
  /** What the member's description weighs (its stored JSON plus the held queues kept), for Limits.maxGroupBytes. */
  bytes: number;
}

/** Routes are re-read this often, so new queues of a topic join the assignment. */
const ROUTE_REFRESH_MS = 10_000;
/** Topics a group's progress remembers at most (each a row, written once). */
const MAX_GROUP_TOPICS = 1000;

export class ConsumerGroupDO extends DurableObject<Env> {
  private readonly members = new Map<string, Member>();
  private generation = 0;
  private offsetResetSeq = 0;
  /** The group consumes by POP (claimPop): push and pull members are refused. */
  private pop = false;
  /**
   * Every topic the group consumed (subscriptions, POP receives), for its progress once no live
   * member names them. Written once per topic.
   */
  private readonly topics = new Set<string>();
  private strategy: AllocateStrategyName = DEFAULT_STRATEGY;
  private assignment = new Map<string, MessageQueue[]>();
  /** The owner this object last told each queue, and telling them (fencing). */
  private readonly owners: OwnerTelling;
  private routesReadAt = 0;
  private routeSignature = "";
  private groupName = "";
  /** Queues being handed over: the old owner still reads them until it lets go (or times out). */
  private readonly releasing = new Map<string, { from: string; since: number }>();
  /** Members watching the generation (the Worker holds their long polls), woken when it moves. */
  private readonly watchers: WakeSockets;
  private readonly store: GroupStore;
  /** Each member as last stored (JSON), so an unchanged heartbeat writes nothing. */
  private readonly stored = new Map<string, string>();
  /** The group's push subscription, if any (consumer-group/push-subscription.ts). */
  private readonly push: PushSubscriptionStore;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.watchers = new WakeSockets(ctx, { holder: "this group", waiters: "parked watches" });
    this.store = new GroupStore(ctx.storage.sql);
    this.push = new PushSubscriptionStore(ctx.storage.sql);
    this.owners = new OwnerTelling(env, this.store, () => this.groupName);
    void ctx.blockConcurrencyWhile(async () => {
      const state = this.store.load();
      this.groupName = state.name;
      this.generation = state.generation;
      this.offsetResetSeq = state.offsetResetSeq;
      this.pop = state.pop;
      for (const t of state.topics) this.topics.add(t);
      // Members come back as last heard when the group was last alive: one that heartbeat just
      // before a restart keeps its session, one gone for longer than it is dropped at once.
      const heardAt = state.aliveAt > 0 ? state.aliveAt : Date.now();
      for (const m of state.members) {
        const record = JSON.stringify(m);
        this.members.set(m.clientId, { ...m, lastHeartbeatAt: heardAt, bytes: record.length });
        this.stored.set(m.clientId, record);
      }
      this.strategy = groupStrategy(this.members.values());
      this.owners.restore(state.owners, state.wasTelling);
      // The assignment the members were given: the queues each owns.
      this.assignment = restoredAssignment(state.owners, this.members);
      if (this.members.size > 0) await this.armAlarm();
    });
  }

  async heartbeat(group: string, req: HeartbeatRequest): Promise<HeartbeatResponse> {
    this.nameGroup(group);
    if (this.pop) {
      throw toRpcError(
        "CONSUME_MODE_MISMATCH",
        `group "${group}" consumes by POP (SimpleConsumer receive/ack); a push or pull member cannot join it (delete the group to change how it consumes)`,
      );
    }
    if (req.sessionTimeoutMs < Limits.minSessionTimeoutMs || req.sessionTimeoutMs > Limits.maxSessionTimeoutMs) {
      throw toRpcError("SESSION_TIMEOUT_ILLEGAL", `sessionTimeoutMs must be within ${Limits.minSessionTimeoutMs}..${Limits.maxSessionTimeoutMs}`);
    }
    if (req.heartbeatIntervalMs >= req.sessionTimeoutMs) {
      throw toRpcError("SESSION_TIMEOUT_ILLEGAL", "heartbeatIntervalMs must be shorter than sessionTimeoutMs");
    }
    if (this.push.get()) {
      throw toRpcError("CONSUME_MODE_MISMATCH", `group "${group}" has a push subscription: the server delivers its messages, clients cannot consume it`);
    }
    const record = JSON.stringify(storedMember(req));
    if (req.configuredQueues && this.stored.get(req.clientId) !== record) await this.checkConfiguredQueues(req);
    // Refusals come before any change: a refused heartbeat leaves the group as it was.
    const now = Date.now();
    const others = [...this.members.values()].filter((m) => m.clientId !== req.clientId && !isExpired(m, now));
    const conflict = strategyConflict(others, req);
    if (conflict) {
      throw toRpcError(
        "ALLOCATE_STRATEGY_CONFLICT",
        `group "${group}" allocates queues with ${conflict}, the strategy its other members name; this member names ` +
          `${req.allocateStrategy}: every member of a group must use the same allocation strategy`,
      );
    }
    if (!this.members.has(req.clientId) && others.length >= Limits.maxGroupMembers) {
      throw toRpcError("TOO_MANY_MEMBERS", `group "${group}" already has ${Limits.maxGroupMembers} members`);
    }
    const held = this.keptHeldQueues(req);
    const member: Member = {
      ...req,
      ...(held === undefined ? {} : { heldQueues: held }),
      lastHeartbeatAt: now,
      bytes: record.length + (held === undefined ? 0 : JSON.stringify(held).length),
    };
    const total = others.reduce((sum, m) => sum + m.bytes, member.bytes);
    if (total > Limits.maxGroupBytes) {
      throw toRpcError(
        "GROUP_TOO_LARGE",
        `group "${group}" would hold ${total} bytes of member descriptions (subscriptions, configured queues, held queues), ` +
          `more than its limit of ${Limits.maxGroupBytes}: describe this member with less, or use another group`,
      );
    }
    let changed = this.expire(now);
    const before = this.members.get(req.clientId);
    if (!before || memberShape(before) !== memberShape(req)) changed = true;
    // A member that let go of a queue being handed over lets the hand-over finish now.
    const releasedSomething = before !== undefined && this.releasing.size > 0 && heldShape(before) !== heldShape(member);
    this.members.set(req.clientId, member);
    if (this.stored.get(req.clientId) !== record) {
      this.store.saveMember(storedMember(req));
      for (const sub of req.subscriptions) this.rememberTopic(sub.topic);
      this.stored.set(req.clientId, record);
    }
    this.store.touch(now);
    if (!before) {
      // Best effort: the registry only lists groups; a missed entry is written at the next join.
      await writeNameServers(this.env, (ns) => ns.registerGroup(group, now)).catch(() => undefined);
      if (req.messageModel === "CLUSTERING") await this.ensureRetryTopic(group);
    }
    await this.rebalance(changed, now, releasedSomething);
    await this.armAlarm();
    return {
      generation: this.generation,
      assignment: req.messageModel === "CLUSTERING" ? (this.assignment.get(req.clientId) ?? []) : [],
      offsetResetSeq: this.offsetResetSeq,
      members: this.members.size,
      sessionTimeoutMs: req.sessionTimeoutMs,
    };
  }

  /**
   * Marks the group as one that consumes by POP, once (one row); refused while push or pull
   * members are alive. The Worker calls it before a group's receives (cached per isolate), so a
   * group is either POP or offset-based everywhere, not queue by queue.
   */
  claimPop(group: string, topic: string): void {
    this.nameGroup(group);
    if (this.push.get()) {
      throw toRpcError("CONSUME_MODE_MISMATCH", `group "${group}" is consumed by its push subscription; it cannot receive by POP`);
    }
    if (!this.pop) {
      const now = Date.now();
      const live = [...this.members.values()].filter((m) => !isExpired(m, now)).length;
      if (live > 0) {
        throw toRpcError("CONSUME_MODE_MISMATCH", `group "${group}" has ${live} live push or pull member(s) consuming by offsets; it cannot receive by POP`);
      }
      this.pop = true;
      this.store.saveMeta("pop", 1);
    }
    this.rememberTopic(topic);
  }

  /** An operator deleted the group: it may consume either way again. */
  forgetConsumeMode(): void {
    if (!this.pop) return;
    this.pop = false;
    this.store.saveMeta("pop", 0);
  }

  /** A member that shuts down leaves at once; its queues move to the others. */
  async leave(group: string, clientId: string): Promise<boolean> {
    this.nameGroup(group);
    const had = this.members.delete(clientId);
    if (had) {
      this.forget(clientId);
      await this.rebalance(true, Date.now());
    }
    return had;
  }

  /** Starts an offset reset: members learn the new sequence on their next heartbeat. */
  bumpOffsetResetSeq(): number {
    this.offsetResetSeq++;
    this.store.saveMeta("offset_reset_seq", this.offsetResetSeq);
    return this.offsetResetSeq;
  }

  info(group: string): GroupInfo {
    const members: MemberInfo[] = [...this.members.values()].map((m) => ({
      clientId: m.clientId,
      messageModel: m.messageModel,
      subscriptions: m.subscriptions,
      zone: m.zone ?? null,
      lastHeartbeatAt: m.lastHeartbeatAt,
      sessionTimeoutMs: m.sessionTimeoutMs,
      assignment: this.assignment.get(m.clientId) ?? [],
    }));
    return {
      group,
      generation: this.generation,
      allocateStrategy: this.strategy,
      offsetResetSeq: this.offsetResetSeq,
      consumeMode: this.pop ? "POP" : "OFFSETS",
      members,
    };
  }

  /** The generation now (members learn of a rebalance through watches: cluster/long-polls.ts). */
  currentGeneration(): number {
    return this.generation;
  }

  /** A member's watch parks here (cluster/wake-wait.ts), told "wake" at once if the generation passed the one it knows. */
  override fetch(request: Request): Response {
    // NaN (no generation named) compares false: stale.
    return this.watchers.accept(request, (seen) => !(this.generation <= Number((seen as { generation?: unknown } | null)?.generation)));
  }

  /** The Worker let a parked watch go (its time ran out, or its client left). */
  override webSocketClose(ws: WebSocket, code: number): void {
    closeParked(ws, code);
  }

  /** Topics the group's members subscribe to or did, its POP receives named, and its push subscription's (for progress views). */
  subscribedTopics(): string[] {
    const push = this.push.get();
    const named = [...this.members.values()].flatMap((m) => m.subscriptions.map((s) => s.topic));
    return [...new Set(named.concat([...this.topics], push ? [push.topic] : []))].sort();
  }

  /** Lists `topic` among the group's topics (one row, the first time; bounded by MAX_GROUP_TOPICS). */
  private rememberTopic(topic: string): void {
    if (this.topics.has(topic) || this.topics.size >= MAX_GROUP_TOPICS) return;
    this.topics.add(topic);
    this.store.saveTopic(topic);
  }

  /** An operator deleted the group: its topics are forgotten with it. */
  forgetTopics(): void {
    this.topics.clear();
    this.store.clearTopics();
  }

  /** The group's push subscription (with its secret: for the Worker only, never answered as is). */
  pushSubscription(): PushSubscriptionConfig | null {
    return this.push.get();
  }

  /** Creates or replaces the push subscription; refused while clients consume the group. */
  putPushSubscription(
    group: string,
    req: PushSubscriptionRequest,
  ): { config: PushSubscriptionConfig; previous: PushSubscriptionConfig | null; secret?: string } {
    this.nameGroup(group);
    if (this.pop) {
      throw toRpcError("CONSUME_MODE_MISMATCH", `group "${group}" consumes by POP (SimpleConsumer receive/ack); it cannot also have a push subscription`);
    }
    const now = Date.now();
    const live = [...this.members.values()].filter((m) => !isExpired(m, now)).length;
    return this.push.put(group, req, live);
  }

  setPushPaused(group: string, paused: boolean): PushSubscriptionConfig {
    return this.push.setPaused(group, paused);
  }

  deletePushSubscription(): PushSubscriptionConfig | null {
    return this.push.delete();
  }

  override async alarm(): Promise<void> {
    const now = Date.now();
    const expired = this.expire(now);
    const overdue = [...this.releasing.values()].some((r) => now - r.since >= RELEASE_TIMEOUT_MS);
    if (expired || overdue) await this.rebalance(expired, now, true);
    await this.armAlarm();
  }

  /** Drops members whose session timed out; true when any was dropped. */
  private expire(now: number): boolean {
    let dropped = false;
    for (const [id, m] of this.members) {
      if (isExpired(m, now)) {
        this.members.delete(id);
        this.forget(id);
        dropped = true;
      }
    }
    return dropped;
  }

  /** The object learns its group's name from its callers (one object per name) and keeps it. */
  private nameGroup(group: string): void {
    if (group === this.groupName) return;
    this.groupName = group;
    this.store.saveName(group);
  }

  private forget(clientId: string): void {
    this.store.deleteMember(clientId);
    this.stored.delete(clientId);
  }

  /**
   * Refuses configured queues (CONFIG strategy) that are not readable queues of a topic the
   * member subscribes to: the group would otherwise tell queue objects that do not exist
   * about an owner. Checked when they change, not on every heartbeat.
   */
  private async checkConfiguredQueues(req: HeartbeatRequest): Promise<void> {
    const configured = req.configuredQueues ?? [];
    const subscribed = new Set(req.subscriptions.map((s) => s.topic));
    const topics = [...new Set(configured.map((q) => q.topic))].filter((t) => subscribed.has(t));
    const readable = new Map<string, MessageQueue[]>();
    await Promise.all(topics.map(async (t) => readable.set(t, readQueuesOf(t, await readNameServer(this.env, (ns) => ns.getTopic(t))))));
    const why = illegalConfiguredQueue(configured, readable);
    if (why) throw toRpcError("CONFIGURED_QUEUE_ILLEGAL", why);
  }

  /**
   * The held queues a heartbeat reports that hand-over looks at (see holds()): the queues this
   * object last told are the member's (its own and those moving away from it) and those its
   * latest assignment gives it (a heartbeat may carry that generation while the queues are still
   * being told). Nothing else is ever read, so nothing else is kept, each queue once: a
   * heartbeat may name 16,384 queues and the object holds every member's in memory.
   */
  private keptHeldQueues(req: HeartbeatRequest): MessageQueue[] | undefined {
    if (req.heldQueues === undefined) return undefined;
    const assigned = new Set((this.assignment.get(req.clientId) ?? []).map(queueKey));
    const kept = new Map<string, MessageQueue>();
    for (const q of req.heldQueues) {
      const key = queueKey(q);
      if (this.owners.get(key) === req.clientId || assigned.has(key)) kept.set(key, q);
    }
    return [...kept.values()];
  }

  private async armAlarm(): Promise<void> {
    let next = Number.POSITIVE_INFINITY;
    for (const m of this.members.values()) next = Math.min(next, m.lastHeartbeatAt + m.sessionTimeoutMs + 1);
    for (const r of this.releasing.values()) next = Math.min(next, r.since + RELEASE_TIMEOUT_MS);
    if (next === Number.POSITIVE_INFINITY) return;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > next || current < Date.now()) await this.ctx.storage.setAlarm(next);
  }

  /**
   * Recomputes the assignment when membership changed or the routes did; bumps the
   * generation when anyone's queues change and tells each queue its new owner.
   */
  private async rebalance(membershipChanged: boolean, now: number, force = false): Promise<void> {
    // The strategy follows the members (they agree on it): it changes only as they come and go.
    const strategy = groupStrategy(this.members.values());
    if (strategy !== this.strategy) {
      this.strategy = strategy;
      membershipChanged = true;
    }
    if (!membershipChanged && !force && now - this.routesReadAt < ROUTE_REFRESH_MS) return;
    const clustering = [...this.members.values()].filter((m) => m.messageModel === "CLUSTERING");
    const topics = [...new Set(clustering.flatMap((m) => m.subscriptions.map((s) => s.topic)))].sort();
    const routes = new Map<string, TopicConfig | null>();
    await Promise.all(topics.map(async (t) => routes.set(t, await readNameServer(this.env, (ns) => ns.getTopic(t)))));
    this.routesReadAt = now;
    const signature = topics.map((t) => `${t}:${JSON.stringify(routes.get(t)?.queues ?? null)}`).join("|");
    if (!membershipChanged && !force && signature === this.routeSignature && this.owners.untold.size === 0) return;
    this.routeSignature = signature;

    const { assignment: next, owners } = allocateTopics(this.strategy, clustering, topics, routes);
    // Queues this object handed out before and no member holds now become ownerless.
    for (const key of this.owners.keys()) if (!owners.has(key)) owners.set(key, null);
    // So do those a failed setOwner may have reached (see OwnerTelling.untold).
    for (const key of this.owners.untold) if (!owners.has(key)) owners.set(key, null);

    // Hand-over (hand-over.ts): a queue moving away from a live member that still reads it stays
    // that member's until it lets go, or RELEASE_TIMEOUT_MS passes.
    const stillReleasing = holdBackReleasing(owners, next, this.owners, this.members, this.releasing, this.generation, now);
    this.releasing.clear();
    for (const [key, r] of stillReleasing) this.releasing.set(key, r);

    const changedQueues = [...owners].filter(([key, cid]) => (this.owners.get(key) ?? null) !== cid);
    // Owners the queue may not know (see OwnerTelling.untold) are told again at the current
    // generation, which is at least any the queue was told: a queue that took a newer owner just
    // before a crash goes back to agreeing with this object. (Telling an owner again is left to
    // these cases: it moves the queue's fence to this generation, which a member that has not
    // heard of it yet would be refused at.)
    const retold = [...owners].filter(([key, cid]) => this.owners.untold.has(key) && (this.owners.get(key) ?? null) === cid);
    const assignmentChanged = changedQueues.length > 0 || membershipChanged || !sameAssignment(this.assignment, next);
    if (assignmentChanged) {
      this.generation++;
      this.store.saveMeta("generation", this.generation);
    }
    this.assignment = next; // when unchanged: the same queues, in the order the strategy lists them
    const tell = [...changedQueues, ...retold];
    if (tell.length > 0) await this.tellOwners(tell, this.generation);
    if (assignmentChanged) this.watchers.wake();
  }

  /** Tells each queue its owner (owner-telling.ts). */
  private async tellOwners(tell: [string, string | null][], generation: number): Promise<void> {
    await this.owners.tell(tell, generation);
  }

  private async ensureRetryTopic(group: string): Promise<void> {
    // RocketMQ creates %RETRY%<group> on heartbeat: one queue per broker (retryQueueNums = 1).
    await upsertTopic(this.env, retryTopic(group), { queueNums: 1 }, "createIfAbsent");
  }
}

// Calls in progress and time awake (shared/activity.ts), but for the constructor's helper.
trackActivity(ConsumerGroupDO, ["armAlarm"]);
