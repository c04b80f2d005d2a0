/**
 * Bundles the Worker (workers/main.ts) into one ES module for Miniflare, the same input
 * `wrangler deploy` bundles. esbuild directly, because it takes well under a second.
 */
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const BUNDLE_PATH = path.join(ROOT, "dist", "worker.js");

export async function buildWorker(outfile: string = BUNDLE_PATH): Promise<string> {
  await build({
    entryPoints: [path.join(ROOT, "workers", "main.ts")],
    outfile,
    bundle: true,
    format: "esm",
    target: "es2022",
    platform: "neutral",
    mainFields: ["module", "main"],
    conditions: ["workerd", "worker", "browser"],
    external: ["cloudflare:*"],
    sourcemap: "linked",
    logLevel: "error",
  });
  return outfile;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(`built ${await buildWorker()}`);
}
