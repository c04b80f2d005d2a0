/** Builds the OpenAPI 3.1 document from the operation table and the zod schemas. */
import { z } from "zod";
import { ErrorCodes } from "../../protocol/errors.js";
import { operations } from "./operations.js";

type Json = Record<string, unknown>;

let cached: Json | undefined;

export function openApiDocument(): Json {
  if (cached) return cached;
  const paths: Record<string, Record<string, Json>> = {};
  for (const op of operations) {
    const path = op.path.replace(/:([A-Za-z]+)/g, "{$1}");
    const pathParams = [...op.path.matchAll(/:([A-Za-z]+)/g)].map((m) => ({
      name: m[1],
      in: "path",
      required: true,
      schema: { type: m[1] === "queueId" || m[1] === "offset" ? "integer" : "string" },
    }));
    const queryParams = (op.query ?? []).map((p) => ({
      name: p.name,
      in: "query",
      required: p.required ?? false,
      description: p.description,
      schema: { type: p.type ?? "string" },
    }));
    const operation: Json = {
      tags: [op.tag],
      summary: op.summary,
      operationId: `${op.method.toLowerCase()}${op.path.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? "").toUpperCase())}`,
      parameters: [...pathParams, ...queryParams],
      responses: {
        [String(op.success ?? 200)]: { description: "Success", content: { "application/json": { schema: { type: "object" } } } },
        "4XX": { description: "Client error", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } },
      },
    };
    if (op.body) {
      operation.requestBody = {
        required: true,
        content: { "application/json": { schema: z.toJSONSchema(op.body, { target: "draft-2020-12", unrepresentable: "any" }) } },
      };
    }
    (paths[path] ??= {})[op.method.toLowerCase()] = operation;
  }
  cached = {
    openapi: "3.1.0",
    info: {
      title: "flaremq",
      version: "0.1.0",
      description: "Apache RocketMQ 4.x messaging on Cloudflare Workers and Durable Objects: REST over HTTP with long polling.",
    },
    paths,
    components: {
      schemas: {
        Error: {
          type: "object",
          required: ["code", "message"],
          properties: {
            code: { type: "string", enum: Object.keys(ErrorCodes) },
            message: { type: "string" },
            requestId: { type: "string" },
          },
        },
      },
    },
  };
  return cached;
}

/** A small human-readable page of the same document; `nonce` admits its inline style under the CSP. */
export function docsPage(nonce: string): string {
  const doc = openApiDocument() as { paths: Record<string, Record<string, { summary: string; tags: string[] }>> };
  const rows = Object.entries(doc.paths)
    .flatMap(([path, ops]) =>
      Object.entries(ops).map(
        ([method, op]) =>
          `<tr><td>${op.tags[0]}</td><td><code>${method.toUpperCase()}</code></td><td><code>${escapeHtml(path)}</code></td><td>${escapeHtml(op.summary)}</td></tr>`,
      ),
    )
    .join("\n");
  return `<!doctype html><html><head><meta charset="utf-8"><title>flaremq API</title>
<style nonce="${nonce}">body{font:14px system-ui,sans-serif;margin:2em}td{padding:4px 10px;border-bottom:1px solid #ddd}code{font-size:13px}</style></head>
<body><h1>flaremq REST API</h1><p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Errors are <code>{ code, message, requestId }</code>.</p>
<table><thead><tr><th>area</th><th>method</th><th>path</th><th>what</th></tr></thead><tbody>${rows}</tbody></table></body></html>`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!);
}
