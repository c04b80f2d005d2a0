#!/usr/bin/env node
// @ts-check
/**
 * `node scripts/run-compiled.js scripts/start.ts [args]`: runs a TypeScript entry of scripts/
 * as one ES module that esbuild compiled to dist/<name>.mjs, compiled again only when one of
 * its inputs changed (build-stamp.js). `npm start` runs through it: tsx would compile the same
 * files on every start and cost 0.4-0.8 s before the first line of the server runs; this costs
 * a few stat calls. Packages stay imports of node_modules, not copies in the bundle. It is plain
 * JavaScript because it must run before anything is compiled.
 */
import path from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { isCurrent, writeStamp } from "./build-stamp.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const [entry, ...args] = process.argv.slice(2);
if (!entry || !entry.endsWith(".ts")) {
  process.stderr.write("usage: node scripts/run-compiled.js <entry.ts> [args]\n");
  process.exit(2);
}
const entryPath = path.resolve(entry);
// dist/ is one level below the root, as scripts/ is: code that finds the root from its own
// location (scripts/build.ts's ROOT) finds the same folder from either.
const outfile = path.join(ROOT, "dist", `${path.basename(entryPath, ".ts")}.mjs`);
const stampFile = `${outfile}.inputs.json`;

if (!isCurrent(stampFile, [outfile])) {
  const startedAtMs = Date.now();
  const { build } = await import("esbuild");
  const result = await build({
    entryPoints: [entryPath],
    outfile,
    absWorkingDir: ROOT,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    sourcemap: "linked",
    metafile: true,
    logLevel: "error",
  });
  // How it was compiled is an input too: this file and the esbuild that ran.
  const tools = [fileURLToPath(import.meta.url), path.join(ROOT, "node_modules", "esbuild", "package.json")];
  writeStamp(stampFile, [...Object.keys(result.metafile.inputs), ...tools], { root: ROOT, startedAtMs });
}

// The entry parses its own arguments as usual. (Source maps stay off: with them on, Node reads
// and parses the map of every module it loads, Miniflare's 6 MB one included, on every start.
// The compiled entry reads close to its TypeScript; `node --enable-source-maps` maps it.)
process.argv = [process.argv[0] ?? "node", outfile, ...args];
await import(pathToFileURL(outfile).href);
