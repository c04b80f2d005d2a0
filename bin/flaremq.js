#!/usr/bin/env node
// @ts-check
// Launcher for `npx flaremq <noun> <verb>`. In a clone (the TypeScript sources are there) it
// registers tsx's loader and runs cli/main.ts, so it never runs a stale build; an installed
// package has only the compiled CLI (pkg/cli/main.js, built by `npm pack`'s prepack) and runs
// that with plain Node. Either sets process.exitCode itself.
import { access } from "node:fs/promises";

const source = new URL("../cli/main.ts", import.meta.url);
const inClone = await access(source).then(
  () => true,
  () => false,
);
if (inClone) {
  const { register } = await import("tsx/esm/api");
  register();
  await import(source.href);
} else {
  await import(new URL("../pkg/cli/main.js", import.meta.url).href);
}
