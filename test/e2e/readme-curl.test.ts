/**
 * The README's curl lines work as written against a server configured as `npm start` runs it
 * (with its dev admin account, so unsigned requests are refused): each `curl <url>` of a sh
 * block answers 200 (with the body its comment shows, when the comment is JSON), the /docs page
 * `npm start` prints opens, and the README's claim that the rest needs signing holds.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect } from "vitest";
import { it } from "../fixture.js";
import { ROOT } from "../../scripts/build.js";

const DEV_ACCOUNT = { accessKey: "dev-admin", secretKey: "readme-secret-0123456789", admin: true };

/** The `curl ...` lines of the README's sh blocks, with their comments. */
async function readmeCurlLines(): Promise<string[]> {
  const readme = await readFile(path.join(ROOT, "README.md"), "utf8");
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
  return blocks.flatMap((b) => b.split("\n")).filter((line) => line.startsWith("curl "));
}

describe("the README's curl examples", () => {
  it("answer as written on a server with npm start's dev account", async ({ launchServer }) => {
    const server = await launchServer({ vars: { FLAREMQ_ACCOUNTS: JSON.stringify([DEV_ACCOUNT]) } });
    const lines = await readmeCurlLines();
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      // Only `curl <url>  # comment` is understood here; anything else must teach this test first.
      const m = /^curl (localhost:8787\/\S*)\s*(?:#\s*(.*))?$/.exec(line);
      expect(m, `README line this test does not understand: ${line}`).not.toBeNull();
      const url = `${server.url}/${m![1]!.slice("localhost:8787/".length)}`;
      const res = await fetch(url);
      const body = await res.text();
      expect(`${line}: ${res.status}`).toBe(`${line}: 200`);
      const comment = m![2] ?? "";
      if (comment.startsWith("{")) expect(JSON.parse(body), line).toEqual(JSON.parse(comment));
    }
    // The page npm start prints as "API:", opened by a browser.
    const docs = await fetch(`${server.url}/docs`, { headers: { accept: "text/html" } });
    expect(docs.status).toBe(200);
    expect(docs.headers.get("content-type")).toContain("text/html");
    // As the README says: everything else needs a signed request.
    const unsigned = await fetch(`${server.url}/namesrv/topics`);
    expect(unsigned.status).toBe(401);
    expect(((await unsigned.json()) as { code: string }).code).toBe("UNAUTHENTICATED");
  });
});
