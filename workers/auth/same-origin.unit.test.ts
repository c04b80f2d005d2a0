import { describe, expect, it } from "vitest";
import { crossOriginRefusal } from "./same-origin.js";

const ORIGIN = "http://127.0.0.1:8787";

function verdict(method: string, path: string, headers: Record<string, string>): "allowed" | "refused" {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
  return crossOriginRefusal({ method, path, origin: ORIGIN, header: (n) => lower[n.toLowerCase()] }) === undefined ? "allowed" : "refused";
}

describe("crossOriginRefusal (requests authenticated by the session cookie)", () => {
  it("item 9: refuses state-changing requests from another origin, or that do not say where they come from", () => {
    const other = { origin: "http://127.0.0.1:9999", "sec-fetch-site": "same-site", "sec-fetch-mode": "cors" };
    const cases: [string, string, Record<string, string>, string][] = [
      // What the dashboard itself sends.
      ["POST", "/namesrv/topics", { origin: ORIGIN, "sec-fetch-site": "same-origin", "sec-fetch-mode": "cors" }, "allowed"],
      ["PUT", "/namesrv/topics/T", { origin: ORIGIN }, "allowed"],
      ["GET", "/namesrv/topics", { "sec-fetch-site": "same-origin", "sec-fetch-mode": "cors" }, "allowed"],
      // A page on another port of the same host: same-site, so the browser attaches the cookie.
      ["POST", "/namesrv/topics", other, "refused"],
      ["DELETE", "/namesrv/topics/T", { origin: "http://127.0.0.1:9999" }, "refused"],
      ["POST", "/namesrv/topics", { "sec-fetch-site": "same-site" }, "refused"],
      ["POST", "/namesrv/topics", { origin: "null" }, "refused"],
      ["PUT", "/admin/accounts/x", { origin: "https://127.0.0.1:8787" }, "refused"], // another scheme
      ["POST", "/namesrv/topics", { origin: "http://127.0.0.1:87870" }, "refused"],
      // Nothing to go by: a browser always sends Origin on these, so a request without it is no browser's.
      ["POST", "/namesrv/topics", {}, "refused"],
      ["DELETE", "/groups/g/members/c", {}, "refused"],
      // Reads from another page of the site (an <img>, a no-cors fetch) may still change state
      // (a check-back poll hands checks out): refused as well.
      ["GET", "/producers/pg/checks", { "sec-fetch-site": "same-site", "sec-fetch-mode": "no-cors" }, "refused"],
      ["GET", "/producers/pg/checks", { "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate" }, "refused"],
      // Following a link to a page is fine; so is a typed URL, and a GET from an old browser.
      ["GET", "/dashboard", { "sec-fetch-site": "same-site", "sec-fetch-mode": "navigate" }, "allowed"],
      ["GET", "/docs", { "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate" }, "allowed"],
      ["GET", "/dashboard", { "sec-fetch-site": "none", "sec-fetch-mode": "navigate" }, "allowed"],
      ["GET", "/namesrv/topics", {}, "allowed"],
      ["POST", "/dashboard", { "sec-fetch-site": "same-site", "sec-fetch-mode": "navigate" }, "refused"],
    ];
    const actual = cases.map(([m, p, h]) => `${m} ${p} ${JSON.stringify(h)}: ${verdict(m, p, h)}`);
    expect(actual).toEqual(cases.map(([m, p, h, want]) => `${m} ${p} ${JSON.stringify(h)}: ${want}`));
  });
});
