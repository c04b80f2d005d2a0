/**
 * Where accounts come from: the FLAREMQ_ACCOUNTS Worker secret (JSON, with secret keys; set
 * with `wrangler secret put`) and the accounts object (managed through /admin/accounts).
 * Secrets from the Worker secret are turned into signing keys once per isolate.
 */
import { z } from "zod";
import { deriveSigningKey } from "../../protocol/auth/signature.js";
import type { StoredAccount } from "../../durable-objects/accounts.js";
import { PermSchema } from "../../protocol/schemas.js";
import type { Env } from "../../cluster/env.js";
import { accountsStub } from "../../cluster/stubs.js";

export const AccountInputSchema = z.strictObject({
  accessKey: z.string().regex(/^[A-Za-z0-9_-]{3,64}$/),
  secretKey: z.string().min(16).max(256),
  admin: z.boolean().optional(),
  topicPerms: z.record(z.string().max(300), PermSchema).optional(),
  groupPerms: z.record(z.string().max(300), PermSchema).optional(),
  defaultTopicPerm: PermSchema.optional(),
  defaultGroupPerm: PermSchema.optional(),
});
export type AccountInput = z.infer<typeof AccountInputSchema>;

export async function toStored(input: AccountInput): Promise<StoredAccount> {
  return {
    accessKey: input.accessKey,
    signingKey: await deriveSigningKey(input.secretKey),
    admin: input.admin ?? false,
    topicPerms: input.topicPerms ?? {},
    groupPerms: input.groupPerms ?? {},
    defaultTopicPerm: input.defaultTopicPerm ?? "DENY",
    defaultGroupPerm: input.defaultGroupPerm ?? "DENY",
  };
}

let fromSecret: { raw: string; accounts: Promise<Map<string, StoredAccount>>; secretKeys: Promise<Map<string, string>> } | undefined;

function readSecret(env: Env): NonNullable<typeof fromSecret> {
  const raw = env.FLAREMQ_ACCOUNTS ?? "";
  if (fromSecret?.raw !== raw) {
    const list = (async () => (raw.trim() === "" ? [] : z.array(AccountInputSchema).parse(JSON.parse(raw))))();
    fromSecret = {
      raw,
      accounts: list.then(async (l) => new Map((await Promise.all(l.map(toStored))).map((a) => [a.accessKey, a]))),
      secretKeys: list.then((l) => new Map(l.map((a) => [a.accessKey, a.secretKey]))),
    };
  }
  return fromSecret;
}

/** Accounts of the FLAREMQ_ACCOUNTS secret; a malformed secret fails loudly. */
export function secretAccounts(env: Env): Promise<Map<string, StoredAccount>> {
  return readSecret(env).accounts;
}

/**
 * The secret keys of the FLAREMQ_ACCOUNTS accounts, by access key. Only the Alibaba Cloud HTTP
 * door (workers/aliyun/) reads them: its SDKs sign with HMAC-SHA1 keyed by the secret itself,
 * which the stored signing key cannot check. Accounts managed through /admin/accounts keep no
 * secret, so those SDKs sign with the account's signing key instead (docs/aliyun-http.md).
 */
export function secretKeys(env: Env): Promise<Map<string, string>> {
  return readSecret(env).secretKeys;
}

const CACHE_MS = 5000;
let stored: { at: number; accounts: Map<string, StoredAccount> } | undefined;

let merged: { managed: Map<string, StoredAccount>; secret: Map<string, StoredAccount>; all: Map<string, StoredAccount> } | undefined;

/**
 * Every account (the secret's win over managed ones of the same key), cached briefly per
 * isolate. This runs on every request, so the merged map is built only when a source changed.
 */
export async function allAccounts(env: Env): Promise<Map<string, StoredAccount>> {
  const now = Date.now();
  if (!stored || now - stored.at > CACHE_MS) {
    const managed = await accountsStub(env).list();
    stored = { at: now, accounts: new Map(managed.map((a) => [a.accessKey, a])) };
  }
  const secret = await secretAccounts(env);
  if (merged?.managed !== stored.accounts || merged.secret !== secret) {
    merged = { managed: stored.accounts, secret, all: new Map([...stored.accounts, ...secret]) };
  }
  return merged.all;
}

/** Forget the cached managed accounts (after a change made through this isolate). */
export function invalidateAccounts(): void {
  stored = undefined;
}
