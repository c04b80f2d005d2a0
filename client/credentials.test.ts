import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { writeHomeCopy } from "../scripts/dev-credentials.js";
import { DEV_CREDENTIALS_PATH, readDevCredentials } from "./credentials.js";
import { pickDevCredentials, withDevCredentials } from "./dev-credentials-file.js";

const A = { accessKey: "dev-admin", secretKey: "secret-of-server-a" };
const B = { accessKey: "dev-admin", secretKey: "secret-of-server-b" };

describe("dev credentials file", () => {
  let home: string;
  beforeEach(async () => {
    // A home folder of the test's own: the real ~/.flaremq is never read or written.
    home = await mkdtemp(path.join(os.tmpdir(), "flaremq-home-"));
  });
  afterEach(async () => {
    await rm(home, { recursive: true, force: true });
  });

  it("item 11: two local servers keep their own dev keys, and each client reads its server's", async () => {
    await writeHomeCopy(A, "http://127.0.0.1:8787", home);
    await writeHomeCopy(B, "http://127.0.0.1:8788", home);
    expect(await readDevCredentials("http://127.0.0.1:8787", home)).toEqual(A);
    expect(await readDevCredentials("http://127.0.0.1:8788", home)).toEqual(B);
    // The same server under another loopback name, with a path and a trailing slash.
    expect(await readDevCredentials("http://localhost:8787/", home)).toEqual(A);
    // A server that recorded nothing gets no key (unsigned: UNAUTHENTICATED, not a wrong signature).
    expect(await readDevCredentials("http://127.0.0.1:8789", home)).toBeUndefined();
    // Restarting the first server replaces its own entry only.
    const A2 = { accessKey: "dev-admin", secretKey: "new-secret-of-a" };
    await writeHomeCopy(A2, "http://127.0.0.1:8787", home);
    expect(await readDevCredentials("http://127.0.0.1:8787", home)).toEqual(A2);
    expect(await readDevCredentials("http://127.0.0.1:8788", home)).toEqual(B);
    const file = path.join(home, ...DEV_CREDENTIALS_PATH);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    // Older clients read the top-level fields: they name the last server started.
    expect(JSON.parse(await readFile(file, "utf8"))).toMatchObject({ ...A2, endpoint: "http://127.0.0.1:8787" });
  });

  it("item 11: reads the single-entry file of older versions, and a new start keeps its entry", async () => {
    const file = path.join(home, ...DEV_CREDENTIALS_PATH);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify({ ...A, endpoint: "http://127.0.0.1:8787" }));
    expect(await readDevCredentials("http://127.0.0.1:8787", home)).toEqual(A);
    expect(await readDevCredentials("http://127.0.0.1:8788", home)).toBeUndefined();
    await writeHomeCopy(B, "http://127.0.0.1:8788", home);
    expect(await readDevCredentials("http://127.0.0.1:8787", home)).toEqual(A);
    expect(await readDevCredentials("http://127.0.0.1:8788", home)).toEqual(B);
  });

  it("item 11: an old entry without an endpoint applies to any local server until a server records its own", () => {
    expect(pickDevCredentials(A, "http://127.0.0.1:9000")).toEqual(A);
    const after = withDevCredentials(A, "http://127.0.0.1:9000", B);
    expect(after.endpoints).toEqual({ "http://127.0.0.1:9000": B });
    expect(pickDevCredentials(after, "http://127.0.0.1:9000")).toEqual(B);
  });

  it("item 11: gives no key to a remote endpoint or from a file that is missing or malformed", async () => {
    await writeHomeCopy(A, "http://127.0.0.1:8787", home);
    expect(await readDevCredentials("https://mq.example.com", home)).toBeUndefined();
    expect(await readDevCredentials("https://127.0.0.1:8787", home)).toBeUndefined(); // other scheme
    const empty = await mkdtemp(path.join(os.tmpdir(), "flaremq-home-"));
    try {
      expect(await readDevCredentials("http://127.0.0.1:8787", empty)).toBeUndefined();
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
    for (const bad of [null, 7, "x", [], { endpoints: { "http://127.0.0.1:8787": { accessKey: 1 } } }, { endpoints: { "not a url": A } }]) {
      expect(pickDevCredentials(bad, "http://127.0.0.1:8787")).toBeUndefined();
    }
    const file = path.join(home, ...DEV_CREDENTIALS_PATH);
    await writeFile(file, "{ not json");
    expect(await readDevCredentials("http://127.0.0.1:8787", home)).toBeUndefined();
    // A start over a corrupt file writes a good one.
    await writeHomeCopy(B, "http://127.0.0.1:8788", home);
    expect(await readDevCredentials("http://127.0.0.1:8788", home)).toEqual(B);
  });
});
