/**
 * This member's side of the group's rebalance and its fencing (RocketMQ's RebalancePushImpl).
 * The group assigns queues on each heartbeat (server side); here each assignment is applied:
 * queues no longer assigned are let go, new ones start pulling.
 *
 * Fencing, so a queue has one reader across the group:
 * - pulls and commits carry the member's generation (and offset-reset sequence); the broker
 *   refuses those of a member that no longer owns the queue (NOT_QUEUE_OWNER): the pull loop
 *   drops the queue and the member heartbeats at once to learn its new queues;
 * - a queue being let go is still reported as held in heartbeats until its running listener
 *   calls finished (bounded by LET_GO_TIMEOUT_MS) and its offset is committed: the group hands
 *   it over only then, so nothing is redelivered;
 * - an admin offset reset (a new offsetResetSeq) restarts every queue from the broker's offsets.
 * BROADCASTING members read every queue of their topics and carry no fence.
 */
import type { HeartbeatResponse, MemberFence, MessageModel, Subscription } from "../../protocol/consumer.js";
import type { MessageQueue } from "../../protocol/message.js";
import type { GroupMember } from "../group-member.js";
import { queueKey } from "../offset-store.js";
import { readQueues, type RouteCache } from "../routes.js";
import { withTimeout } from "../timing.js";
import { QueueTask } from "./queue-task.js";

export interface PushRebalanceOptions {
  clientId: string;
  model: MessageModel;
  /** The consumer's subscriptions by topic, read live (subscribe() may change them). */
  subscriptions: ReadonlyMap<string, Subscription>;
  routes: RouteCache;
  /** The membership whose answers are applied here: its last answer fences, and it heartbeats on demand. */
  member: Pick<GroupMember, "current" | "beatSoon">;
  isRunning: () => boolean;
  /** Starts the pull loop of a new queue; settles when it ends. */
  pull: (task: QueueTask) => Promise<void>;
  /** Commits a queue's offset. */
  commit: (task: QueueTask) => Promise<void>;
}

/** How long letting go of a queue waits for its listener calls before committing what is done. */
const LET_GO_TIMEOUT_MS = 5000;

export class PushRebalance {
  private readonly tasks = new Map<string, QueueTask>();
  /** Queues being let go: still reported as held until their offset is committed. */
  private readonly letting = new Set<QueueTask>();
  private resetSeq: number | undefined;
  private applying: Promise<void> = Promise.resolve();
  /**
   * The latest assignment received and not yet applied. Heartbeats carry the generation of the
   * latest answer at once, while applying it may first wait for queues being let go; its new
   * queues are reported as held meanwhile, or the group would read "this generation, queue not
   * held", move the queue on at the next rebalance without a hand-over, and this member could
   * still start reading it and deliver what the next owner then delivers again.
   */
  private pending: HeartbeatResponse | undefined;

  constructor(private readonly o: PushRebalanceOptions) {}

  /** Queues this member is reading now. */
  get assignedQueues(): MessageQueue[] {
    return [...this.tasks.values()].map((t) => t.mq);
  }

  /** The queues being read now, for committing and shutdown. */
  get activeTasks(): QueueTask[] {
    return [...this.tasks.values()];
  }

  /**
   * What heartbeats report as held (CLUSTERING): the queues read now, those still being let go,
   * and those of an assignment received but not applied yet. Reporting a queue not started yet
   * only makes its hand-over wait for the next heartbeat; leaving it out could cost duplicates.
   */
  heldQueues(): MessageQueue[] {
    if (this.o.model !== "CLUSTERING") return [];
    const held = new Map<string, MessageQueue>();
    for (const mq of [...this.assignedQueues, ...[...this.letting].map((t) => t.mq), ...(this.pending?.assignment ?? [])]) held.set(queueKey(mq), mq);
    return [...held.values()];
  }

  /** The fence pulls and commits carry: this member's generation and offset-reset sequence (CLUSTERING). */
  fence(): MemberFence | undefined {
    const current = this.o.member.current;
    if (this.o.model !== "CLUSTERING" || !current) return undefined;
    return { clientId: this.o.clientId, generation: current.generation, offsetResetSeq: current.offsetResetSeq };
  }

  /** Applies a heartbeat's answer; answers apply one at a time, in the order they came. */
  onAssignment(response: HeartbeatResponse): Promise<void> {
    this.pending = response;
    this.applying = this.applying
      .then(() => this.apply(response))
      .catch(() => undefined)
      .finally(() => {
        if (this.pending === response) this.pending = undefined;
      });
    return this.applying;
  }

  /** Settles once every assignment received so far is applied. */
  settled(): Promise<void> {
    return this.applying;
  }

  /** The broker refused a pull of `task`: the group moved the queue. Stop reading it and learn the new assignment. */
  onNotOwner(task: QueueTask): void {
    this.tasks.delete(queueKey(task.mq));
    task.pq.dropped = true;
    void this.o.member.beatSoon();
  }

  /** Shutdown: stops every pull loop and waits for them; the queues stay listed so their offsets can be committed. */
  async stopPulling(): Promise<void> {
    const tasks = this.activeTasks;
    for (const t of tasks) t.abort.abort();
    await Promise.all(tasks.map((t) => t.pullDone));
  }

  /** Shutdown, once the offsets are committed: forget every queue. */
  clear(): void {
    this.tasks.clear();
  }

  private async apply(response: HeartbeatResponse): Promise<void> {
    if (!this.o.isRunning()) return;
    const target = this.o.model === "CLUSTERING" ? response.assignment : await this.broadcastQueues();
    if (this.resetSeq !== undefined && response.offsetResetSeq !== this.resetSeq) {
      // An admin reset the offsets: restart every queue from the broker's new offsets.
      for (const task of [...this.tasks.values()]) await this.stopTask(task, false);
    }
    this.resetSeq = response.offsetResetSeq;
    const wanted = new Map(target.map((mq) => [queueKey(mq), mq]));
    let released = false;
    for (const [key, task] of [...this.tasks]) {
      if (wanted.has(key)) continue;
      await this.stopTask(task, true);
      released = true;
    }
    for (const [key, mq] of wanted) {
      if (this.tasks.has(key)) continue;
      const subscription = this.o.subscriptions.get(mq.topic);
      if (subscription) this.startTask(mq, subscription);
    }
    // Tell the group at once which queues were let go, so their hand-over completes.
    if (released) setTimeout(() => void this.o.member.beatSoon(), 0);
  }

  private async broadcastQueues(): Promise<MessageQueue[]> {
    const out: MessageQueue[] = [];
    for (const s of this.o.subscriptions.values()) {
      try {
        out.push(...readQueues(s.topic, await this.o.routes.get(s.topic)));
      } catch {
        // a topic that does not exist yet has no queues to read
      }
    }
    return out;
  }

  private startTask(mq: MessageQueue, subscription: Subscription): void {
    const task = new QueueTask(mq, subscription);
    this.tasks.set(queueKey(mq), task);
    task.pullDone = this.o.pull(task);
  }

  /**
   * Stops reading a queue. With `commit`, lets the listener calls of this queue finish and
   * commits their offset first: the queue is still this member's at the broker until the
   * member's next heartbeat says it let go, so the commit lands and nothing is redelivered.
   */
  private async stopTask(task: QueueTask, commit: boolean): Promise<void> {
    this.tasks.delete(queueKey(task.mq));
    task.abort.abort();
    if (commit) {
      this.letting.add(task);
      try {
        // Bounded: a listener that hangs must not hold the queue (or this member) forever; past
        // the bound, what finished is committed and the rest is redelivered to the next owner.
        await withTimeout(
          (async () => {
            await task.pullDone;
            await task.orderlyDone;
            await task.listenersIdle();
          })(),
          LET_GO_TIMEOUT_MS,
          `letting go of ${queueKey(task.mq)}`,
        ).catch(() => undefined);
        task.pq.dropped = true;
        await this.o.commit(task);
      } finally {
        this.letting.delete(task);
      }
    } else {
      task.pq.dropped = true;
      await task.pullDone;
    }
  }
}
