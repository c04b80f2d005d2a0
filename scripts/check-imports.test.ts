/** The import checker finds cycles and upward imports on small made-up graphs, so `npm test` can fail on them. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { checkImports, findCycles, importGraph, importsOf, layerViolations, namesGeneratedEnv, resolveSpecifier, type ImportEdge } from "./check-imports.js";

const graph = (edges: Record<string, string[]>) => new Map(Object.entries(edges));
const edge = (from: string, to: string, typeOnly = false): ImportEdge => ({ from, to, typeOnly });

describe("findCycles", () => {
  it("finds a three-file cycle and leaves out the file that only points into it", () => {
    expect(findCycles(graph({ a: ["b"], b: ["c"], c: ["a"], d: ["a"] }))).toEqual([["a", "b", "c"]]);
  });

  it("finds two separate cycles and a file importing itself", () => {
    expect(findCycles(graph({ a: ["b"], b: ["a"], c: ["d"], d: ["c"], e: ["e"] }))).toEqual([["a", "b"], ["c", "d"], ["e"]]);
  });

  it("finds nothing in a graph without a cycle", () => {
    expect(findCycles(graph({ a: ["b", "c"], b: ["c"], c: [], d: ["a", "c"] }))).toEqual([]);
  });
});

describe("importGraph", () => {
  it("keeps type imports in the cycle check, except the generated Env naming the object classes", () => {
    const typeCycle = [edge("workers/env.ts", "durable-objects/queue.ts", true), edge("durable-objects/queue.ts", "workers/env.ts", true)];
    expect(findCycles(importGraph(typeCycle))).toEqual([["durable-objects/queue.ts", "workers/env.ts"]]);
    expect(findCycles(importGraph(typeCycle, true))).toEqual([]);
    const excused = [edge("worker-configuration.d.ts", "workers/main.ts", true), edge("workers/main.ts", "worker-configuration.d.ts", true)];
    expect(findCycles(importGraph(excused))).toEqual([]);
    // Only that one edge: the old hand-written Env naming the classes is a cycle again.
    const handWritten = [edge("cluster/env.ts", "durable-objects/queue.ts", true), edge("durable-objects/queue.ts", "cluster/env.ts", true)];
    expect(findCycles(importGraph(handWritten))).toEqual([["cluster/env.ts", "durable-objects/queue.ts"]]);
  });
});

describe("layerViolations", () => {
  it("refuses imports pointing up a layer, type imports too", () => {
    expect(
      layerViolations([
        edge("protocol/a.ts", "cluster/b.ts"),
        edge("cluster/a.ts", "durable-objects/b.ts", true),
        edge("durable-objects/a.ts", "workers/b.ts"),
        edge("client/a.ts", "cluster/b.ts"),
        edge("dashboard/a.ts", "workers/b.ts"),
      ]),
    ).toHaveLength(5);
  });

  it("allows imports pointing down, and the generated Env's type reference to workers/main.ts", () => {
    expect(
      layerViolations([
        edge("cluster/a.ts", "protocol/b.ts"),
        edge("durable-objects/a.ts", "cluster/b.ts"),
        edge("workers/a.ts", "durable-objects/b.ts", true),
        edge("client/a.ts", "protocol/b.ts"),
        edge("cli/a.ts", "workers/b.ts"),
        edge("worker-configuration.d.ts", "workers/main.ts", true),
        edge("cluster/env.ts", "worker-configuration.d.ts", true),
        edge("durable-objects/a.ts", "worker-configuration.d.ts", true),
      ]),
    ).toEqual([]);
  });

  it("counts the generated Env in the cluster layer and excuses no other upward edge of it", () => {
    expect(
      layerViolations([
        edge("worker-configuration.d.ts", "workers/main.ts"),
        edge("worker-configuration.d.ts", "workers/app.ts", true),
        edge("worker-configuration.d.ts", "durable-objects/queue.ts", true),
        edge("protocol/a.ts", "worker-configuration.d.ts", true),
        edge("client/a.ts", "worker-configuration.d.ts", true),
        edge("cluster/env.ts", "durable-objects/queue.ts", true),
      ]),
    ).toHaveLength(6);
  });

  it("lets only workers/main.ts import an object class as a value", () => {
    const classes = new Set(["durable-objects/queue.ts"]);
    expect(layerViolations([edge("workers/main.ts", "durable-objects/queue.ts")], classes)).toEqual([]);
    expect(layerViolations([edge("workers/a.ts", "durable-objects/queue.ts", true)], classes)).toEqual([]);
    expect(layerViolations([edge("workers/a.ts", "durable-objects/queue.ts")], classes)).toHaveLength(1);
    expect(layerViolations([edge("durable-objects/a.ts", "durable-objects/queue.ts")], classes)).toHaveLength(1);
  });
});

describe("importsOf", () => {
  it("tells type-only imports from value imports, re-exports and dynamic imports included", () => {
    const text = [
      'import type { A } from "./a.js";',
      'import { type B } from "./b.js";',
      'import { C } from "./c.js";',
      'export type { D } from "./d.js";',
      'export { E } from "./e.js";',
      'const f = await import("./f.js");',
      'let g: import("./g.js").G;',
    ].join("\n");
    expect(importsOf("x.ts", text)).toEqual([
      { spec: "./a.js", typeOnly: true },
      { spec: "./b.js", typeOnly: false },
      { spec: "./c.js", typeOnly: false },
      { spec: "./d.js", typeOnly: true },
      { spec: "./e.js", typeOnly: false },
      { spec: "./f.js", typeOnly: false },
      { spec: "./g.js", typeOnly: true },
    ]);
  });
});

describe("namesGeneratedEnv", () => {
  it("sees a type named through the Cloudflare namespace, not a comment or another namespace", () => {
    expect(namesGeneratedEnv("a.ts", "export type Env = Cloudflare.Env & Vars;")).toBe(true);
    expect(namesGeneratedEnv("a.ts", "let e: Cloudflare.GlobalProps;")).toBe(true);
    expect(namesGeneratedEnv("a.ts", "// Cloudflare.Env is generated\nexport type Env = Vars;")).toBe(false);
    expect(namesGeneratedEnv("a.ts", "let e: CloudflareWorkersModule.DurableObject;")).toBe(false);
  });
});

describe("checkImports", () => {
  /** A checkout of three files and a generated Env in a temporary folder. */
  function tree(generatedTarget: string): string {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "check-imports-"));
    const write = (file: string, text: string): void => {
      fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
      fs.writeFileSync(path.join(root, file), text);
    };
    write("worker-configuration.d.ts", `declare namespace Cloudflare { interface Env { Q: DurableObjectNamespace<import("${generatedTarget}").QueueDO>; } }\n`);
    write("cluster/env.ts", "export type Env = Cloudflare.Env & { X?: string };\n");
    write("workers/app.ts", 'import type { Env } from "../cluster/env.js";\nexport const app = (e: Env) => e;\n');
    write("workers/main.ts", 'export { app } from "./app.js";\n');
    return root;
  }

  it("passes the generated Env naming the classes through workers/main.ts", () => {
    const root = tree("./workers/main");
    try {
      expect(checkImports(root)).toEqual([]);
    } finally {
      fs.rmSync(root, { recursive: true });
    }
  });

  it("fails the generated Env naming anything else above its layer, as a cycle and an upward import", () => {
    const root = tree("./workers/app");
    try {
      expect(checkImports(root)).toEqual([
        "import cycle: cluster/env.ts, worker-configuration.d.ts, workers/app.ts",
        "worker-configuration.d.ts imports workers/app.ts (type only): cluster/ may import only protocol, cluster",
      ]);
    } finally {
      fs.rmSync(root, { recursive: true });
    }
  });
});

describe("resolveSpecifier", () => {
  const from = "workers/dashboard/routes.ts";
  const generated = "../../dashboard/generated/scripts.js";

  it("resolves a .js import to the TypeScript file, and a generated module to itself or, not built yet, to its declaration", () => {
    expect(resolveSpecifier(".", "workers/app.ts", "./auth/routes.js", new Set(["workers/auth/routes.ts"]))).toBe("workers/auth/routes.ts");
    expect(resolveSpecifier(".", from, generated, new Set(["dashboard/generated/scripts.js", "dashboard/generated/scripts.d.ts"]))).toBe(
      "dashboard/generated/scripts.js",
    );
    expect(resolveSpecifier(".", from, generated, new Set(["dashboard/generated/scripts.d.ts"]))).toBe("dashboard/generated/scripts.d.ts");
  });

  it("leaves packages alone and fails on a file that is not there", () => {
    expect(resolveSpecifier(".", from, "hono", new Set())).toBeNull();
    expect(() => resolveSpecifier(".", from, generated, new Set())).toThrow(/cannot resolve/);
  });
});
