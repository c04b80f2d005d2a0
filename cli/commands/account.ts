/** `account list|create|delete`: accounts managed through the API (RocketMQ's updateAclConfig). */
import { UsageError, type FlagSpecs } from "../args.js";
import type { Noun } from "../command.js";
import { table } from "../output.js";
import type { Perm } from "../../protocol/auth/permissions.js";

const PERMS: ReadonlySet<string> = new Set(["DENY", "PUB", "SUB", "PUB|SUB"]);
const accessKeyFlag = { "access-key": { kind: "string", value: "AK", required: true, help: "access key" } } satisfies FlagSpecs;

function perms(values: string[], flag: string): Record<string, Perm> {
  const out: Record<string, Perm> = {};
  for (const v of values) {
    const at = v.lastIndexOf("=");
    const perm = v.slice(at + 1);
    if (at <= 0 || !PERMS.has(perm)) throw new UsageError(`--${flag} takes name=PERM with PERM one of DENY, PUB, SUB, PUB|SUB`);
    out[v.slice(0, at)] = perm as Perm;
  }
  return out;
}

function perm(value: string | undefined, flag: string): Perm | undefined {
  if (value === undefined) return undefined;
  if (!PERMS.has(value)) throw new UsageError(`--${flag} must be one of DENY, PUB, SUB, PUB|SUB`);
  return value as Perm;
}

export const account: Noun = {
  summary: "accounts and their permissions (secrets go in, never come out)",
  verbs: {
    list: {
      summary: "list accounts managed through the API",
      flags: {},
      async run(ctx) {
        const accounts = await ctx.admin.listAccounts();
        return {
          data: accounts,
          text: table(
            ["ACCESS_KEY", "ADMIN", "TOPICS", "GROUPS", "DEFAULT_TOPIC", "DEFAULT_GROUP"],
            accounts.map((a) => [
              a.accessKey,
              a.admin ? "yes" : "no",
              Object.entries(a.topicPerms)
                .map(([k, v]) => `${k}=${v}`)
                .join(" "),
              Object.entries(a.groupPerms)
                .map(([k, v]) => `${k}=${v}`)
                .join(" "),
              a.defaultTopicPerm,
              a.defaultGroupPerm,
            ]),
          ),
        };
      },
    },
    create: {
      summary: "create or replace an account",
      flags: {
        ...accessKeyFlag,
        "secret-key": { kind: "string", value: "SK", required: true, help: "secret key (at least 16 characters)" },
        admin: { kind: "bool", help: "an admin account (everything allowed)" },
        topic: { kind: "multi", value: "T=PERM", help: "per-topic permission, repeatable" },
        group: { kind: "multi", value: "G=PERM", help: "per-group permission, repeatable" },
        "default-topic": { kind: "string", value: "PERM", help: "for topics not listed (default DENY)" },
        "default-group": { kind: "string", value: "PERM", help: "for groups not listed (default DENY)" },
      },
      async run(ctx, flags) {
        const created = await ctx.admin.putAccount({
          accessKey: flags.requiredString("access-key"),
          secretKey: flags.requiredString("secret-key"),
          admin: flags.bool("admin"),
          topicPerms: perms(flags.list("topic"), "topic"),
          groupPerms: perms(flags.list("group"), "group"),
          defaultTopicPerm: perm(flags.string("default-topic"), "default-topic") ?? "DENY",
          defaultGroupPerm: perm(flags.string("default-group"), "default-group") ?? "DENY",
        });
        return { data: created, text: `account ${created.accessKey} saved` };
      },
    },
    delete: {
      summary: "delete an account",
      flags: accessKeyFlag,
      async run(ctx, flags) {
        const accessKey = flags.requiredString("access-key");
        await ctx.admin.deleteAccount(accessKey);
        return { data: { deleted: accessKey }, text: `account ${accessKey} deleted` };
      },
    },
  },
};
