/**
 * What the local server logs (issue 18): with request logging on, one line per request with
 * method, path, status, milliseconds and the request id the client saw; with it off (the
 * default), nothing for answered requests but every 5xx, with its request id, at error level.
 */
import { describe, expect } from "vitest";
import { it } from "../fixture.js";
import type { ServerLogLine } from "../../scripts/server.js";
import { waitFor } from "../helpers.js";

/** The request-log lines among `lines`, with the milliseconds masked. */
function requestLines(lines: ServerLogLine[]): string[] {
  return lines.filter((l) => / req=/.test(l.message)).map((l) => `${l.level}: ${l.message.replace(/ \d+ms /, " <n>ms ")}`);
}

const ACCOUNTS = JSON.stringify([{ accessKey: "log-admin", secretKey: "log-secret-0123456789", admin: true }]);

describe("server logs", () => {
  it("--log requests: one line per request, with method, path, status, ms and request id", async ({ launchServer }) => {
    const lines: ServerLogLine[] = [];
    const server = await launchServer({ logRequests: true, onLog: (l) => lines.push(l), vars: { FLAREMQ_ACCOUNTS: ACCOUNTS } });
    expect((await fetch(`${server.url}/healthz`, { headers: { "x-request-id": "r-1" } })).status).toBe(200);
    expect((await fetch(`${server.url}/namesrv/topics?x=1`, { headers: { "x-request-id": "r-2" } })).status).toBe(401);
    await waitFor("two request lines", () => requestLines(lines).length >= 2 || undefined);
    expect(requestLines(lines)).toEqual(["log: GET /healthz 200 <n>ms req=r-1", "log: GET /namesrv/topics 401 <n>ms req=r-2"]);
  });

  it("by default logs no request, but every 5xx with its request id", async ({ launchServer }) => {
    const lines: ServerLogLine[] = [];
    // No account and no local exemption: every non-public endpoint answers 503 AUTH_NOT_CONFIGURED.
    const server = await launchServer({ onLog: (l) => lines.push(l), vars: { ALLOW_UNAUTHENTICATED_LOCAL: "false" } });
    expect((await fetch(`${server.url}/healthz`, { headers: { "x-request-id": "d-1" } })).status).toBe(200);
    const refused = await fetch(`${server.url}/namesrv/topics`, { headers: { "x-request-id": "d-2" } });
    expect(refused.status).toBe(503);
    await waitFor("the 5xx line", () => requestLines(lines).length >= 1 || undefined);
    expect(requestLines(lines)).toEqual(["error: GET /namesrv/topics 503 <n>ms req=d-2"]);
  });
});
