// @ts-check
/**
 * Whether a build's output is still current, without running the build: a stamp file beside the
 * output lists every input file the build read (esbuild's metafile) with its size and mtime.
 * The output is current while each input has the same size and mtime; an edit, a removed file
 * or an `npm install` that replaced a package's files makes it stale. A newly added file counts
 * only once an existing input imports it, and that edit changes the importer. This is plain
 * JavaScript because scripts/run-compiled.js, which runs before anything is compiled, uses it
 * too (scripts/build.ts imports it for the Worker bundle).
 */
import { readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import process from "node:process";

/**
 * @typedef {{ version: 1, inputs: Record<string, [sizeBytes: number, mtimeMs: number]> }} Stamp
 */

/** @param {string} file @returns {[number, number] | undefined} */
function fingerprint(file) {
  try {
    const s = statSync(file);
    return [s.size, s.mtimeMs];
  } catch {
    return undefined;
  }
}

/**
 * True when `outputs` all exist and every input recorded in `stampFile` is unchanged.
 * @param {string} stampFile
 * @param {string[]} outputs
 * @returns {boolean}
 */
export function isCurrent(stampFile, outputs) {
  if (outputs.some((out) => fingerprint(out) === undefined)) return false;
  /** @type {unknown} */
  let parsed;
  try {
    parsed = JSON.parse(readFileSync(stampFile, "utf8"));
  } catch {
    return false;
  }
  const stamp = /** @type {Partial<Stamp> | null} */ (parsed);
  if (typeof stamp !== "object" || stamp === null) return false;
  if (stamp.version !== 1 || typeof stamp.inputs !== "object" || !stamp.inputs) return false;
  const entries = Object.entries(stamp.inputs);
  if (entries.length === 0) return false;
  for (const [file, [size, mtimeMs]] of entries) {
    const now = fingerprint(file);
    if (!now || now[0] !== size || now[1] !== mtimeMs) return false;
  }
  return true;
}

/**
 * Records `inputs` (absolute paths, or relative to `root`) as the inputs of a build that started
 * at `startedAtMs`. An input changed after the build started may not be in the output, so no
 * stamp is written then and the next run builds again.
 * @param {string} stampFile
 * @param {string[]} inputs
 * @param {{ root: string, startedAtMs: number }} options
 * @returns {boolean} whether the stamp was written
 */
export function writeStamp(stampFile, inputs, { root, startedAtMs }) {
  /** @type {Stamp} */
  const stamp = { version: 1, inputs: {} };
  for (const input of inputs) {
    // esbuild's pseudo-inputs ("(disabled):fs" for a package's browser-field stubs, "<stdin>")
    // are not files.
    if (input.startsWith("(") || input.startsWith("<")) continue;
    const file = path.resolve(root, input);
    const now = fingerprint(file);
    if (!now || now[1] > startedAtMs) return false;
    stamp.inputs[file] = now;
  }
  // Written aside and renamed, so a concurrent reader sees the old stamp or the new one.
  const temp = `${stampFile}.${process.pid}.tmp`;
  writeFileSync(temp, JSON.stringify(stamp));
  renameSync(temp, stampFile);
  return true;
}
