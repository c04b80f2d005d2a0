import { describe, expect, it } from "vitest";
import { app } from "../app.js";
import { openApiDocument } from "./document.js";
import { operations } from "./operations.js";

describe("OpenAPI document", () => {
  it("lists exactly the routes the app serves", () => {
    const served = new Set(app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`));
    const documented = new Set(operations.map((o) => `${o.method} ${o.path}`));
    expect([...served].filter((r) => !documented.has(r))).toEqual([]);
    expect([...documented].filter((r) => !served.has(r))).toEqual([]);
  });

  it("is an OpenAPI 3.1 document with request schemas generated from the validators", () => {
    const doc = openApiDocument() as { openapi: string; paths: Record<string, Record<string, { requestBody?: unknown }>> };
    expect(doc.openapi).toBe("3.1.0");
    const send = doc.paths["/brokers/{broker}/topics/{topic}/queues/{queueId}/messages"]!.post! as {
      requestBody: { content: { "application/json": { schema: { properties: { messages: { maxItems: number } } } } } };
    };
    expect(send.requestBody.content["application/json"].schema.properties.messages.maxItems).toBe(1024);
  });
});
