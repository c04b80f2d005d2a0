/**
 * Calls a push subscription's target with one batch and classifies the answer (push-plan.ts's
 * BatchOutcome): a Worker through a service binding (fetch or RPC) or a signed HTTPS webhook.
 *
 * Every call is bounded by the subscription's timeoutMs: a target that hangs is abandoned (its
 * batch counts as failed) and a target that throws is a failed batch, so neither stops the
 * queue's alarm nor the other subscriptions' deliveries. Only the service bindings the operator
 * allows (PUSH_SERVICE_BINDINGS) are ever called, never another binding of the environment
 * (QUEUE, ACCOUNTS, ...); a webhook URL is checked again at each call and redirects are not
 * followed, so a redirect cannot lead the server somewhere the URL check would refuse.
 */
import type { PushAnswer, PushBatch, PushSubscriptionConfig } from "../../protocol/push-subscription.js";
import { PushAnswerSchema } from "../../protocol/push-subscription.js";
import { signPushRequest } from "../../protocol/push-signature.js";
import { webhookUrlProblem } from "../../protocol/push-target-url.js";
import type { BatchOutcome } from "./push-plan.js";

export interface TargetEnvironment {
  /** The environment's bindings, where service bindings are looked up by name. */
  bindings: Record<string, unknown>;
  /** Whether the group may deliver through this service binding (PUSH_SERVICE_BINDINGS). */
  bindingAllowed: (binding: string, group: string) => boolean;
  allowLoopbackHttp: boolean;
  now: () => number;
}

/** Longest answer body read from a target (its `{ retry: [...] }` for 100 msgIds is far smaller). */
const MAX_ANSWER_BYTES = 64 * 1024;
const encoder = new TextEncoder();

interface ServiceBinding {
  fetch(request: Request): Promise<Response>;
  deliver?: (batch: PushBatch) => Promise<unknown>;
}

/** Sends one batch and says how it went; never throws. */
export async function callTarget(config: PushSubscriptionConfig, batch: PushBatch, env: TargetEnvironment): Promise<BatchOutcome> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<BatchOutcome>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve({ kind: "failed", error: `the target did not answer within ${config.timeoutMs} ms` });
    }, config.timeoutMs);
  });
  try {
    return await Promise.race([attempt(config, batch, env, controller.signal), timedOut]);
  } catch (e) {
    return { kind: "failed", error: `the target failed: ${e instanceof Error ? e.message : String(e)}`.slice(0, 500) };
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

async function attempt(config: PushSubscriptionConfig, batch: PushBatch, env: TargetEnvironment, signal: AbortSignal): Promise<BatchOutcome> {
  const target = config.target;
  if (target.type === "service") {
    if (!env.bindingAllowed(target.binding, config.group))
      return { kind: "failed", error: `service binding ${target.binding} is not in PUSH_SERVICE_BINDINGS` };
    const binding = env.bindings[target.binding] as ServiceBinding | undefined;
    if (!binding || typeof binding.fetch !== "function") return { kind: "failed", error: `no service binding ${target.binding} in this Worker's environment` };
    if (target.call === "rpc") {
      const answer = await binding.deliver!(batch);
      return answeredWith(answer ?? {});
    }
    const request = new Request("https://push.flaremq.invalid/deliver", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(batch),
      signal,
    });
    return fromResponse(await binding.fetch(request));
  }
  const problem = webhookUrlProblem(target.url, { allowLoopbackHttp: env.allowLoopbackHttp });
  if (problem) return { kind: "failed", error: problem };
  if (!config.secret) return { kind: "failed", error: "the webhook has no signing secret" };
  const body = encoder.encode(JSON.stringify(batch));
  const headers = { "content-type": "application/json", "user-agent": "flaremq-push", ...(await signPushRequest(config.secret, body, env.now())) };
  const response = await fetch(target.url, { method: "POST", headers, body, redirect: "manual", signal });
  return fromResponse(response);
}

async function fromResponse(response: Response): Promise<BatchOutcome> {
  const status = response.status;
  if (status === 429 || status === 503) {
    await response.body?.cancel();
    return { kind: "throttled", error: `the target answered ${status}`, retryAfterMs: retryAfterMs(response.headers.get("retry-after")) };
  }
  if (status < 200 || status > 299) {
    await response.body?.cancel();
    return { kind: "failed", error: `the target answered ${status}` };
  }
  const text = await readCapped(response);
  if (text.trim() === "") return answeredWith({});
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return answeredWith({}); // a 2xx with a body that is not ours: every message succeeded
  }
  return answeredWith(parsed);
}

function answeredWith(answer: unknown): BatchOutcome {
  const parsed = PushAnswerSchema.safeParse(answer);
  if (!parsed.success) return { kind: "failed", error: 'the target answered something other than { "retry": [msgId, ...] }' };
  const body: PushAnswer = parsed.data;
  return { kind: "answered", retry: new Set(body.retry ?? []) };
}

async function readCapped(response: Response): Promise<string> {
  if (!response.body) return "";
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.length;
    if (size > MAX_ANSWER_BYTES) {
      await reader.cancel();
      break;
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(concat(chunks));
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Retry-After in seconds or as an HTTP date, in ms from now; null when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (!header) return null;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
