/** Base64 the native way (Uint8Array.prototype.toBase64 and Uint8Array.fromBase64), as workerd takes it: the cases are in protocol/base64.cases.ts. */
import { expect, it } from "vitest";
import { base64Codec } from "../../protocol/base64.js";
import { base64Cases } from "../../protocol/base64.cases.js";

it("takes the native way in workerd", () => {
  expect(base64Codec.name).toBe("native");
});

base64Cases(base64Codec);
