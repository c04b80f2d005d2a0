/**
 * The middleware finds each request's operation in the API table (matchOperation), which it
 * indexes by method and first path segment: every operation must still be found by its own path.
 */
import { describe, expect, it } from "vitest";
import { operations } from "../openapi/operations.js";
import { matchOperation } from "./middleware.js";

describe("matchOperation", () => {
  it("finds every operation of the table by a path of its own shape, with its parameters", () => {
    for (const op of operations) {
      const path = op.path.replace(/:([A-Za-z]+)/g, (_, name: string) => `${name}-v`);
      const hit = matchOperation(op.method, path);
      expect(hit?.op.path, `${op.method} ${op.path}`).toBe(op.path);
      for (const name of op.path.match(/:([A-Za-z]+)/g) ?? []) expect(hit?.params[name.slice(1)]).toBe(`${name.slice(1)}-v`);
    }
  });

  it("finds nothing for a path outside the table", () => {
    expect(matchOperation("GET", "/nowhere/at/all")).toBeUndefined();
    expect(matchOperation("DELETE", "/healthz")).toBeUndefined();
  });
});
