/**
 * Push subscriptions declared in wrangler.toml (the PUSH_SUBSCRIPTIONS var), applied by the
 * Worker once per isolate, in the background of its first request, idempotently: a group
 * whose stored subscription already says the same is not written again, so every isolate of a
 * deployment may apply the list and only the first change costs a write. A subscription paused
 * through the API stays paused unless the var says `"paused"`. Service targets only: a webhook
 * needs its signing secret shown to someone, so it is created through the API or the CLI.
 *
 *   PUSH_SUBSCRIPTIONS = '[{"group":"orders-push","topic":"Orders","target":{"type":"service","binding":"ORDERS_CONSUMER"},"maxBatchSize":50}]'
 */
import { z } from "zod";
import { GroupNameSchema } from "../../protocol/schemas.js";
import { pushConfigFrom, PushSubscriptionRequestSchema, type PushSubscriptionConfig, type PushSubscriptionRequest } from "../../protocol/push-subscription.js";
import type { Env } from "../../cluster/env.js";
import { callRpc } from "../../cluster/rpc-errors.js";
import { consumerGroupStub } from "../../cluster/stubs.js";
import { applyToQueues, checkTarget } from "./push-routes.js";

const DeclaredSchema = z.array(PushSubscriptionRequestSchema.extend({ group: GroupNameSchema }));
export type DeclaredPushSubscription = PushSubscriptionRequest & { group: string };

/** One application per declaration text per isolate (a changed var is a new deployment, a new text). */
const applied = new Map<string, Promise<void>>();
/** Declarations that failed (a topic not created yet, say) are tried again by a request this much later. */
const RETRY_MS = 30_000;

/** Parses PUSH_SUBSCRIPTIONS; a bad value is an error naming what is wrong (the operator's to fix). */
export function parseDeclared(text: string | undefined): DeclaredPushSubscription[] {
  if (!text || text.trim() === "") return [];
  const parsed = DeclaredSchema.safeParse(JSON.parse(text));
  if (!parsed.success) throw new Error(`PUSH_SUBSCRIPTIONS is invalid: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  for (const d of parsed.data) {
    if (d.target.type !== "service")
      throw new Error(`PUSH_SUBSCRIPTIONS: group "${d.group}" names a webhook; create webhooks through the API (their secret is shown once)`);
  }
  return parsed.data;
}

/** Whether the stored subscription already is what the declaration says (paused left to operators unless declared). */
export function sameAsDeclared(stored: PushSubscriptionConfig | null, declared: DeclaredPushSubscription): boolean {
  if (!stored) return false;
  const { group, ...req } = declared;
  const want = pushConfigFrom(group, { ...req, paused: req.paused ?? stored.paused }, stored.version);
  const { secret: _secret, ...have } = stored;
  return JSON.stringify(sortKeys(want)) === JSON.stringify(sortKeys(have));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([k, v]) => [k, sortKeys(v)]),
    );
  }
  return value;
}

/** Applies PUSH_SUBSCRIPTIONS once per isolate; a declaration that failed is logged and tried again RETRY_MS later. */
export function applyDeclaredPushSubscriptions(env: Env): Promise<void> {
  const text = env.PUSH_SUBSCRIPTIONS ?? "";
  const done = applied.get(text);
  if (done) return done;
  let failed = false;
  const run = (async () => {
    let declared: DeclaredPushSubscription[];
    try {
      declared = parseDeclared(env.PUSH_SUBSCRIPTIONS);
    } catch (e) {
      console.error(String(e));
      return;
    }
    await Promise.all(
      declared.map(async (d) => {
        try {
          const stub = consumerGroupStub(env, d.group);
          const stored = await callRpc(() => stub.pushSubscription());
          if (sameAsDeclared(stored, d)) return;
          checkTarget(env, d.group, d.target);
          const { group, ...req } = d;
          const { config } = await callRpc(() => stub.putPushSubscription(group, { ...req, paused: req.paused ?? stored?.paused ?? false }));
          await applyToQueues(env, config);
        } catch (e) {
          failed = true;
          console.error(`PUSH_SUBSCRIPTIONS: group "${d.group}" was not applied: ${e instanceof Error ? e.message : String(e)}`);
        }
      }),
    );
    if (failed) setTimeout(() => applied.delete(text), RETRY_MS);
  })();
  applied.set(text, run);
  return run;
}
