/**
 * The TypeScript snippets of the documentation compile under the project's strict settings
 * (scripts/doc-snippets.test.ts runs this for README.md and docs/client.md in `npm test`), so a
 * reader who copies one is not met by a type error the docs never showed.
 *
 * - Every fenced block marked ```ts or ```typescript is one module of its own: it must import
 *   what it uses and declare what it names. Fences indented inside a list item count too.
 * - Each is compiled as if it were a file at the repository root, with tsconfig.node.json's
 *   options (strict, noUncheckedIndexedAccess, exactOptionalPropertyTypes, Node's types), so
 *   `./client/index.js` means the client as the README says; `flaremq` and its other entries
 *   resolve to the sources behind the package.json `exports` (./pkg/X.js is built from ./X.ts).
 * - Nothing is written to disk: the snippets are virtual files of one TypeScript program.
 *
 * `tsx scripts/doc-snippets.ts [file.md ...]` prints the errors (default README.md and docs/client.md).
 */
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** The documents whose snippets `npm test` checks. */
export const CHECKED_DOCS = ["README.md", "docs/client.md"] as const;

export interface Snippet {
  /** Repository-relative path of the document. */
  doc: string;
  /** 1-based line of the opening fence. */
  line: number;
  code: string;
}

export interface SnippetError {
  doc: string;
  /** 1-based line in the document. */
  line: number;
  message: string;
}

const FENCE_OPEN = /^(\s*)(`{3,}|~{3,})\s*(\S*)/;

/** The ```ts and ```typescript blocks of a Markdown text, their lines unindented by their fence's indentation. */
export function extractSnippets(markdown: string, doc: string): Snippet[] {
  const lines = markdown.split("\n");
  const out: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE_OPEN.exec(lines[i]!);
    if (!open) continue;
    const [, indent = "", fence = "", lang = ""] = open;
    const body: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const line = lines[j]!;
      if (line.trim().startsWith(fence) && line.trim().replace(/[`~]/g, "") === "") break;
      body.push(line.startsWith(indent) ? line.slice(indent.length) : line.trimStart());
    }
    if (lang === "ts" || lang === "typescript") out.push({ doc, line: i + 1, code: body.join("\n") });
    i = j; // a fence of another language is skipped whole: its lines are not fences
  }
  return out;
}

/**
 * `paths` for the package's own name: each `exports` entry `./pkg/X.js` maps to the source
 * `X.ts` it is built from (tsconfig.package.json), so a snippet importing "flaremq" is checked
 * against what `npm pack` would ship.
 */
export function packagePaths(root: string): Record<string, string[]> {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as { name: string; exports?: Record<string, string | { default?: string }> };
  const paths: Record<string, string[]> = {};
  for (const [entry, target] of Object.entries(pkg.exports ?? {})) {
    const built = typeof target === "string" ? target : target.default;
    if (!built?.startsWith("./pkg/") || !built.endsWith(".js")) continue;
    const source = `./${built.slice("./pkg/".length, -".js".length)}.ts`;
    paths[entry === "." ? pkg.name : `${pkg.name}/${entry.slice(2)}`] = [source];
  }
  return paths;
}

function compilerOptions(root: string): ts.CompilerOptions {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    path.join(root, "tsconfig.node.json"),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      },
    },
  );
  if (!parsed) throw new Error("tsconfig.node.json: not readable");
  return { ...parsed.options, noEmit: true, allowJs: false, paths: packagePaths(root) };
}

/** Type-checks each snippet as its own module at the repository root; every error, with its document line. */
export function checkSnippets(snippets: readonly Snippet[], root: string = ROOT): SnippetError[] {
  const files = new Map<string, Snippet>();
  snippets.forEach((s, i) => files.set(path.join(root, `__doc_snippet_${i}.ts`), s));
  const options = compilerOptions(root);
  const host = ts.createCompilerHost(options);
  const disk = ts.createCompilerHost(options);
  host.fileExists = (f) => files.has(path.resolve(f)) || disk.fileExists(f);
  host.readFile = (f) => files.get(path.resolve(f))?.code ?? disk.readFile(f);
  host.getSourceFile = (f, languageVersion, onError, shouldCreate) => {
    const snippet = files.get(path.resolve(f));
    return snippet ? ts.createSourceFile(f, snippet.code, languageVersion, true) : disk.getSourceFile(f, languageVersion, onError, shouldCreate);
  };
  const program = ts.createProgram([...files.keys()], options, host);
  const errors: SnippetError[] = [];
  for (const [file, snippet] of files) {
    const source = program.getSourceFile(file)!;
    const diagnostics = [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
    if (!ts.isExternalModule(source)) {
      errors.push({ doc: snippet.doc, line: snippet.line, message: "not a module: a snippet imports what it uses" });
    }
    for (const d of diagnostics) {
      const at = d.start === undefined ? 0 : source.getLineAndCharacterOfPosition(d.start).line + 1;
      errors.push({ doc: snippet.doc, line: snippet.line + at, message: ts.flattenDiagnosticMessageText(d.messageText, "\n") });
    }
  }
  return errors;
}

/** The snippets of the given documents (repository-relative), read from `root`. */
export function snippetsOf(docs: readonly string[], root: string = ROOT): Snippet[] {
  return docs.flatMap((doc) => extractSnippets(fs.readFileSync(path.join(root, doc), "utf8"), doc));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const docs = process.argv.length > 2 ? process.argv.slice(2) : [...CHECKED_DOCS];
  const snippets = snippetsOf(docs);
  const errors = checkSnippets(snippets);
  for (const e of errors) console.log(`${e.doc}:${e.line}: ${e.message}`);
  console.log(`${snippets.length} snippets, ${errors.length} errors`);
  process.exitCode = errors.length > 0 ? 1 : 0;
}
