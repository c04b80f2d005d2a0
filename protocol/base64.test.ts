/** Base64 the ways Node can take (Buffer, and the portable btoa/atob): the cases are in base64.cases.ts. */
import { expect, it } from "vitest";
import { base64Codec, portableBase64, type Base64Codec } from "./base64.js";
import { base64Cases } from "./base64.cases.js";

it("takes Buffer in Node 20, which has no native Uint8Array.fromBase64", () => {
  const native = typeof (Uint8Array as unknown as { fromBase64?: unknown }).fromBase64 === "function";
  expect(base64Codec.name).toBe(native ? "native" : "buffer");
});

base64Cases(base64Codec);
base64Cases(portableBase64 satisfies Base64Codec);
