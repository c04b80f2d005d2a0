/**
 * The end-to-end tests' vitest fixture: what a test file needs from a real server, set up once
 * per file when a test (or a `test.beforeAll`) first asks for it and torn down after the file's
 * last test. A test names what it uses:
 *
 *   it("sends", async ({ server, admin, producer }) => { ... });
 *
 * - `server`: a server of its own for the file (startTestServer), destroyed with its storage.
 *   A file that needs another configuration says so once, at its top:
 *   `test.override("serverOptions", { vars: { ... } })`.
 * - `admin`: an Admin of that server, signing as the server's credentials.
 * - `producer`: a started Producer of a unique group, shut down at the end of the file.
 * - `call`: one raw HTTP call to the server, signed with the credentials given (null: unsigned).
 * - `launchServer`: more servers for one test (another configuration, a restart on the same
 *   storage); each is destroyed when the test ends, whatever happened to it before.
 *
 * Use this file's `test`/`it` for every test and hook of a file: fixtures of one file are one
 * set, and a second extension of it would start a second server.
 */
import { test as base } from "vitest";
import { Admin, Producer, type ProducerOptions } from "../client/index.js";
import { signedCall, type Answer, type SignedCallOptions } from "./auth-helpers.js";
import type { Credentials } from "../client/credentials.js";
import { startTestServer, uniqueName, type TestServer, type TestServerOptions } from "./helpers.js";

/** Signed raw HTTP against the file's server: `call(ROOT, "GET", "/namesrv/topics")`. */
export type Call = (cred: Credentials | null, method: string, path: string, options?: SignedCallOptions) => Promise<Answer>;

export const test = base
  /** How the file's server is configured; override at the top of a file. */
  .extend("serverOptions", { scope: "file" }, {} as TestServerOptions)
  /** Options of the file's `producer` beyond endpoint, credentials and group (timeouts, say). */
  .extend("producerOptions", { scope: "file" }, {} as Partial<ProducerOptions>)
  .extend("server", { scope: "file" }, async ({ serverOptions }, { onCleanup }) => {
    const server = await startTestServer(serverOptions);
    onCleanup(() => server.destroy());
    return server;
  })
  .extend("admin", { scope: "file" }, ({ server }) => new Admin({ endpoint: server.url, credentials: server.credentials }))
  .extend("producer", { scope: "file" }, async ({ server, producerOptions }, { onCleanup }) => {
    // The file's producer sends what its tests then check; a loaded 2-core machine can take more
    // than the client's 3 s default for one of 50 concurrent sends, which says nothing about them.
    // Tests about send timeouts make producers of their own (or override producerOptions).
    const producer = new Producer({
      endpoint: server.url,
      credentials: server.credentials,
      group: uniqueName("pg"),
      sendMsgTimeoutMs: 30_000,
      ...producerOptions,
    });
    await producer.start();
    onCleanup(() => producer.shutdown());
    return producer;
  })
  .extend(
    "call",
    { scope: "file" },
    ({ server }): Call =>
      (cred, method, path, options) =>
        signedCall(server.url, cred, method, path, options),
  )
  // vitest reads the fixtures a function uses from its first parameter: a pattern, empty here.
  // eslint-disable-next-line no-empty-pattern
  .extend("launchServer", async ({}, { onCleanup }) => {
    const launched: TestServer[] = [];
    // Newest first: a restarted server goes before the stopped one whose storage it took over.
    onCleanup(async () => {
      for (const server of launched.reverse()) await server.destroy();
    });
    return async (options: TestServerOptions = {}): Promise<TestServer> => {
      const server = await startTestServer(options);
      launched.push(server);
      return server;
    };
  });

export { test as it };

/**
 * A file-scoped fixture for one more server of a file, in another configuration:
 * `test.extend("strict", { scope: "file" }, serverFixture({ vars: { ... } }))`.
 */
export function serverFixture(options: TestServerOptions = {}) {
  // vitest reads the fixtures a function uses from its first parameter: a pattern, empty here.
  // eslint-disable-next-line no-empty-pattern
  return async ({}, { onCleanup }: { onCleanup: (cleanup: () => Promise<void>) => void }): Promise<TestServer> => {
    const server = await startTestServer(options);
    onCleanup(() => server.destroy());
    return server;
  };
}
