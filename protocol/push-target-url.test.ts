import { describe, expect, it } from "vitest";
import { webhookUrlProblem } from "./push-target-url.js";

const production = { allowLoopbackHttp: false };
const local = { allowLoopbackHttp: true };

describe("webhook URLs a push subscription may target", () => {
  it.each(["https://example.com/hook", "https://hooks.example.com:8443/a?b=c", "https://93.184.216.34/x", "https://[2606:4700::1111]/x"])(
    "allows %s",
    (url) => {
      expect(webhookUrlProblem(url, production)).toBeNull();
    },
  );

  it.each([
    "http://example.com/hook",
    "ftp://example.com/x",
    "not a url",
    "https://user:pw@example.com/",
    "https://localhost/x",
    "https://127.0.0.1/x",
    "https://10.1.2.3/x",
    "https://172.16.0.1/x",
    "https://192.168.1.1/x",
    "https://169.254.169.254/latest/meta-data",
    "https://100.64.0.1/x",
    "https://0.0.0.0/x",
    "https://[::1]/x",
    "https://[fd00::1]/x",
    "https://[fe80::1]/x",
    "https://[::ffff:169.254.169.254]/x",
    "https://2130706433/x", // 127.0.0.1 as one number
    "https://0x7f.0.0.1/x",
    "https://printer.local/x",
    "https://metadata.google.internal/x",
  ])("refuses %s in production", (url) => {
    expect(webhookUrlProblem(url, production)).not.toBeNull();
  });

  it("allows http to loopback only for a local server", () => {
    expect(webhookUrlProblem("http://127.0.0.1:9000/hook", local)).toBeNull();
    expect(webhookUrlProblem("http://localhost:9000/hook", local)).toBeNull();
    expect(webhookUrlProblem("http://127.0.0.1:9000/hook", production)).not.toBeNull();
    expect(webhookUrlProblem("http://10.0.0.1/hook", local)).not.toBeNull();
    expect(webhookUrlProblem("http://example.com/hook", local)).not.toBeNull();
  });
});
