import type { Env } from "../../cluster/env.js";
import type { StoredAccount } from "../../durable-objects/accounts.js";
import type { Operation } from "../openapi/operations.js";

/** Hono generics shared by every route module. */
export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    account?: StoredAccount;
    /** The dashboard session the request was signed in by (cookie or Bearer token), if any. */
    session?: { accessKey: string; expiresAt: number };
    /** The operation of the operation table this request matched (set by the auth middleware). */
    operation?: Operation;
  };
}
