/**
 * Replay protection that holds across isolates and restarts: the nonce of every signed request
 * is claimed at the replay guard object of its access key (durable-objects/replay-guard.ts),
 * one RPC per signed request and no row per request. The claim comes after the signature is
 * verified, so nobody without the key's secret can fill its memory or burn its nonces.
 */
import type { Context } from "hono";
import { MQError } from "../../protocol/errors.js";
import { AHEAD_MS, CEILING_STEP_MS } from "../../durable-objects/replay-guard/policy.js";
import type { ReplayVerdict } from "../../durable-objects/replay-guard/window.js";
import type { AppEnv } from "../shared/app-env.js";
import { replayGuardStub } from "../../cluster/stubs.js";

/** A request refused as stale, signed again this much later, is after the floor for any client clock not behind the others. */
const STALE_RETRY_AFTER_S = Math.ceil((CEILING_STEP_MS + AHEAD_MS) / 1000);

/** Resolves when the nonce is fresh for this key; throws REQUEST_REPLAYED or REQUEST_STALE. */
export async function claimNonce(c: Context<AppEnv>, accessKey: string, nonce: string, date: number): Promise<void> {
  let verdict: ReplayVerdict;
  try {
    verdict = await replayGuardStub(c.env, accessKey).claim(nonce, date);
  } catch (e) {
    // Fail closed: without the guard's answer the request may be a replay.
    throw new MQError("SERVICE_UNAVAILABLE", "replay protection did not answer; sign the request again and retry", { cause: e });
  }
  if (verdict === "replayed") throw new MQError("REQUEST_REPLAYED", "this signed request was already used");
  if (verdict === "stale") {
    c.header("retry-after", String(STALE_RETRY_AFTER_S));
    throw new MQError(
      "REQUEST_STALE",
      "x-mq-date is not after the newest request of this access key accepted before the server's replay memory was reset; sign the request again",
    );
  }
}
