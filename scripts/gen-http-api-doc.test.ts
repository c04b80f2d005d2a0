/**
 * docs/http-api.md is generated, never hand-kept: these tests fail when the committed page is not
 * what `npm run docs:api` writes from today's OpenAPI document, and check on made-up input that
 * the renderer shows what a reader needs (every operation, its access, its body fields).
 */
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { bodyFields, githubSlug, HTTP_API_DOC_PATH, loadApiSources, renderHttpApiDoc, type ApiSources } from "./gen-http-api-doc.js";

describe("docs/http-api.md", () => {
  it("is what npm run docs:api generates from the OpenAPI document (run it after changing a route or schema)", async () => {
    const generated = renderHttpApiDoc(await loadApiSources());
    const committed = await readFile(HTTP_API_DOC_PATH, "utf8");
    expect(committed === generated, "docs/http-api.md is out of date: run npm run docs:api").toBe(true);
  });

  it("has a section for every operation of the table, with its access", async () => {
    const sources = await loadApiSources();
    const page = renderHttpApiDoc(sources);
    expect(sources.operations.length).toBeGreaterThan(50);
    for (const op of sources.operations) {
      const heading = `### ${op.method} ${op.path.replace(/:([A-Za-z]+)/g, "{$1}")}`;
      expect(page.split("\n"), heading).toContain(heading);
    }
    expect(page).not.toContain("not in the operation table");
  });
});

const made: ApiSources = {
  document: {
    openapi: "3.1.0",
    info: { title: "t", version: "1", description: "A test API." },
    paths: {
      "/things/{id}": {
        put: {
          tags: ["things"],
          summary: "Store a thing",
          parameters: [
            { name: "id", in: "path", required: true, schema: { type: "integer" } },
            { name: "dryRun", in: "query", required: false, description: "check only", schema: { type: "boolean" } },
          ],
          responses: { "201": { description: "Success" }, "4XX": { description: "Client error" } },
          requestBody: {
            content: {
              "application/json": {
                schema: {
                  type: "object",
                  required: ["items"],
                  properties: {
                    items: {
                      type: "array",
                      minItems: 1,
                      maxItems: 8,
                      items: { type: "object", required: ["name"], properties: { name: { type: "string", pattern: "^a|b$" } } },
                    },
                    size: { type: "integer", minimum: 0, maximum: Number.MAX_SAFE_INTEGER },
                  },
                },
              },
            },
          },
        },
      },
    },
    components: { schemas: { Error: { properties: { code: { enum: ["NOT_FOUND", "RATE_LIMITED"] } } } } },
  },
  operations: [
    {
      method: "PUT",
      path: "/things/:id",
      auth: {
        kind: "all",
        of: [
          { kind: "topic", param: "id", action: "PUB" },
          { kind: "group", param: "g", action: "SUB" },
        ],
      },
      cost: "query",
    },
  ],
};

describe("renderHttpApiDoc", () => {
  const page = renderHttpApiDoc(made);

  it("lists the operation in its tag's table, linked to its section, with access and cost", () => {
    expect(page).toContain("| [`PUT /things/{id}`](#put-thingsid) | Store a thing | `PUB` on topic `id` and `SUB` on group `g`; *query* |");
    expect(page).toContain("### PUT /things/{id}");
    expect(page).toContain("- Success: 201");
    expect(page).toContain("- Path: `id` (integer)");
    expect(page).toContain("| `dryRun` | boolean | no | check only |");
  });

  it("flattens body fields, escapes pipes for tables and leaves out the safe-integer bound", () => {
    expect(page).toContain("| `items` | array of objects | yes | 1–8 items |");
    expect(page).toContain("| `items[].name` | string | yes | matches `^a\\|b$` |");
    expect(page).toContain("| `size` | integer | no |  |");
  });

  it("lists error codes with their status and whether they are retriable", () => {
    expect(page).toContain("| `NOT_FOUND` | 404 | no |");
    expect(page).toContain("| `RATE_LIMITED` | 429 | yes |");
  });

  it("refuses an error code protocol/errors.ts does not know", () => {
    const bad: ApiSources = structuredClone(made);
    bad.document.components.schemas.Error.properties.code.enum = ["NO_SUCH_CODE"];
    expect(() => renderHttpApiDoc(bad)).toThrow(/NO_SUCH_CODE/);
  });
});

describe("bodyFields and githubSlug", () => {
  it("names nested object fields with a dot", () => {
    const rows = bodyFields(
      { type: "object", properties: { fence: { type: "object", required: ["clientId"], properties: { clientId: { type: "string", maxLength: 9 } } } } },
      "",
    );
    expect(rows).toEqual([
      { name: "fence", type: "object", required: false, constraints: "" },
      { name: "fence.clientId", type: "string", required: true, constraints: "at most 9 characters" },
    ]);
  });

  it("makes the anchors GitHub makes", () => {
    expect(githubSlug("GET /namesrv/topics/{topic}/route")).toBe("get-namesrvtopicstopicroute");
    expect(githubSlug("PUT /_test/faults")).toBe("put-_testfaults");
    expect(githubSlug("Health, API description, dashboard, test faults")).toBe("health-api-description-dashboard-test-faults");
  });
});
