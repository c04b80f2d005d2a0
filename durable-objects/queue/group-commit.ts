/**
 * Group commit of a queue's appends. While one write waits to become durable, new appends
 * queue up and the next flush stores all of them in one log row, so N concurrent sends cost one
 * row write, not N, and rows written per message fall as load rises. A send is answered only
 * once its write is durable (and, on a SYNC_MASTER, once a slave holds it).
 *
 * A producer's retry of a recent send (same msgId and reconsumeTimes) gets the first send's
 * result back instead of a second copy (see recent-ids.ts).
 */
import { decodeRpcError, toRpcError } from "../../cluster/rpc-errors.js";
import type { ErrorCode } from "../../protocol/errors.js";
import { Limits } from "../../protocol/limits.js";
import { storedSize } from "../../protocol/log-codec.js";
import type { SendStatus, StoredMessage } from "../../protocol/message.js";
import type { CommitLog } from "./commit-log.js";
import { RecentIds } from "./recent-ids.js";

export interface AppendResult {
  queueOffset: number;
  storeTimestamp: number;
  /** SYNC_MASTER only, when no slave stored it in time: FLUSH_SLAVE_TIMEOUT or SLAVE_NOT_AVAILABLE. */
  sendStatus?: SendStatus;
}

/** One message of `appendEach`: where it was stored, or why not. */
export type AppendEachResult = ({ ok: true } & AppendResult) | { ok: false; code: ErrorCode; message: string };

/**
 * A group commit stops growing at this many stored bytes (bodies, keys and properties), so a
 * row, and the replication push that carries it, stays a bounded size whoever sends what.
 */
export const GROUP_COMMIT_MAX_BYTES = Limits.maxBatchBodyBytes;

export interface GroupCommitDeps {
  log: CommitLog;
  /** Resolves once every write so far is durable (the object's storage sync). */
  sync(): Promise<void>;
  now(): number;
  /** Runs once a group is durable, before its senders hear: arms retention, wakes parked pulls. */
  stored(): Promise<void>;
  /**
   * Answers a durable group's senders as the broker role says: at once, or once a slave holds
   * the group. May resolve before they are answered, so the next group is written meanwhile.
   */
  confirm(answer: (status: SendStatus) => void): Promise<void>;
}

interface PendingAppend {
  messages: StoredMessage[];
  resolve: (r: AppendResult) => void;
  reject: (e: unknown) => void;
  /** Stored in a row of its own: it was in a group whose append failed. */
  alone?: boolean;
}

export class GroupCommit {
  private pending: PendingAppend[] = [];
  private flushing = false;
  private readonly recent = new RecentIds<AppendResult>();

  constructor(private readonly deps: GroupCommitDeps) {}

  /**
   * Stores `messages` with consecutive offsets, all or nothing; resolves once durable. With
   * `dedupe` (producer sends; an admin resend repeats a msgId on purpose), a retry carrying
   * the msgId of a recent append gets that append's result back.
   */
  append(messages: StoredMessage[], dedupe: boolean): Promise<AppendResult> {
    const result = this.enqueue(messages, dedupe);
    if (!this.flushing) void this.flush();
    return result;
  }

  /**
   * Stores each message on its own (independent messages of one multi-queue send): each is
   * deduplicated, stored or refused by itself, yet all of them join the same group, so they
   * cost one row, not one each. Enqueued before the flush starts, which takes them together.
   */
  async appendEach(messages: readonly StoredMessage[], dedupe: boolean): Promise<AppendEachResult[]> {
    const results = messages.map((m) => this.enqueue([m], dedupe));
    if (!this.flushing) void this.flush();
    return (await Promise.allSettled(results)).map((s): AppendEachResult => {
      if (s.status === "fulfilled") return { ok: true, ...s.value };
      const coded = decodeRpcError(s.reason);
      return { ok: false, code: coded?.code ?? "SERVICE_UNAVAILABLE", message: coded?.message ?? "store failed" };
    });
  }

  private enqueue(messages: StoredMessage[], dedupe: boolean): Promise<AppendResult> {
    const seen = dedupe && messages[0] ? this.recent.get(recentKey(messages[0])) : undefined;
    if (seen) return Promise.resolve(seen);
    return new Promise<AppendResult>((resolve, reject) => {
      // An empty run would store a zero-count row at maxOffset, whose key the next append
      // then collides with, failing every later append of this queue.
      if (messages.length === 0) {
        reject(toRpcError("MESSAGE_ILLEGAL", "an append needs at least one message"));
        return;
      }
      this.pending.push({ messages, resolve, reject });
    });
  }

  /** Forgets recent results (the log they point into was purged). */
  forget(): void {
    this.recent.clear();
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        const group = takeGroup(this.pending);
        const results: AppendResult[] = [];
        const fail = (e: unknown) => {
          for (const p of group) p.reject(e instanceof Error ? e : toRpcError("SERVICE_UNAVAILABLE", "store failed"));
        };
        let stored: { baseOffset: number; storeTimestamp: number };
        try {
          // One row for the whole group; each caller learns where its run starts.
          stored = this.deps.log.append(
            group.flatMap((p) => p.messages),
            this.deps.now(),
          );
        } catch (e) {
          // The append stored nothing. One send that cannot be stored must not fail the sends
          // grouped with it: each goes again in a row of its own.
          if (group.length > 1) this.pending.unshift(...group.map((p) => ({ ...p, alone: true })));
          else fail(e);
          continue;
        }
        let offset = stored.baseOffset;
        for (const p of group) {
          results.push({ queueOffset: offset, storeTimestamp: stored.storeTimestamp });
          offset += p.messages.length;
        }
        try {
          // Answer only once durable; appends arriving meanwhile form the next group.
          await this.deps.sync();
        } catch (e) {
          fail(e);
          continue;
        }
        // Consumers may read it now; the sender hears once the broker role is satisfied. The
        // group is durable whatever `stored` does: a failure there (arming an alarm, waking
        // parked pulls) must not leave its senders without an answer.
        try {
          await this.deps.stored();
        } catch (e) {
          console.error(`after storing offsets ${stored.baseOffset}..${offset - 1}: ${String(e)}`);
        }
        await this.deps.confirm((status) =>
          group.forEach((p, i) => {
            const result: AppendResult = status === "SEND_OK" ? results[i]! : { ...results[i]!, sendStatus: status };
            const first = p.messages[0];
            if (first) this.recent.set(recentKey(first), result);
            p.resolve(result);
          }),
        );
      }
    } finally {
      this.flushing = false;
    }
  }
}

/** The next group: appends in arrival order up to the byte cap; one marked `alone` goes by itself. */
function takeGroup(pending: PendingAppend[]): PendingAppend[] {
  if (pending[0]?.alone) return pending.splice(0, 1);
  let bytes = 0;
  let n = 0;
  while (n < pending.length) {
    const next = pending[n]!;
    if (n > 0 && next.alone) break;
    const size = next.messages.reduce((s, m) => s + storedSize(m), 0);
    if (n > 0 && bytes + size > GROUP_COMMIT_MAX_BYTES) break;
    bytes += size;
    n++;
  }
  return pending.splice(0, n);
}

/** A retry of the same delivery attempt shares msgId and reconsumeTimes; a redelivery does not. */
function recentKey(m: StoredMessage): string {
  return `${m.msgId}#${m.reconsumeTimes}`;
}
