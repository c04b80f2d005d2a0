/**
 * Refusals name what the sender actually broke (issue 18, part 4): a body over the message body
 * limit is refused as such even when its request is also over the request limit; only a request
 * whose bodies are within theirs names the request limit; a send to a read-only topic is refused
 * for the topic's permission, not as a topic that does not exist. Through raw HTTP and the client.
 */
import { describe, expect } from "vitest";
import { isMQError } from "../../client/index.js";
import { it } from "../fixture.js";
import { http, uniqueName } from "../helpers.js";

const MiB = 1024 * 1024;

/** `code: message` of a failed call. */
async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (isMQError(e)) return `${e.code}: ${e.message}`;
    throw e;
  }
  return "NO_ERROR";
}

describe("size limits", () => {
  it("names the message body limit for a body over it, the bodies-per-send limit for a batch over that, and the request limit only otherwise", async ({
    server,
    admin,
  }) => {
    const topic = uniqueName("Sizes");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    const url = `${server.url}/brokers/broker-a/topics/${topic}/queues/0/messages`;
    const base64 = (bytes: number) => Buffer.alloc(bytes, 7).toString("base64");
    const padded = `{"messages":[{"body":"eA=="}]${" ".repeat(7 * MiB)}}`;
    const cases: [string, string][] = [
      // 5 MiB in base64 is a 6.7 MiB request: the body limit is the one broken.
      [
        JSON.stringify({ messages: [{ body: base64(5 * MiB) }] }),
        "413 MESSAGE_BODY_TOO_LARGE: message body is 5242880 bytes, over the message body limit of 4 MiB (4,194,304 bytes)",
      ],
      [
        JSON.stringify({ messages: [{ body: "eA==" }, { body: base64(5 * MiB) }] }),
        "413 MESSAGE_BODY_TOO_LARGE: message body is 5242880 bytes (message 1), over the message body limit of 4 MiB (4,194,304 bytes)",
      ],
      [
        JSON.stringify({ messages: [{ body: "x".repeat(5 * MiB), bodyEncoding: "utf8" }] }),
        "413 MESSAGE_BODY_TOO_LARGE: message body is 5242880 bytes, over the message body limit of 4 MiB (4,194,304 bytes)",
      ],
      [
        JSON.stringify({ messages: [{ body: base64(3 * MiB) }, { body: base64(3 * MiB) }] }),
        "413 MESSAGE_BODY_TOO_LARGE: message bodies total 6291456 bytes, over the limit of 4 MiB (4,194,304 bytes) of bodies in one send",
      ],
      // Bodies within their limits, the request over its own: only then the request limit.
      [padded, `413 REQUEST_TOO_LARGE: request is ${padded.length} bytes, over the HTTP request limit of 6 MiB (6,291,456 bytes)`],
    ];
    const actual: string[] = [];
    for (const [rawBody] of cases) {
      const r = await http(url, { method: "POST", rawBody });
      actual.push(`${r.status} ${String(r.body.code)}: ${String(r.body.message)}`);
    }
    expect(actual).toEqual(cases.map(([, expected]) => expected));
    expect((await admin.topicStatus(topic)).queues.map((q) => q.maxOffset)).toEqual([0]);
  });

  it("the client refuses a body over the message body limit before sending, naming that limit", async ({ admin, producer }) => {
    const topic = uniqueName("BigBody");
    await admin.createTopic(topic, { queueNums: 1 });
    expect(await refusal(producer.send({ topic, body: new Uint8Array(5 * MiB) }))).toBe(
      "MESSAGE_BODY_TOO_LARGE: message body is 5242880 bytes, over the message body limit of 4 MiB (4,194,304 bytes)",
    );
  });
});

describe("read-only topics", () => {
  it("a send to a topic without W is refused with NO_PERMISSION naming the topic and its permission, by the client and the server", async ({
    server,
    admin,
    producer,
  }) => {
    const topic = uniqueName("ReadOnly");
    await admin.createTopic(topic, { queueNums: 2, perm: 4 });
    const brokers = (await admin.topicRoute(topic)).queueDatas.map((q) => `4 (R--) on ${q.brokerName}`).join(", ");
    expect(await refusal(producer.send({ topic, body: "x" }))).toBe(
      `NO_PERMISSION: topic "${topic}" is not writable: its permission is ${brokers}; a send needs W (2 or 6)`,
    );
    const raw = await http(`${server.url}/brokers/broker-a/topics/${topic}/queues/0/messages`, { method: "POST", body: { messages: [{ body: "eA==" }] } });
    expect(`${raw.status} ${String(raw.body.code)}: ${String(raw.body.message)}`).toBe(
      `403 NO_PERMISSION: topic "${topic}" is not writable: its permission is 4 (R--) on broker-a; a send needs W (2 or 6)`,
    );
  });
});
