/**
 * The documentation's TypeScript snippets compile under the project's strict settings
 * (scripts/doc-snippets.ts), and the checker itself finds what it must: a type error at its
 * document line, a snippet that is not a module, an import of the package by its name.
 * One TypeScript program checks them all (building one takes seconds).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { CHECKED_DOCS, checkSnippets, extractSnippets, packagePaths, ROOT, snippetsOf, type SnippetError } from "./doc-snippets.js";

const MADE_UP = `# A document

\`\`\`ts
import { Producer } from "flaremq";
const producer: Producer = new Producer({ endpoint: "http://127.0.0.1:8787", group: "g" });
const n: number = producer.group;
\`\`\`

\`\`\`sh
npm start
\`\`\`

1. A list item:

   \`\`\`typescript
   console.log(undeclared);
   \`\`\`

\`\`\`ts
import { Producer } from "./client/index.js";
export const p = new Producer({ endpoint: "http://127.0.0.1:8787", group: "g" });
\`\`\`
`;

let errors: SnippetError[];

beforeAll(() => {
  errors = checkSnippets([...snippetsOf(CHECKED_DOCS), ...extractSnippets(MADE_UP, "made-up.md")]);
}, 60_000);

describe("documentation snippets", () => {
  it("README.md and docs/client.md: every ts snippet compiles under the strict settings", () => {
    expect(snippetsOf(CHECKED_DOCS).length).toBeGreaterThanOrEqual(4);
    expect(errors.filter((e) => e.doc !== "made-up.md")).toEqual([]);
  });

  it("finds a type error at its document line, and a snippet that is not a module", () => {
    expect(errors.filter((e) => e.doc === "made-up.md")).toEqual([
      { doc: "made-up.md", line: 6, message: expect.stringContaining("Type 'string' is not assignable to type 'number'") },
      { doc: "made-up.md", line: 15, message: "not a module: a snippet imports what it uses" },
      { doc: "made-up.md", line: 16, message: "Cannot find name 'undeclared'." },
    ]);
  });
});

describe("extractSnippets", () => {
  it("takes ts and typescript fences, indented ones unindented, and skips other languages", () => {
    const snippets = extractSnippets(MADE_UP, "made-up.md");
    expect(snippets.map((s) => [s.line, s.code.split("\n")[0]])).toEqual([
      [3, 'import { Producer } from "flaremq";'],
      [15, "console.log(undeclared);"],
      [19, 'import { Producer } from "./client/index.js";'],
    ]);
  });

  it("does not take a fence inside another language's block for an opening", () => {
    const md = "````md\n```ts\nnot code\n```\n````\n\n```ts\nexport {};\n```\n";
    expect(extractSnippets(md, "x.md")).toEqual([{ doc: "x.md", line: 7, code: "export {};" }]);
  });
});

describe("packagePaths", () => {
  it("maps each package entry to the source its pkg/ output is built from", () => {
    expect(packagePaths(ROOT)).toMatchObject({
      flaremq: ["./client/index.ts"],
      "flaremq/client": ["./client/index.ts"],
      "flaremq/node": ["./client/node/index.ts"],
      "flaremq/protocol/worker-rpc": ["./protocol/worker-rpc.ts"],
    });
  });
});
