#!/usr/bin/env node
// @ts-check
// Launcher for `npx flaremq <noun> <verb>`: registers tsx's ESM loader, then runs the
// TypeScript entry (cli/main.ts), which sets process.exitCode itself.
import { register } from "tsx/esm/api";

register();
await import(new URL("../cli/main.ts", import.meta.url).href);
