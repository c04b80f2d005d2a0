/**
 * Shared helpers for end-to-end tests: a real server on a free port with its own storage,
 * unique names, raw HTTP, error codes, and waiting on a condition instead of sleeping.
 * The per-file server, admin and producer come from the vitest fixture in test/fixture.ts.
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { startServer, type RunningServer, type ServerLogLine } from "../scripts/server.js";
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
  /** Stops the server (once: later calls wait for the same stop) and keeps its storage. */
  stop(): Promise<void>;
  /** Stops the server and deletes its storage. */
  destroy(): Promise<void>;
}

export interface TestServerOptions {
  /** Storage of an earlier server, to start it again on the same data; default a new temp folder. */
  stateDir?: string;
  /** Overrides of wrangler.toml [vars]. */
  vars?: Record<string, string>;
  /** What clients of this server sign with; default null (unsigned: a server without accounts). */
  credentials?: Credentials;
  /** A log line per request (`npm start -- --log requests`); default off. */
  logRequests?: boolean;
  /** Receives the Worker's log lines; default printed to the console. */
  onLog?: (line: ServerLogLine) => void;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const stateDir = options.stateDir ?? (await mkdtemp(path.join(os.tmpdir(), "flaremq-test-")));
  const server = await startServer({
    port: 0,
    stateDir,
    skipBuild: true,
    ...(options.vars ? { vars: options.vars } : {}),
    ...(options.logRequests !== undefined ? { logRequests: options.logRequests } : {}),
    ...(options.onLog ? { onLog: options.onLog } : {}),
  });
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopped ??= server.stop());
  return {
    ...server,
    stateDir,
    credentials: options.credentials ?? null,
    stop,
    destroy: async () => {
      await stop();
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

/** How often waitFor asks again. */
const POLL_INTERVAL_MS = 50;

/**
 * Asks `probe` every 50 ms until it answers something other than false or undefined, and
 * returns that answer; fails with "timed out waiting for <what>" after `timeoutMs`. The one way
 * these tests wait for the server or a client to get somewhere: never a fixed sleep.
 */
export async function waitFor<T>(what: string, probe: () => T | false | undefined | Promise<T | false | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_INTERVAL_MS));
  }
}

/**
 * The one kind of fixed wait these tests keep: after what should happen has happened, a short
 * time in which what must NOT happen (a duplicate, a redelivery, an extra delivery) would show
 * up if the code were wrong. Nothing to wait for exists there; say at the call what is watched.
 */
export function quietPeriod(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Waits until this machine's clock reads later than `ms` (a millisecond or two), so a time
 * taken before stands strictly before every store time the server gives afterwards: what a
 * test that searches or resets offsets by time needs between its "before" and "after" messages.
 */
export async function clockPast(ms: number): Promise<void> {
  await waitFor(`the clock to pass ${ms}`, () => Date.now() > ms);
}
