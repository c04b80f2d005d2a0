/**
 * A consumer group consumes either by offsets (push and pull members) or by POP (SimpleConsumer
 * receive/ack), never both: the consumer-group object records the choice (claimPop) and refuses
 * the other kind. Receives ask it once per group per isolate and remember the answer for a
 * while, so a busy receiver does not add a call to every receive; a group deleted meanwhile is
 * forgotten here at once on this isolate and within CLAIM_CACHE_MS on others.
 */
import type { Env } from "../../cluster/env.js";
import { callRpc } from "../../cluster/rpc-errors.js";
import { consumerGroupStub } from "../../cluster/stubs.js";

const CLAIM_CACHE_MS = 60_000;
/** Group and topic pairs this isolate saw claimed for POP, and until when that is trusted. */
const claimed = new Map<string, number>();

/** Claims `group` for POP and lists `topic` among the topics its progress shows. */
export async function claimPopGroup(env: Env, group: string, topic: string, now = Date.now()): Promise<void> {
  const key = `${group}\n${topic}`;
  const until = claimed.get(key);
  if (until !== undefined && until > now) return;
  await callRpc(() => consumerGroupStub(env, group).claimPop(group, topic));
  if (claimed.size > 10_000) claimed.clear(); // bounded: a claim is cheap to ask again
  claimed.set(key, now + CLAIM_CACHE_MS);
}

/** The group was deleted: it may consume either way again. */
export async function forgetPopGroup(env: Env, group: string): Promise<void> {
  for (const key of claimed.keys()) if (key.startsWith(`${group}\n`)) claimed.delete(key);
  await callRpc(() => consumerGroupStub(env, group).forgetConsumeMode());
}
