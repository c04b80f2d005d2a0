/**
 * The build stamp: an output is current while every input it recorded keeps its size and mtime
 * and every output exists; an edit, a removal or a missing output makes it stale; an input
 * changed while the build ran leaves no stamp, so the next run builds again.
 */
import { mkdtemp, rm, utimes, writeFile, unlink } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { isCurrent, writeStamp } from "./build-stamp.js";

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

/** A folder with inputs a.ts and b.ts (mtime one minute ago), an output and the stamp's path. */
async function built(): Promise<{ dir: string; stamp: string; out: string; a: string; b: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "flaremq-stamp-"));
  dirs.push(dir);
  const a = path.join(dir, "a.ts");
  const b = path.join(dir, "b.ts");
  const out = path.join(dir, "out.js");
  const past = new Date(Date.now() - 60_000);
  for (const f of [a, b, out]) {
    await writeFile(f, `// ${path.basename(f)}\n`);
    await utimes(f, past, past);
  }
  const stamp = path.join(dir, "out.js.inputs.json");
  // Relative inputs resolve against the root, as esbuild's metafile names them; pseudo-inputs are skipped.
  expect(writeStamp(stamp, ["a.ts", b, "(disabled):fs"], { root: dir, startedAtMs: Date.now() })).toBe(true);
  return { dir, stamp, out, a, b };
}

describe("build stamp", () => {
  it("is current while nothing changed", async () => {
    const { stamp, out } = await built();
    expect(isCurrent(stamp, [out])).toBe(true);
  });

  it("is stale after an input's content is edited", async () => {
    const { stamp, out, a } = await built();
    await writeFile(a, "// a.ts, edited\n");
    expect(isCurrent(stamp, [out])).toBe(false);
  });

  it("is stale after an input is touched (same size, new mtime)", async () => {
    const { stamp, out, b } = await built();
    await utimes(b, new Date(), new Date());
    expect(isCurrent(stamp, [out])).toBe(false);
  });

  it("is stale after an input is removed, or when an output is missing", async () => {
    const first = await built();
    await unlink(first.b);
    expect(isCurrent(first.stamp, [first.out])).toBe(false);
    const second = await built();
    await unlink(second.out);
    expect(isCurrent(second.stamp, [second.out])).toBe(false);
  });

  it("is stale without a stamp, or with an unreadable one", async () => {
    const { stamp, out } = await built();
    expect(isCurrent(`${stamp}.missing`, [out])).toBe(false);
    await writeFile(stamp, "{ not json");
    expect(isCurrent(stamp, [out])).toBe(false);
  });

  it("writes no stamp when an input changed after the build started", async () => {
    const { dir, stamp, out, a } = await built();
    const startedAtMs = Date.now() - 1_000;
    await utimes(a, new Date(), new Date());
    expect(writeStamp(stamp + ".2", ["a.ts"], { root: dir, startedAtMs })).toBe(false);
    expect(isCurrent(stamp + ".2", [out])).toBe(false);
  });
});
