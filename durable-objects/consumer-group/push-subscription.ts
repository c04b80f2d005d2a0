/**
 * A consumer group's push subscription as its group object keeps it: the authoritative copy of
 * the settings (with the webhook's secret), from which the Worker tells the topic's queue
 * objects (durable-objects/queue/push-delivery.ts), each keeping the newest version it was told.
 *
 * A group is consumed either by the server (a push subscription) or by clients (push, pull or
 * POP consumers): a subscription is refused while the group has live members, and a member's
 * heartbeat is refused while the group has a subscription, both with CONSUME_MODE_MISMATCH.
 */
import { toRpcError } from "../../cluster/rpc-errors.js";
import { newPushSecret } from "../../protocol/push-signature.js";
import { pushConfigFrom, type PushSubscriptionConfig, type PushSubscriptionRequest } from "../../protocol/push-subscription.js";

export class PushSubscriptionStore {
  private cached: PushSubscriptionConfig | null | undefined;

  constructor(private readonly sql: SqlStorage) {}

  get(): PushSubscriptionConfig | null {
    if (this.cached === undefined) {
      const row = this.sql.exec<{ config: string }>("SELECT config FROM push_subscription WHERE id = 0").toArray()[0];
      this.cached = row ? (JSON.parse(row.config) as PushSubscriptionConfig) : null;
    }
    return this.cached;
  }

  /**
   * Creates or replaces the subscription. A webhook keeps its secret across changes; one newly
   * a webhook gets a new secret, answered here once (`secret`) and never again.
   */
  put(
    group: string,
    req: PushSubscriptionRequest,
    liveMembers: number,
  ): { config: PushSubscriptionConfig; previous: PushSubscriptionConfig | null; secret?: string } {
    if (liveMembers > 0) {
      throw toRpcError(
        "CONSUME_MODE_MISMATCH",
        `group "${group}" has ${liveMembers} live consumer(s); a group consumed by clients cannot also have a push subscription`,
      );
    }
    const previous = this.get();
    // Retries waiting under one ordering mean nothing under the other (concurrent ones sit below
    // the cursor, orderly ones at it): a change of mode is a new subscription.
    if (previous && previous.orderly !== (req.orderly === true)) {
      throw toRpcError(
        "VALIDATION_FAILED",
        `the push subscription of group "${group}" is ${previous.orderly ? "" : "not "}orderly; delete it and create it again to change that`,
      );
    }
    const keep = previous?.target.type === "webhook" ? previous.secret : undefined;
    const fresh = req.target.type === "webhook" && keep === undefined ? newPushSecret() : undefined;
    const secret = req.target.type === "webhook" ? (keep ?? fresh) : undefined;
    const config = pushConfigFrom(group, req, (previous?.version ?? 0) + 1, secret);
    this.save(config);
    return fresh === undefined ? { config, previous } : { config, previous, secret: fresh };
  }

  setPaused(group: string, paused: boolean): PushSubscriptionConfig {
    const current = this.get();
    if (!current) throw toRpcError("PUSH_SUBSCRIPTION_NOT_FOUND", `group "${group}" has no push subscription`);
    const config = { ...current, paused, version: current.version + 1 };
    this.save(config);
    return config;
  }

  delete(): PushSubscriptionConfig | null {
    const previous = this.get();
    if (previous) this.sql.exec("DELETE FROM push_subscription WHERE id = 0");
    this.cached = null;
    return previous;
  }

  private save(config: PushSubscriptionConfig): void {
    this.sql.exec("INSERT OR REPLACE INTO push_subscription (id, config) VALUES (0, ?)", JSON.stringify(config));
    this.cached = config;
  }
}
