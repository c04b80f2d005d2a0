/**
 * The local server's Miniflare options, read from wrangler.toml's top level (the environment
 * `npm start` serves) with a small TOML parser instead of wrangler: importing wrangler to read
 * one file cost 1.5-2 s of every `npm start`. What wrangler would add from this file is mapped
 * here: compatibility date and flags, [vars] (overridden by .dev.vars, as wrangler dev does),
 * Durable Object bindings (SQLite-backed when a migration names the class in
 * new_sqlite_classes). A key this module does not know (a KV namespace, a service binding, ...)
 * fails loudly, so a binding added to wrangler.toml is never silently missing locally;
 * scripts/wrangler-config.test.ts checks the result against wrangler's own for this repository.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { parseEnv } from "node:util";
import { parse } from "smol-toml";

/** The part of Miniflare's worker options that wrangler.toml decides. */
export interface WranglerWorkerOptions {
  compatibilityDate: string;
  compatibilityFlags: string[];
  /** [vars] then .dev.vars: plain values, as Miniflare takes them. */
  bindings: Record<string, unknown>;
  durableObjects: Record<string, { className: string; useSQLite: boolean }>;
  /** The .dev.vars file whose values were applied, if there was one. */
  devVarsPath?: string;
}

/**
 * Keys that change nothing a local workerd serves (deployment, bundling, other environments) or
 * that are mapped below. Anything else in the file is refused.
 */
const KNOWN_KEYS = new Set([
  "name",
  "main",
  "account_id",
  "build",
  "env",
  "observability",
  "workers_dev",
  "preview_urls",
  "route",
  "routes",
  "placement",
  "limits",
  "upload_source_maps",
  "keep_vars",
  "triggers",
  "compatibility_date",
  "compatibility_flags",
  "vars",
  "durable_objects",
  "migrations",
]);

function table(value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new Error(`wrangler.toml: ${where} is not a table`);
  return value as Record<string, unknown>;
}

function list(value: unknown, where: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new Error(`wrangler.toml: ${where} is not an array`);
  return value;
}

function text(value: unknown, where: string): string {
  if (typeof value !== "string") throw new Error(`wrangler.toml: ${where} is not a string`);
  return value;
}

/** Reads `configPath` (and the .dev.vars beside it) into Miniflare worker options. */
export function readWranglerConfig(configPath: string): WranglerWorkerOptions {
  const config = table(parse(readFileSync(configPath, "utf8")), "the file");
  const unknown = Object.keys(config).filter((key) => !KNOWN_KEYS.has(key));
  if (unknown.length > 0) {
    throw new Error(
      `wrangler.toml declares ${unknown.map((k) => `"${k}"`).join(", ")}, which the local server (scripts/wrangler-config.ts) does not map into Miniflare's options: map it there`,
    );
  }

  const sqliteClasses = new Set<string>();
  for (const [i, migration] of list(config.migrations, "migrations").entries()) {
    for (const name of list(table(migration, `migrations[${i}]`).new_sqlite_classes, `migrations[${i}].new_sqlite_classes`)) {
      sqliteClasses.add(text(name, `migrations[${i}].new_sqlite_classes`));
    }
  }
  const durableObjects: WranglerWorkerOptions["durableObjects"] = {};
  const doBindings = config.durable_objects === undefined ? [] : list(table(config.durable_objects, "durable_objects").bindings, "durable_objects.bindings");
  for (const [i, entry] of doBindings.entries()) {
    const binding = table(entry, `durable_objects.bindings[${i}]`);
    if (binding.script_name !== undefined)
      throw new Error(`wrangler.toml: durable_objects.bindings[${i}] names another Worker (script_name), which the local server does not run`);
    const className = text(binding.class_name, `durable_objects.bindings[${i}].class_name`);
    durableObjects[text(binding.name, `durable_objects.bindings[${i}].name`)] = { className, useSQLite: sqliteClasses.has(className) };
  }

  const bindings: Record<string, unknown> = { ...(config.vars === undefined ? {} : table(config.vars, "vars")) };
  const devVarsPath = path.join(path.dirname(configPath), ".dev.vars");
  const hasDevVars = existsSync(devVarsPath);
  if (hasDevVars) Object.assign(bindings, parseEnv(readFileSync(devVarsPath, "utf8")));

  return {
    compatibilityDate: text(config.compatibility_date, "compatibility_date"),
    compatibilityFlags: list(config.compatibility_flags, "compatibility_flags").map((f, i) => text(f, `compatibility_flags[${i}]`)),
    bindings,
    durableObjects,
    ...(hasDevVars ? { devVarsPath } : {}),
  };
}
