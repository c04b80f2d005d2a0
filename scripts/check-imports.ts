/**
 * `npm run check:imports` (part of `npm test`): the import rules of the project's own source.
 * - No import cycle anywhere, type imports included (`import type`, `export type`, `import("x").T`):
 *   a type cycle is the same knot for a reader. The one excused edge below (the generated Env
 *   naming the object classes) is the only cycle the build erases and the only one allowed.
 * - Layers point one way: protocol ← cluster ← durable-objects ← workers; client and dashboard
 *   stand on protocol. The rule covers type imports too, with one stated exception: the Env that
 *   `wrangler types` generates (worker-configuration.d.ts, counted in the cluster layer, whose
 *   cluster/env.ts builds on it) names the object classes of its bindings through
 *   workers/main.ts (type only). It is a global declaration, not imported: a file that names
 *   `Cloudflare.Env` counts as a type import of it.
 * - Only workers/main.ts imports a Durable Object class file as a value.
 * `tsx scripts/check-imports.ts [root]` checks another checkout. Parsed with the TypeScript compiler API, which is already a dependency; nothing is built.
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";

export interface ImportEdge {
  /** Repository-relative paths with forward slashes. */
  from: string;
  to: string;
  typeOnly: boolean;
}

/** Folders whose files are checked; any other folder (cli, scripts, bench, test) may import what it needs. */
export const LAYERS: Readonly<Record<string, readonly string[]>> = {
  protocol: ["protocol"],
  cluster: ["protocol", "cluster"],
  "durable-objects": ["protocol", "cluster", "durable-objects"],
  client: ["protocol", "client"],
  dashboard: ["protocol", "client", "dashboard"],
  workers: ["protocol", "cluster", "durable-objects", "dashboard", "workers"],
  // Workers bound to flaremq by a service binding know only the wire contract (protocol/worker-rpc.ts).
  examples: ["protocol", "examples"],
};

/** `wrangler types` output (`npm run types`): the bindings of wrangler.toml as the global `Cloudflare.Env`. */
export const GENERATED_ENV = "worker-configuration.d.ts";

/** Files outside the layer folders that belong to a layer all the same. */
const LAYER_OF_FILE: Readonly<Record<string, string>> = { [GENERATED_ENV]: "cluster" };

/** Upward imports allowed as types only, each for a reason given above and where the edge starts. */
export const TYPE_ONLY_EXCEPTIONS: readonly { from: string; to: string }[] = [{ from: GENERATED_ENV, to: "workers/main.ts" }];

/** The one file that imports object classes as values (it exports them to the runtime). */
export const OBJECT_CLASS_IMPORTER = "workers/main.ts";

const SOURCE_FOLDERS = ["protocol", "cluster", "durable-objects", "workers", "client", "dashboard", "cli", "scripts", "bench", "test", "bin", "examples"];

function folderOf(file: string): string {
  return LAYER_OF_FILE[file] ?? file.split("/")[0]!;
}

/**
 * Every strongly connected set of two or more files (or a file importing itself), each as a
 * sorted list; sets sorted by their first file. Tarjan's algorithm.
 */
export function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const members: string[] = [];
    for (;;) {
      const w = stack.pop()!;
      onStack.delete(w);
      members.push(w);
      if (w === v) break;
    }
    if (members.length > 1 || (graph.get(v) ?? []).includes(v)) cycles.push(members.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles.sort((a, b) => a[0]!.localeCompare(b[0]!));
}

function isExcused(e: ImportEdge): boolean {
  return e.typeOnly && TYPE_ONLY_EXCEPTIONS.some((x) => x.from === e.from && x.to === e.to);
}

/** The graph of the given imports, leaving out the excused type-only ones (and all type-only ones when `valuesOnly`). */
export function importGraph(edges: readonly ImportEdge[], valuesOnly = false): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const e of edges) {
    if (!graph.has(e.to)) graph.set(e.to, []);
    if (isExcused(e) || (valuesOnly && e.typeOnly)) continue;
    const out = graph.get(e.from) ?? [];
    if (!out.includes(e.to)) out.push(e.to);
    graph.set(e.from, out);
  }
  return graph;
}

/** One message per import that breaks the layer rule or the object-class rule. */
export function layerViolations(edges: readonly ImportEdge[], objectClassFiles: ReadonlySet<string> = new Set()): string[] {
  const out: string[] = [];
  for (const e of edges) {
    const from = folderOf(e.from);
    const to = folderOf(e.to);
    const allowed = LAYERS[from];
    if (allowed && LAYERS[to] && !allowed.includes(to)) {
      if (!isExcused(e)) out.push(`${e.from} imports ${e.to}${e.typeOnly ? " (type only)" : ""}: ${from}/ may import only ${allowed.join(", ")}`);
    }
    if (!e.typeOnly && objectClassFiles.has(e.to) && e.from !== OBJECT_CLASS_IMPORTER) {
      out.push(`${e.from} imports the object class file ${e.to} as a value: only ${OBJECT_CLASS_IMPORTER} may`);
    }
  }
  return out;
}

/** Source files (`.ts`, `.js`), or with `declarations` the `.d.ts` files instead. */
function listSources(root: string, declarations = false): string[] {
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(path.join(root, dir), { withFileTypes: true })) {
      const rel = `${dir}/${entry.name}`;
      if (entry.isDirectory()) {
        if (entry.name !== "node_modules" && !entry.name.startsWith(".")) walk(rel);
      } else if (entry.name.endsWith(".d.ts") ? declarations : !declarations && /\.(ts|js)$/.test(entry.name)) {
        files.push(rel);
      }
    }
  };
  for (const dir of SOURCE_FOLDERS) if (fs.existsSync(path.join(root, dir))) walk(dir);
  return files.sort();
}

/**
 * The file a relative import names, among `known`. Last comes a declaration beside a generated
 * module (dashboard/generated/scripts.d.ts for scripts.js), which a fresh checkout has not built.
 */
export function resolveSpecifier(root: string, from: string, spec: string, known: ReadonlySet<string>): string | null {
  if (!spec.startsWith(".")) return null;
  const base = path.posix.normalize(path.posix.join(path.posix.dirname(from), spec));
  const candidates = [base, base.replace(/\.js$/, ".ts"), `${base}.ts`, `${base}/index.ts`, `${base}.js`, base.replace(/\.js$/, ".d.ts")];
  const found = candidates.find((c) => known.has(c));
  if (found) return found;
  throw new Error(`${from}: cannot resolve "${spec}" under ${root}`);
}

/** The relative imports and re-exports of one file (static and dynamic). */
export function importsOf(file: string, text: string): { spec: string; typeOnly: boolean }[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, file.endsWith(".js") ? ts.ScriptKind.JS : ts.ScriptKind.TS);
  const found: { spec: string; typeOnly: boolean }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push({ spec: node.moduleSpecifier.text, typeOnly: node.importClause?.isTypeOnly === true });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      found.push({ spec: node.moduleSpecifier.text, typeOnly: node.isTypeOnly });
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [arg] = node.arguments;
      if (arg && ts.isStringLiteral(arg)) found.push({ spec: arg.text, typeOnly: false });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      found.push({ spec: node.argument.literal.text, typeOnly: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Whether a file names a type of the global namespace the generated Env declares (`Cloudflare.Env`). */
export function namesGeneratedEnv(file: string, text: string): boolean {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, file.endsWith(".js") ? ts.ScriptKind.JS : ts.ScriptKind.TS);
  const visit = (node: ts.Node): boolean =>
    (ts.isQualifiedName(node) && ts.isIdentifier(node.left) && node.left.text === "Cloudflare") || (ts.forEachChild(node, visit) ?? false);
  return visit(source);
}

export function collectEdges(root: string): { edges: ImportEdge[]; objectClassFiles: Set<string> } {
  const files = listSources(root);
  const generated = fs.existsSync(path.join(root, GENERATED_ENV));
  const sources = generated ? [...files, GENERATED_ENV] : files;
  // Declarations resolve imports of modules a fresh checkout has not built; they import nothing of ours.
  const known = new Set([...sources, ...listSources(root, true)]);
  const edges: ImportEdge[] = [];
  const objectClassFiles = new Set<string>();
  for (const from of sources) {
    const text = fs.readFileSync(path.join(root, from), "utf8");
    if (/\bextends DurableObject\b/.test(text)) objectClassFiles.add(from);
    for (const { spec, typeOnly } of importsOf(from, text)) {
      const to = resolveSpecifier(root, from, spec, known);
      if (to) edges.push({ from, to, typeOnly });
    }
    if (generated && from !== GENERATED_ENV && namesGeneratedEnv(from, text)) edges.push({ from, to: GENERATED_ENV, typeOnly: true });
  }
  return { edges, objectClassFiles };
}

/** All problems found under root, one line each; empty when the rules hold. */
export function checkImports(root: string): string[] {
  const { edges, objectClassFiles } = collectEdges(root);
  const problems = findCycles(importGraph(edges)).map((c) => `import cycle: ${c.join(", ")}`);
  return [...problems, ...layerViolations(edges, objectClassFiles)];
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const root = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), ".."));
  const problems = checkImports(root);
  for (const p of problems) console.error(p);
  if (problems.length > 0) {
    console.error(`check-imports: ${problems.length} problem(s)`);
    process.exit(1);
  }
  console.log("check-imports: no import cycle, layers point one way");
}
