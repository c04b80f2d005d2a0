/**
 * Permissions on resources a request names in its body rather than its path (the producer
 * group of a transactional send or a decision). The middleware checks path parameters before
 * the body is read; the handler calls this once the body is validated, with the requirement
 * its operation declares in the operation table (`bodyAuth`).
 */
import type { Context } from "hono";
import { accessDenied, missingRight } from "../../protocol/auth/permissions.js";
import type { AppEnv } from "../shared/app-env.js";

/**
 * Refuses with ACCESS_DENIED when the account may not act on a resource the body names.
 * `fields` maps body fields to their values; a field the body leaves out needs nothing.
 * With no account configured (an open server) there is nothing to check.
 */
export function authorizeBody(c: Context<AppEnv>, fields: Record<string, string | undefined>): void {
  const account = c.get("account");
  if (!account) return;
  const op = c.get("operation");
  const requirement = op?.bodyAuth;
  // A handler that names body resources its operation does not declare is a programming error.
  if (!requirement || (requirement.kind !== "topic" && requirement.kind !== "group"))
    throw new Error(`operation ${op?.method ?? "?"} ${op?.path ?? "?"} declares no body permission`);
  const name = fields[requirement.param];
  if (name === undefined) return;
  const missing = missingRight(account, requirement, { [requirement.param]: name });
  if (missing !== undefined) throw accessDenied(account.accessKey, missing);
}
