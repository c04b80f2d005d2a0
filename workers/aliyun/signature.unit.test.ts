/** The protocol's signature against the test vectors of the reference (computed with the SDK's own client.sign). */
import { describe, expect, it } from "vitest";
import { md5Digest } from "../../protocol/md5.js";
import { candidateResources, canonicalizedMQHeaders, contentMd5Forms, parseAuthorization, signAliyun, stringToSign } from "./signature.js";

const DATE = "Thu, 26 Nov 2026 12:00:00 GMT";
const MQ_HEADERS: [string, string][] = [["x-mq-version", "2015-06-06"]];

describe("Alibaba Cloud HTTP signature", () => {
  it("matches the SDK's unit test vector", async () => {
    const sig = await signAliyun("ACCESS_KEY_SECRET", {
      method: "PUT",
      contentMd5: "574683b3684e3cff610afa155cc2506d",
      contentType: "text/xml",
      date: "Tue, 11 Apr 2017 10:09:19 GMT",
      headers: MQ_HEADERS,
      resource: "/",
    });
    expect(sig).toBe("G7NRBqmP9XfhTJ/pV3AgYQtXaaU=");
  });

  it("matches a consume with a tag expression, over the raw request target", async () => {
    const parts = {
      method: "GET",
      contentMd5: "",
      contentType: "text/xml;charset=utf-8",
      date: DATE,
      headers: MQ_HEADERS,
      resource: "/topics/T1/messages?consumer=GID1&ns=INST&tag=TagA%7C%7CTagB&numOfMessages=3&waitseconds=3",
    };
    expect(stringToSign(parts)).toBe(`GET\n\ntext/xml;charset=utf-8\n${DATE}\nx-mq-version:2015-06-06\n${parts.resource}`);
    expect(await signAliyun("SK", parts)).toBe("OhuASG31orYIXMTnHmetI9BXKRI=");
  });

  it("matches a publish, and reads the Node SDK's Content-MD5 form", async () => {
    const body =
      '<?xml version="1.0" encoding="UTF-8"?><Message xmlns="http://mq.aliyuncs.com/doc/v1/"><MessageBody><![CDATA[hello]]></MessageBody><MessageTag><![CDATA[TagA]]></MessageTag></Message>';
    const bytes = new TextEncoder().encode(body);
    expect(bytes.length).toBe(181);
    const contentMd5 = "ZmYzMzQzY2JiM2Y0YTI2NWQ4NWNiMzIwZjBkODExZDM=";
    expect(contentMd5Forms(md5Digest(bytes))[0]).toBe(contentMd5);
    const sig = await signAliyun("SK", {
      method: "POST",
      contentMd5,
      contentType: "text/xml;charset=utf-8",
      date: DATE,
      headers: MQ_HEADERS,
      resource: "/topics/T1/messages?ns=INST",
    });
    expect(sig).toBe("mBvLX72l6XpZWkphP7ag8N6wZcA=");
  });

  it("signs every x-mq- header, lower-cased and sorted, and nothing else", () => {
    const headers: [string, string][] = [
      ["X-MQ-Version", "2015-06-06"],
      ["content-type", "text/xml"],
      ["x-mq-a", "1"],
      ["host", "h"],
    ];
    expect(canonicalizedMQHeaders(headers)).toBe("x-mq-a:1\nx-mq-version:2015-06-06\n");
  });

  it("parses the Authorization header and offers the raw form of a re-encoded quote", () => {
    expect(parseAuthorization("MQ AK:abc+/=")).toEqual({ accessKeyId: "AK", signature: "abc+/=" });
    expect(parseAuthorization("MQ AK")).toBeNull();
    expect(parseAuthorization("Bearer x")).toBeNull();
    expect(candidateResources("/topics/T/messages?tag=a%27b")).toEqual(["/topics/T/messages?tag=a%27b", "/topics/T/messages?tag=a'b"]);
    expect(candidateResources("/topics/T/messages")).toEqual(["/topics/T/messages"]);
  });
});
