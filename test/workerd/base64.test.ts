/** Base64 on workerd's native path (Uint8Array.prototype.toBase64 and Uint8Array.fromBase64): the cases are in protocol/base64.cases.ts. */
import { expect, it } from "vitest";
import { nativeBase64 } from "../../protocol/base64.js";
import { base64Cases } from "../../protocol/base64.cases.js";

it("takes the native path in workerd", () => {
  expect(nativeBase64).toBe(true);
});

base64Cases();
