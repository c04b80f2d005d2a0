/**
 * Who sent a request of the Alibaba Cloud HTTP door: the protocol's signature checked against
 * flaremq's own accounts. The AccessKeyId is a flaremq access key; the AccessKeySecret an SDK
 * signs with is the account's secret key (accounts of FLAREMQ_ACCOUNTS) or its signing key
 * (any account, including those managed through /admin/accounts, whose secret flaremq never
 * keeps). The Date header must be within 15 minutes of the server's clock, as the protocol
 * says. There is no nonce in this protocol, so a captured request can be replayed within that
 * window (as against the original service); native requests keep their replay guard.
 */
import type { Env } from "../../cluster/env.js";
import { timingSafeEqual } from "../../protocol/auth/signature.js";
import { md5Digest } from "../../protocol/md5.js";
import type { StoredAccount } from "../../durable-objects/accounts.js";
import { allAccounts, secretKeys } from "../auth/accounts.js";
import { AliyunError, AliyunMessages } from "./errors.js";
import { candidateResources, contentMd5Forms, parseAuthorization, signAliyun } from "./signature.js";

/** How far the Date header may be from the server's clock, either way (the protocol's 15 minutes). */
export const DATE_SKEW_MS = 15 * 60_000;

/** Signs for unknown access keys, so an unknown key costs the work of a known one. */
const NO_ACCOUNT_SECRET = "no-account-no-account-no-account";

const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])$/;

export interface AliyunRequest {
  method: string;
  url: URL;
  headers: Headers;
  body: Uint8Array;
}

/**
 * The account the request signs as; null when the deployment has no account and serves a
 * local run openly (ALLOW_UNAUTHENTICATED_LOCAL on a loopback address, as the native API does).
 * Throws AliyunError with the protocol's code otherwise.
 */
export async function authenticate(env: Env, req: AliyunRequest, now = Date.now()): Promise<StoredAccount | null> {
  const accounts = await allAccounts(env);
  if (accounts.size === 0) {
    if (env.ALLOW_UNAUTHENTICATED_LOCAL === "true" && LOOPBACK.test(req.url.hostname)) return null;
    throw new AliyunError("InternalError", "no account is configured: set FLAREMQ_ACCOUNTS with wrangler secret put");
  }
  const authorization = req.headers.get("authorization");
  if (authorization === null) throw new AliyunError("MissingAuthorizationHeader", "The Authorization header is required.");
  const parsed = parseAuthorization(authorization);
  if (!parsed) throw new AliyunError("InvalidAuthorizationHeader", 'The Authorization header must be "MQ <AccessKeyId>:<Signature>".');
  const date = req.headers.get("date");
  if (date === null) throw new AliyunError("MissingDateHeader", "The Date header is required.");
  const at = Date.parse(date);
  if (Number.isNaN(at)) throw new AliyunError("InvalidDateHeader", "The Date header is not an HTTP date.");
  if (Math.abs(now - at) > DATE_SKEW_MS) throw new AliyunError("TimeExpired", AliyunMessages.TimeExpired);
  const contentMd5 = req.headers.get("content-md5") ?? "";
  if (contentMd5 !== "" && !contentMd5Forms(md5Digest(req.body)).includes(contentMd5))
    throw new AliyunError("InvalidDigest", "The Content-MD5 you specified is not valid.");

  const account = accounts.get(parsed.accessKeyId);
  const secrets = account ? [(await secretKeys(env)).get(account.accessKey), account.signingKey].filter((s) => s !== undefined) : [NO_ACCOUNT_SECRET];
  let matched = false;
  for (const secret of secrets) {
    for (const resource of candidateResources(req.url.pathname + req.url.search)) {
      const expected = await signAliyun(secret, {
        method: req.method,
        contentMd5,
        contentType: req.headers.get("content-type") ?? "",
        date,
        headers: req.headers.entries(),
        resource,
      });
      if (timingSafeEqual(expected, parsed.signature)) matched = true;
    }
  }
  // The protocol names an unknown key (as the original service does); the work done is the same.
  if (!account) throw new AliyunError("InvalidAccessKeyId", "The access key id you provided does not exist.");
  if (!matched) throw new AliyunError("SignatureDoesNotMatch", AliyunMessages.SignatureDoesNotMatch);
  return account;
}
