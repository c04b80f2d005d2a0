/**
 * The local server reads wrangler.toml itself: for this repository's file it must give what
 * wrangler's own reader gives Miniflare, and a key it does not map must stop it, not vanish.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ROOT } from "./build.js";
import { readWranglerConfig } from "./wrangler-config.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function configFile(toml: string, devVars?: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "flaremq-wrangler-"));
  dirs.push(dir);
  await writeFile(path.join(dir, "wrangler.toml"), toml);
  if (devVars !== undefined) await writeFile(path.join(dir, ".dev.vars"), devVars);
  return path.join(dir, "wrangler.toml");
}

describe("readWranglerConfig", () => {
  it("gives, for this repository's wrangler.toml, the options wrangler's own reader gives", { timeout: 60_000 }, async () => {
    // Copied beside no .dev.vars, so a developer's local one does not enter the comparison.
    const file = await configFile(await readFile(path.join(ROOT, "wrangler.toml"), "utf8"));
    const { unstable_getMiniflareWorkerOptions } = await import("wrangler");
    const theirs = unstable_getMiniflareWorkerOptions(file).workerOptions;
    const ours = readWranglerConfig(file);
    expect(ours).toEqual({
      compatibilityDate: theirs.compatibilityDate,
      compatibilityFlags: theirs.compatibilityFlags,
      bindings: theirs.bindings,
      durableObjects: theirs.durableObjects,
    });
    expect(Object.keys(ours.durableObjects)).toContain("QUEUE");
  });

  it("applies .dev.vars over [vars], as wrangler dev does", async () => {
    const file = await configFile('compatibility_date = "2026-04-01"\n[vars]\nA = "1"\nB = "2"\n', "B=from-dev-vars\nC='three'\n");
    expect(readWranglerConfig(file)).toEqual({
      compatibilityDate: "2026-04-01",
      compatibilityFlags: [],
      bindings: { A: "1", B: "from-dev-vars", C: "three" },
      durableObjects: {},
      devVarsPath: path.join(path.dirname(file), ".dev.vars"),
    });
  });

  it("marks a Durable Object SQLite-backed only when a migration names its class in new_sqlite_classes", async () => {
    const file = await configFile(
      [
        'compatibility_date = "2026-04-01"',
        "[[durable_objects.bindings]]",
        'name = "A"',
        'class_name = "ADO"',
        "[[durable_objects.bindings]]",
        'name = "B"',
        'class_name = "BDO"',
        "[[migrations]]",
        'tag = "v1"',
        'new_sqlite_classes = ["ADO"]',
        "[[migrations]]",
        'tag = "v2"',
        'new_classes = ["BDO"]',
      ].join("\n"),
    );
    expect(readWranglerConfig(file).durableObjects).toEqual({ A: { className: "ADO", useSQLite: true }, B: { className: "BDO", useSQLite: false } });
  });

  it("refuses a binding kind it does not map, naming it", async () => {
    const file = await configFile('compatibility_date = "2026-04-01"\n[[kv_namespaces]]\nbinding = "KV"\nid = "x"\n');
    expect(() => readWranglerConfig(file)).toThrow(/wrangler\.toml declares "kv_namespaces", which the local server/);
  });

  it("refuses a Durable Object of another Worker (script_name)", async () => {
    const file = await configFile('compatibility_date = "2026-04-01"\n[[durable_objects.bindings]]\nname = "X"\nclass_name = "X"\nscript_name = "other"\n');
    expect(() => readWranglerConfig(file)).toThrow(/script_name/);
  });
});
