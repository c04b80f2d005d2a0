/**
 * Who calls through a service binding, and what it may do. A binding carries no signature: the
 * caller's wrangler.toml names a flaremq account in the binding's `props`, which only someone
 * who deploys Workers to the Cloudflare account can set (and who could deploy flaremq itself),
 * so the name is trusted as the binding's identity. What it may do is that account's rights,
 * checked against the operation table's requirements exactly as the HTTP routes check them
 * (workers/auth/middleware.ts for the path, body-permission.ts for names in the body).
 */
import { accessDenied, missingRight } from "../../protocol/auth/permissions.js";
import { MQError } from "../../protocol/errors.js";
import type { Env } from "../../cluster/env.js";
import type { StoredAccount } from "../../durable-objects/accounts.js";
import { allAccounts } from "../auth/accounts.js";
import { operations, type Operation } from "../openapi/operations.js";

/** The account a binding's props name; UNAUTHENTICATED when they name none or one that does not exist. */
export async function bindingAccount(env: Env, props: unknown): Promise<StoredAccount> {
  const name = typeof props === "object" && props !== null ? (props as { account?: unknown }).account : undefined;
  if (typeof name !== "string" || name === "") {
    throw new MQError(
      "UNAUTHENTICATED",
      'this service binding names no flaremq account: give the binding props = { account = "<access key>" } in the calling Worker\'s wrangler.toml',
    );
  }
  const account = (await allAccounts(env)).get(name);
  if (!account) throw new MQError("UNAUTHENTICATED", `the service binding's account "${name}" is not a flaremq account`);
  return account;
}

/** The operation of the HTTP API a call does the work of; a missing one is a programming error. */
export function operationOf(method: Operation["method"], path: string): Operation {
  const op = operations.find((o) => o.method === method && o.path === path);
  if (!op) throw new Error(`no operation ${method} ${path}`);
  return op;
}

/**
 * Refuses with ACCESS_DENIED unless the account may do `op` on the names given: its path
 * requirement (`auth`), and its body requirement (`bodyAuth`) when `params` has the body's name.
 */
export function requireRights(account: StoredAccount, op: Operation, params: Record<string, string>): void {
  const body = op.bodyAuth && "param" in op.bodyAuth ? op.bodyAuth : undefined;
  const requirements = body && params[body.param] !== undefined ? [op.auth, body] : [op.auth];
  for (const r of requirements) {
    const missing = missingRight(account, r, params);
    if (missing !== undefined) throw accessDenied(account.accessKey, missing);
  }
}
