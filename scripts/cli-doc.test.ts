/**
 * The CLI's table in docs/cli.md names every noun the CLI has and every verb of each, and
 * nothing it lacks: a command added to cli/commands/ without its line fails here.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { commands } from "../cli/commands/index.js";
import { ROOT } from "./doc-snippets.js";

/** The rows of the `| noun | verbs |` table: noun -> its verbs cell. */
async function tableRows(): Promise<Map<string, string>> {
  const text = await readFile(path.join(ROOT, "docs", "cli.md"), "utf8");
  const rows = new Map<string, string>();
  for (const m of text.matchAll(/^\| `([a-z-]+)` \| (.*) \|$/gm)) rows.set(m[1]!, m[2]!);
  return rows;
}

describe("docs/cli.md", () => {
  it("has a row for each noun of the CLI, and no other", async () => {
    expect([...(await tableRows()).keys()].sort()).toEqual(Object.keys(commands).sort());
  });

  it("names every verb of each noun in its row", async () => {
    const rows = await tableRows();
    for (const [noun, { verbs }] of Object.entries(commands)) {
      const named = Object.keys(verbs).filter((verb) => new RegExp(`\`${verb}[\` ]`).test(rows.get(noun) ?? ""));
      expect({ noun, verbs: named }).toEqual({ noun, verbs: Object.keys(verbs) });
    }
  });
});
