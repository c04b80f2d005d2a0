import { describe, expect, it } from "vitest";
import { bodiesTooLarge, bodyTooLarge, requestTooLarge, sizeText } from "./size-refusals.js";

describe("size refusals", () => {
  it("write sizes as MiB or KiB with the exact bytes", () => {
    expect([sizeText(4 * 1024 * 1024), sizeText(6 * 1024 * 1024), sizeText(32 * 1024), sizeText(1000)]).toEqual([
      "4 MiB (4,194,304 bytes)",
      "6 MiB (6,291,456 bytes)",
      "32 KiB (32,768 bytes)",
      "1000 bytes",
    ]);
  });

  it("name the limit broken, with its code", () => {
    const all = [bodyTooLarge(5 << 20), bodyTooLarge(5 << 20, 3), bodiesTooLarge(6 << 20), requestTooLarge(7 << 20), requestTooLarge(undefined)];
    expect(all.map((e) => `${e.status} ${e.code}: ${e.message}`)).toEqual([
      "413 MESSAGE_BODY_TOO_LARGE: message body is 5242880 bytes, over the message body limit of 4 MiB (4,194,304 bytes)",
      "413 MESSAGE_BODY_TOO_LARGE: message body is 5242880 bytes (message 3), over the message body limit of 4 MiB (4,194,304 bytes)",
      "413 MESSAGE_BODY_TOO_LARGE: message bodies total 6291456 bytes, over the limit of 4 MiB (4,194,304 bytes) of bodies in one send",
      "413 REQUEST_TOO_LARGE: request is 7340032 bytes, over the HTTP request limit of 6 MiB (6,291,456 bytes)",
      "413 REQUEST_TOO_LARGE: request is over the HTTP request limit of 6 MiB (6,291,456 bytes)",
    ]);
  });
});
