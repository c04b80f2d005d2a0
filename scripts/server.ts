/**
 * Runs the whole system (routing worker, broker shards, every Durable Object) in workerd
 * through Miniflare, without wrangler dev's reload proxy, with Durable Object storage on disk.
 * Used by `npm start`, the end-to-end tests and the benchmark. The options come from
 * wrangler.toml (wrangler-config.ts), the bundle from build.ts (rebuilt only when stale), and
 * workerd's output arrives as structured lines (level and message) for `onLog`.
 */
import type * as MiniflareModule from "miniflare";
import { createRequire } from "node:module";
import path from "node:path";
import { mkdir } from "node:fs/promises";
import { ensureWorkerBundle, BUNDLE_PATH, ROOT } from "./build.js";
import { readWranglerConfig } from "./wrangler-config.js";

/**
 * Miniflare, loaded on the first start (`npm start -- --help` never loads it). It is CommonJS:
 * required, not imported, since Node's ESM import first scans its 4 MB for named exports (a few
 * hundred ms of every start).
 */
function loadMiniflare(): typeof MiniflareModule {
  return createRequire(import.meta.url)("miniflare") as typeof MiniflareModule;
}

/** One line the Worker (or workerd) printed: console.log is "log", console.error "error". */
export interface ServerLogLine {
  level: string;
  message: string;
}

export interface ServerOptions {
  /** TCP port on 127.0.0.1; 0 picks a free one. Default 8787. */
  port?: number;
  host?: string;
  /** Folder for Durable Object storage; survives restarts. */
  stateDir: string;
  /**
   * Overrides of wrangler.toml [vars], e.g. AUTO_CREATE_TOPIC_ENABLE for a test. This local
   * runner adds ALLOW_UNAUTHENTICATED_LOCAL="true" when it binds a loopback address (a server
   * without accounts stays open to loopback clients, as tests and the benchmark expect); pass
   * "false" to see what a deployed Worker does without accounts.
   */
  vars?: Record<string, string>;
  /** Skip the build check when the caller already built the bundle. */
  skipBuild?: boolean;
  /** Opens workerd's V8 inspector on this port (the benchmark's CPU profile); closed when unset. */
  inspectorPort?: number;
  /** One log line per request (method, path, status, ms, request id); default false. 5xx are logged regardless. */
  logRequests?: boolean;
  /** Receives what the Worker logs; default: errors and warnings to stderr, the rest to stdout. */
  onLog?: (line: ServerLogLine) => void;
}

export interface RunningServer {
  url: string;
  port: number;
  /** Whether this start rebuilt the Worker bundle (false: an unchanged bundle was reused). */
  rebuilt: boolean;
  stop(): Promise<void>;
}

/** The address is taken (another flaremq, or any other server): said in one line, no workerd dump. */
export class PortInUseError extends Error {
  constructor(
    readonly host: string,
    readonly port: number,
  ) {
    super(`${host}:${port} is already in use (another flaremq, or another server); stop it or choose another port with --port <n> (0 picks a free one)`);
  }
}

/** A kj stack dump line: "stack:" and code addresses (bare hex, or binary@hex). */
const STACK_DUMP = /^stack:(?: (?:\S+@)?[0-9a-f]+)+\s*$/;

function printLog(line: ServerLogLine): void {
  if (line.level === "error" || line.level === "warn") console.error(line.message);
  else console.log(line.message);
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const rebuilt = options.skipBuild ? false : (await ensureWorkerBundle()).rebuilt;
  await mkdir(options.stateDir, { recursive: true });
  const config = readWranglerConfig(path.join(ROOT, "wrangler.toml"));
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? 8787;
  const onLog = options.onLog ?? printLog;
  const { Miniflare } = loadMiniflare();
  const mf = new Miniflare({
    name: "flaremq",
    // The bundle is the one module (only cloudflare:* stays an import, which workerd provides).
    // Listed rather than `modules: true` with scriptPath, for which Miniflare parses the whole
    // 1.4 MB bundle in JavaScript to find its imports: the largest cost of a start after that.
    modules: [{ type: "ESModule", path: BUNDLE_PATH }],
    modulesRoot: path.dirname(BUNDLE_PATH),
    compatibilityDate: config.compatibilityDate,
    compatibilityFlags: config.compatibilityFlags,
    durableObjects: config.durableObjects,
    bindings: {
      ...config.bindings,
      // Open without accounts only when bound to loopback: the Worker checks the Host header,
      // which a remote client reaching a server bound to 0.0.0.0 could set to "localhost".
      ALLOW_UNAUTHENTICATED_LOCAL: String(isLoopbackHost(host)),
      // A local server's push webhooks may target a receiver on this machine over plain http.
      PUSH_LOOPBACK_WEBHOOKS: "true",
      ...(options.logRequests ? { LOG_REQUESTS: "true" } : {}),
      ...(options.vars ?? {}),
    },
    durableObjectsPersist: path.join(options.stateDir, "do"),
    host,
    port,
    ...(options.inspectorPort === undefined ? {} : { inspectorPort: options.inspectorPort }),
    // workerd's output as lines with a level. Dropped here: a failed bind's line (the error
    // below says it in one line) and workerd's unsymbolized stack dumps ("stack: workerd@51f7db6
    // ..."), which tell a user nothing; Miniflare drops some of its other internal noise.
    structuredWorkerdLogs: true,
    handleStructuredLogs: ({ level, message }: ServerLogLine) => {
      if (message.includes("Address already in use; toString() = ") || STACK_DUMP.test(message)) return;
      onLog({ level, message });
    },
  });
  let url: URL;
  try {
    url = await mf.ready;
  } catch (e) {
    await mf.dispose().catch(() => undefined);
    if ((e as { code?: unknown }).code === "ERR_ADDRESS_IN_USE") throw new PortInUseError(host, port);
    throw e;
  }
  return {
    url: url.origin,
    port: Number(url.port),
    rebuilt,
    stop: () => mf.dispose(),
  };
}

function isLoopbackHost(host: string): boolean {
  return host === "localhost" || host === "::1" || host === "[::1]" || /^127(?:\.\d{1,3}){3}$/.test(host);
}
