/**
 * `npm start`: serves flaremq on 127.0.0.1 with storage that survives restarts.
 * Flags: --port <n> (or PORT), --state-dir <dir> (or FLAREMQ_STATE_DIR), --log requests (one
 * line per request; server errors are logged always). package.json runs it through
 * scripts/run-compiled.js, compiled once, so a warm start costs Node, Miniflare and workerd only.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { PortInUseError, startServer } from "./server.js";
import { devCredentials, writeHomeCopy } from "./dev-credentials.js";
import { ROOT } from "./build.js";
import { acquireStateLock, StateLockedError } from "./state-lock.js";

/** Where the CLI and the client look when told nothing else (cli/main.ts). */
const DEFAULT_URL = "http://127.0.0.1:8787";

/** What --log may name: server errors are printed at every level; "requests" adds a line per request. */
const LOG_LEVELS = ["errors", "requests"] as const;

const { values } = parseArgs({
  options: { port: { type: "string" }, "state-dir": { type: "string" }, log: { type: "string" }, help: { type: "boolean", short: "h" } },
});
if (values.help) {
  console.log("usage: npm start -- [--port 8787] [--state-dir .flaremq/state] [--log errors|requests]");
  process.exit(0);
}
const logLevel = values.log ?? "errors";
if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
  console.error(`invalid --log "${logLevel}": one of ${LOG_LEVELS.join(", ")}`);
  process.exit(2);
}
const portText = values.port ?? process.env.PORT ?? "8787";
const port = Number(portText);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`invalid port "${portText}"`);
  process.exit(2);
}
const stateDir = path.resolve(values["state-dir"] ?? process.env.FLAREMQ_STATE_DIR ?? path.join(ROOT, ".flaremq", "state"));

let releaseLock: () => void;
try {
  releaseLock = acquireStateLock(stateDir);
} catch (e) {
  if (!(e instanceof StateLockedError)) throw e;
  console.error(e.message);
  process.exit(1);
}
process.on("exit", () => releaseLock());

const dev = await devCredentials(stateDir);
let server: Awaited<ReturnType<typeof startServer>>;
try {
  server = await startServer({
    port,
    stateDir,
    logRequests: logLevel === "requests",
    vars: { FLAREMQ_ACCOUNTS: JSON.stringify([{ accessKey: dev.accessKey, secretKey: dev.secretKey, admin: true }]) },
  });
} catch (e) {
  if (!(e instanceof PortInUseError)) throw e;
  console.error(e.message);
  process.exit(1);
}
// performance.now() counts from this process's start: the time the tooling took before serving.
const readyIn = `ready in ${(performance.now() / 1000).toFixed(2)} s, Worker bundle ${server.rebuilt ? "rebuilt" : "reused"}`;
await writeHomeCopy(dev, server.url);
// The CLI's default endpoint is http://127.0.0.1:8787; on any other, the commands name it.
const cli = `npm run cli --${server.url === DEFAULT_URL ? "" : ` --endpoint ${server.url}`}`;
console.log(`flaremq is serving on ${server.url} (${readyIn})
  state:      ${stateDir}
  logs:       ${logLevel === "requests" ? "one line per request, and server errors" : "server errors (--log requests: one line per request)"}
  health:     curl ${server.url}/healthz
  dev key:    ${dev.accessKey} / ${dev.secretKey}
              (an admin account; all but /healthz, /docs and /openapi.json need signed requests.
               The client and the CLI on this machine sign with it: ~/.flaremq/dev-credentials.json)
  try:        ${cli} message send --topic TopicTest --body hello
              ${cli} topic status --topic TopicTest
  dashboard:  ${server.url}/dashboard/login#ak=${encodeURIComponent(dev.accessKey)}&sk=${encodeURIComponent(dev.secretKey)}
              (signs in with the dev key; the key stays in the fragment, which the browser never sends)
  API:        ${server.url}/docs   (public, as /openapi.json)
Press Ctrl+C to stop.`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void server.stop().then(() => process.exit(0));
  });
}
