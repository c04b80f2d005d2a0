import { describe, expect, it } from "vitest";
import { newPushSecret, PUSH_SIGNATURE_HEADER, PUSH_TIMESTAMP_HEADER, signPushRequest, verifyPushSignature } from "./push-signature.js";

const body = new TextEncoder().encode('{"messages":[]}');
const NOW = 1_700_000_000_000;

describe("push webhook signatures", () => {
  it("a request signed with the secret over its body verifies", async () => {
    const secret = newPushSecret();
    const headers = await signPushRequest(secret, body, NOW);
    expect(headers[PUSH_TIMESTAMP_HEADER]).toBe("1700000000");
    const check = await verifyPushSignature({
      secret,
      body,
      timestamp: headers[PUSH_TIMESTAMP_HEADER],
      signature: headers[PUSH_SIGNATURE_HEADER],
      nowMs: NOW + 1000,
    });
    expect(check).toBe("OK");
  });

  it("matches a known HMAC-SHA256 over timestamp.body (receivers in other languages compute the same)", async () => {
    const headers = await signPushRequest("whsec_test", new TextEncoder().encode("hello"), 1_000_000);
    // printf '1000.hello' | openssl dgst -sha256 -hmac whsec_test
    expect(headers[PUSH_SIGNATURE_HEADER]).toBe("v1=696e841b2787ab743441607b247dbda7ba11a59e1137e8608fde4d5c80c0222b");
  });

  it("refuses another secret, a changed body, a changed timestamp, stale and malformed headers", async () => {
    const secret = newPushSecret();
    const headers = await signPushRequest(secret, body, NOW);
    const base = { secret, body, timestamp: headers[PUSH_TIMESTAMP_HEADER], signature: headers[PUSH_SIGNATURE_HEADER], nowMs: NOW };
    expect(await verifyPushSignature({ ...base, secret: newPushSecret() })).toBe("MISMATCH");
    expect(await verifyPushSignature({ ...base, body: new TextEncoder().encode('{"messages":[1]}') })).toBe("MISMATCH");
    expect(await verifyPushSignature({ ...base, timestamp: "1700000001", nowMs: NOW })).toBe("MISMATCH");
    expect(await verifyPushSignature({ ...base, nowMs: NOW + 5 * 60_000 + 1000 })).toBe("EXPIRED");
    expect(await verifyPushSignature({ ...base, signature: undefined })).toBe("MISSING");
    expect(await verifyPushSignature({ ...base, signature: "v1=zz" })).toBe("MALFORMED");
    expect(await verifyPushSignature({ ...base, timestamp: "soon" })).toBe("MALFORMED");
  });

  it("makes a new 32-byte secret each time", () => {
    const a = newPushSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(newPushSecret()).not.toBe(a);
  });
});
