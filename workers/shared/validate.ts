/** Edge validation helpers: every failure becomes an MQError with a stable code. */
import type { Context } from "hono";
import type { z } from "zod";
import { MQError, type ErrorCode } from "../../protocol/errors.js";
import { parseUintParam } from "../../protocol/schemas.js";

export async function readJson<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T>> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    throw new MQError("INVALID_JSON", "request body is not valid JSON");
  }
  return parseWith(schema, raw);
}

export function parseWith<T extends z.ZodType>(schema: T, raw: unknown): z.infer<T> {
  const result = schema.safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? issue.path.join(".") + ": " : "";
    throw new MQError("VALIDATION_FAILED", `${where}${issue?.message ?? "invalid request"}`);
  }
  return result.data;
}

/** A required or optional non-negative integer from the query string or path. */
export function uintParam(value: string | undefined, name: string, opts: { code?: ErrorCode; fallback?: number; max?: number } = {}): number {
  const code = opts.code ?? "VALIDATION_FAILED";
  if (value === undefined) {
    if (opts.fallback !== undefined) return opts.fallback;
    throw new MQError(code, `${name} is required`);
  }
  const n = parseUintParam(value);
  if (n === undefined) throw new MQError(code, `${name} must be a non-negative integer, got "${value.slice(0, 40)}"`);
  if (opts.max !== undefined && n > opts.max) throw new MQError(code, `${name} must be at most ${opts.max}`);
  return n;
}
