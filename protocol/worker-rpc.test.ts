import { describe, expect, it } from "vitest";
import { codedMessage, MQError } from "./errors.js";
import { mqErrorFromRpc } from "./worker-rpc.js";

describe("mqErrorFromRpc", () => {
  it("rebuilds the MQError a refusal crossed RPC as, with its status and retriable flag", () => {
    const e = mqErrorFromRpc(new Error(codedMessage("ACCESS_DENIED", 'account "a" needs SUB on group "g"')));
    expect(e).toMatchObject({ code: "ACCESS_DENIED", status: 403, retriable: false, message: 'account "a" needs SUB on group "g"' });
    expect(mqErrorFromRpc(new Error(codedMessage("SERVICE_UNAVAILABLE", "x")))).toMatchObject({ code: "SERVICE_UNAVAILABLE", retriable: true });
  });

  it("passes an MQError through and answers null for anything that is not flaremq's refusal", () => {
    const original = new MQError("TOPIC_NOT_EXIST", "t");
    expect(mqErrorFromRpc(original)).toBe(original);
    expect(mqErrorFromRpc(new Error("Network connection lost."))).toBeNull();
    expect(mqErrorFromRpc(new Error("[NOT_A_CODE] x"))).toBeNull();
    expect(mqErrorFromRpc("[ACCESS_DENIED] thrown as a string")).toMatchObject({ code: "ACCESS_DENIED" });
  });
});
