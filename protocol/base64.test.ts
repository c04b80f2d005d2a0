/** Base64 on the portable path (btoa and atob), the one Node 20 takes: the cases are in base64.cases.ts. */
import { expect, it } from "vitest";
import { nativeBase64 } from "./base64.js";
import { base64Cases } from "./base64.cases.js";

it("takes the portable path in Node 20", () => {
  expect(nativeBase64).toBe(typeof (Uint8Array as unknown as { fromBase64?: unknown }).fromBase64 === "function");
});

base64Cases();
