/** Shared helpers for end-to-end tests: a real server on a free port with its own storage. */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startServer, type RunningServer } from "../scripts/server.js";
import { isMQError } from "../protocol/errors.js";
import type { Credentials } from "../client/credentials.js";

export interface TestServer extends RunningServer {
  stateDir: string;
  /**
   * What a client of this server signs with: null (explicitly unsigned) for a server without
   * accounts. Tests pass it to every client, so no test picks up a dev key from the machine's
   * home folder (~/.flaremq/dev-credentials.json, written by any local `npm start`).
   */
  credentials: Credentials | null;
  /** Stops the server and deletes its storage. */
  destroy(): Promise<void>;
}

export async function startTestServer(
  options: { stateDir?: string; vars?: Record<string, string>; credentials?: Credentials } = {},
): Promise<TestServer> {
  const stateDir = options.stateDir ?? (await mkdtemp(path.join(os.tmpdir(), "flaremq-test-")));
  const server = await startServer({ port: 0, stateDir, skipBuild: true, ...(options.vars ? { vars: options.vars } : {}) });
  return {
    ...server,
    stateDir,
    credentials: options.credentials ?? null,
    destroy: async () => {
      await server.stop();
      await rm(stateDir, { recursive: true, force: true });
    },
  };
}

let counter = 0;
/** A topic or group name unique to this test run. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${++counter}`;
}

/** Raw HTTP call that returns status and parsed JSON, for asserting error codes. */
export async function http(
  url: string,
  init: { method?: string; body?: unknown; rawBody?: string } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const requestInit: RequestInit = { method: init.method ?? "GET" };
  if (init.rawBody !== undefined) requestInit.body = init.rawBody;
  else if (init.body !== undefined) requestInit.body = JSON.stringify(init.body);
  if (requestInit.body !== undefined) requestInit.headers = { "content-type": "application/json" };
  const res = await fetch(url, requestInit);
  const text = await res.text();
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { unparsable: text };
  }
  return { status: res.status, body };
}

/** The MQError code a call fails with, or "NO_ERROR"; anything else is rethrown. */
export async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isMQError(e)) return e.code;
    throw e;
  }
  return "NO_ERROR";
}
