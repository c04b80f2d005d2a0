/**
 * Accounts and permissions, as RocketMQ's ACL (plain_acl.yml): an account is an admin or a
 * normal account with per-topic and per-group permissions (PUB, SUB, PUB|SUB, DENY) and
 * defaults for topics and groups not listed.
 */
import { MQError } from "../errors.js";

export type Perm = "DENY" | "PUB" | "SUB" | "PUB|SUB";

export interface AccountPolicy {
  accessKey: string;
  admin: boolean;
  topicPerms: Record<string, Perm>;
  groupPerms: Record<string, Perm>;
  defaultTopicPerm: Perm;
  defaultGroupPerm: Perm;
}

/**
 * What an operation needs. `any`: any valid account (route reads and the like). On a group,
 * SUB is the consumer group's right and PUB the producer group's (sending half messages,
 * deciding them, answering their checks).
 */
export type Requirement =
  | { kind: "public" }
  | { kind: "any" }
  | { kind: "admin" }
  | { kind: "topic"; param: string; action: "PUB" | "SUB" }
  | { kind: "group"; param: string; action: "PUB" | "SUB" }
  /** Every one of these: an operation naming a topic and a group needs the right on both. */
  | { kind: "all"; of: readonly Requirement[] };

function allows(perm: Perm, action: "PUB" | "SUB"): boolean {
  return perm === "PUB|SUB" || perm === action;
}

/** True when `account` may perform an operation with this requirement on these path params. */
export function authorize(account: AccountPolicy, requirement: Requirement, params: Record<string, string>): boolean {
  if (requirement.kind === "public" || requirement.kind === "any") return true;
  if (requirement.kind === "all") return requirement.of.every((r) => authorize(account, r, params));
  if (account.admin) return true;
  if (requirement.kind === "admin") return false;
  const name = params[requirement.param] ?? "";
  if (requirement.kind === "topic") {
    // A retry or DLQ topic belongs to its group: reading it is a group permission.
    const group = /^%(?:RETRY|DLQ)%(.+)$/.exec(name)?.[1];
    if (group !== undefined) return allows(account.groupPerms[group] ?? account.defaultGroupPerm, "SUB");
    return allows(account.topicPerms[name] ?? account.defaultTopicPerm, requirement.action);
  }
  return allows(account.groupPerms[name] ?? account.defaultGroupPerm, requirement.action);
}

/**
 * The first right `account` lacks for an operation with this requirement on these names, in
 * words (`PUB on topic "T"`, `admin rights`); undefined when it holds them all. A refusal names
 * this, so the operator knows which permission to grant on which resource.
 */
export function missingRight(account: AccountPolicy, requirement: Requirement, params: Record<string, string>): string | undefined {
  if (requirement.kind === "all") return requirement.of.map((r) => missingRight(account, r, params)).find((m) => m !== undefined);
  if (authorize(account, requirement, params)) return undefined;
  if (requirement.kind === "admin" || requirement.kind === "public" || requirement.kind === "any") return "admin rights";
  const name = params[requirement.param] ?? "";
  if (requirement.kind === "topic") {
    const group = /^%(?:RETRY|DLQ)%(.+)$/.exec(name)?.[1];
    if (group !== undefined) return `SUB on group "${group}" (the group of topic "${name}")`;
  }
  return `${requirement.action} on ${requirement.kind} "${name}"`;
}

/** ACCESS_DENIED naming the right the account lacks (see `missingRight`). */
export function accessDenied(accessKey: string, missing: string): MQError {
  return new MQError("ACCESS_DENIED", `account "${accessKey}" lacks ${missing}`);
}
