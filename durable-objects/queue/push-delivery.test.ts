/**
 * Push delivery on the queue object (push-delivery.ts over the object's own log and SQLite):
 * what a round costs in rows, whatever its size (one state row, one offset commit), that a
 * round that moves nothing writes nothing, retries on an injected clock, and that a caught-up
 * subscription has no due time (so the alarm is not armed for it).
 */
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { pushConfigFrom, type PushBatch } from "../../protocol/push-subscription.js";
import { msg, newQueue, rowCountingSql } from "../test-support.js";
import type { CommitLog } from "./commit-log.js";
import { PushDelivery } from "./push-delivery.js";

describe("push delivery on a queue", () => {
  it("writes one state row and one offset per round, whatever the batch size", async () => {
    const { q, mq } = newQueue("PUSHD");
    await q.append(
      Array.from({ length: 100 }, (_, i) => msg(i)),
      { mq },
    );
    await runInDurableObject(q, async (instance, state) => {
      // Counts rows written by every statement the piece runs.
      const { sql: counting, counter } = rowCountingSql(state.storage.sql);
      let clock = 1_000_000;
      const committed = new Map<string, number>();
      let commits = 0;
      const batches: PushBatch[] = [];
      // The consumer asks a retry of the first 10 messages of a first delivery.
      const consumer = {
        fetch: async (request: Request) => {
          const batch = await request.json<PushBatch>();
          batches.push(batch);
          return Response.json({ retry: batch.messages.filter((m) => m.reconsumeTimes === 0 && m.queueOffset < 10).map((m) => m.msgId) });
        },
      };
      const push = new PushDelivery({
        sql: counting,
        log: (instance as unknown as { log: CommitLog }).log,
        committed: (g) => committed.get(g) ?? null,
        commit: (g, o) => {
          commits++;
          committed.set(g, o);
        },
        usesPop: () => false,
        queue: () => mq,
        target: () => ({ bindings: { CONSUMER: consumer }, bindingAllowed: () => true, allowLoopbackHttp: false, now: () => clock }),
        delayLevelsMs: () => [1000, 5000, 10_000, 30_000],
        rearm: () => Promise.resolve(),
        deadLetter: () => Promise.reject(new Error("nothing should be dead-lettered")),
        now: () => clock,
      });
      push.set(pushConfigFrom("G", { topic: mq.topic, target: { type: "service", binding: "CONSUMER" }, maxBatchSize: 100, maxBatchTimeoutMs: 0 }, 1));
      expect(committed.get("G")).toBe(0); // a new subscription starts at the first message held
      counter.written = 0;
      commits = 0;

      expect(push.nextDueAt()).toBe(clock);
      await push.runDue(clock);
      expect(batches.map((b) => b.messages.length)).toEqual([100]);
      expect([counter.written, commits, committed.get("G")]).toEqual([1, 1, 100]);
      expect(push.status("G")).toMatchObject({ retryBacklog: 10, nextRetryAt: clock + 10_000, delivered: 90 });

      // Nothing is due before the ladder's first delay (level 3: 10 s); a run then writes nothing.
      counter.written = 0;
      expect(push.nextDueAt()).toBe(clock + 10_000);
      await push.runDue(clock + 9_999);
      expect([batches.length, counter.written]).toEqual([1, 0]);

      clock += 10_000;
      await push.runDue(clock);
      expect(batches[1]!.messages.map((m) => [m.queueOffset, m.reconsumeTimes])).toEqual(Array.from({ length: 10 }, (_, i) => [i, 1]));
      expect([counter.written, commits]).toEqual([1, 1]); // the state row; the offset did not move
      expect(push.status("G")).toMatchObject({ retryBacklog: 0, delivered: 100, deadLettered: 0 });
      // Caught up: no due time, so the queue's alarm is not armed for this subscription.
      expect(push.nextDueAt()).toBeNull();
    });
  });
});
