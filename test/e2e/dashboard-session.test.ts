/**
 * The dashboard's session in a real browser (Debian's Chromium through playwright-core, as in
 * dashboard.test.ts) against a server with accounts: what a page of another origin can do
 * with the session cookie, the sign-in link, framing, and where an unsigned visit lands.
 */
import { createServer, type Server } from "node:http";
import type { Page } from "playwright-core";
import { afterAll, afterEach, describe, expect } from "vitest";
import type { Admin } from "../../client/index.js";
import { signRequest } from "../../protocol/auth/signature.js";
import { APP, ROOT } from "../auth-helpers.js";
import { byTestId, launchChromium, type TestBrowser } from "../browser.js";
import { test, it } from "../fixture.js";
import { uniqueName, type TestServer } from "../helpers.js";

let server: TestServer;
let admin: Admin;
/** Another origin on the same host (a different port): same-site for the browser's cookies. */
let other: Server;
let otherUrl = "";
let otherPage = "";
let browser: TestBrowser;

test.override("serverOptions", {
  vars: {
    FLAREMQ_ACCOUNTS: JSON.stringify([
      { ...ROOT, admin: true },
      { ...APP, defaultTopicPerm: "PUB|SUB", defaultGroupPerm: "SUB" },
    ]),
  },
  credentials: ROOT,
});

// The browser and the other origin are shared by the file's tests, as the server is (from the fixture).
test.beforeAll(async ({ server: fileServer, admin: fileAdmin }) => {
  server = fileServer;
  admin = fileAdmin;
  other = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(otherPage);
  });
  await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
  const address = other.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  otherUrl = `http://127.0.0.1:${address.port}`;
  browser = await launchChromium("session");
});

afterAll(async () => {
  await browser?.close();
  await new Promise((r) => other?.close(r));
});

async function newPage(): Promise<Page> {
  const page = await browser.newPage();
  const problems = browser.problems;
  // A CSP that blocked the page's own script or style shows up here.
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy/i.test(m.text()) && page.url().startsWith(server.url)) problems.push(m.text());
  });
  return page;
}

afterEach(async () => {
  expect(await browser.closePage(), "uncaught errors or CSP violations in our pages").toEqual([]);
});

async function signIn(p: Page, cred: { accessKey: string; secretKey: string }): Promise<void> {
  await p.goto(`${server.url}/dashboard/login`);
  await p.fill(byTestId("access-key"), cred.accessKey);
  await p.fill(byTestId("secret-key"), cred.secretKey);
  await p.click(byTestId("sign-in"));
  await onDashboard(p);
  await p.waitForSelector("body[data-ready=true]");
}

/** The dashboard loaded (it adds the view to the address as a fragment). */
async function onDashboard(p: Page): Promise<void> {
  await p.waitForURL((u) => u.origin === server.url && u.pathname === "/dashboard");
  await p.waitForSelector("body[data-ready=true]");
}

async function sessionCookie(): Promise<string | undefined> {
  return (await browser.context.cookies(server.url)).find((c) => c.name === "mq_session")?.value;
}

describe("dashboard session", () => {
  it("item 9: a page on another port of the same host cannot make state-changing requests with the session cookie", async () => {
    const p = await newPage();
    await signIn(p, ROOT);
    const victim = server.url;
    const evil = uniqueName("Evil");
    // The attack: a no-cors fetch needs no preflight; its answer is opaque to the page, but the
    // request is made, and the browser attaches the cookie (the two origins are the same site).
    otherPage = `<!doctype html><html><body><script>
fetch(${JSON.stringify(`${victim}/namesrv/topics`)}, { method: "POST", mode: "no-cors", credentials: "include", headers: { "content-type": "text/plain" }, body: JSON.stringify({ topic: ${JSON.stringify(evil)} }) })
  .then(() => { document.body.dataset.fetched = "true"; }, () => { document.body.dataset.fetched = "error"; });
</script></body></html>`;
    const attacker = await browser.context.newPage();
    try {
      const answered = attacker.waitForResponse((r) => r.url() === `${victim}/namesrv/topics` && r.request().method() === "POST");
      await attacker.goto(otherUrl);
      const answer = await answered;
      await attacker.waitForSelector("body[data-fetched=true]", { state: "attached" });
      // 403, not 401: the cookie came along and signed the request in; the origin check refused
      // it (the answer's body is opaque to the page and to the browser's tools; the exact code
      // is checked below). Before the check it was a 201 and the topic existed.
      expect(answer.status()).toBe(403);
    } finally {
      await attacker.close();
    }
    expect((await admin.listTopics()).map((t) => t.topic)).not.toContain(evil);

    // The same request from the dashboard's own origin goes through (the Send view posts with the cookie).
    const topic = uniqueName("Own");
    await admin.createTopic(topic, { queueNums: 1 });
    await p.click(byTestId("tab-send"));
    await p.fill(byTestId("send-topic"), topic);
    await p.fill(byTestId("send-body"), "from this origin");
    await p.click(byTestId("send-submit"));
    await expect.poll(() => p.locator(byTestId("send-history-item")).count()).toBe(1);
    expect(await p.locator(byTestId("send-error")).isHidden()).toBe(true);

    // Exact answers, with the cookie the browser holds.
    const cookie = `mq_session=${await sessionCookie()}`;
    const create = (headers: Record<string, string>) =>
      fetch(`${victim}/namesrv/topics`, {
        method: "POST",
        headers: { cookie, "content-type": "application/json", ...headers },
        body: JSON.stringify({ topic: evil }),
      });
    const refused = await create({ origin: otherUrl });
    expect([refused.status, ((await refused.json()) as { code: string }).code]).toEqual([403, "CROSS_ORIGIN_REFUSED"]);
    const unmarked = await create({});
    expect([unmarked.status, ((await unmarked.json()) as { code: string }).code]).toEqual([403, "CROSS_ORIGIN_REFUSED"]);
    expect((await admin.listTopics()).map((t) => t.topic)).not.toContain(evil);
    // The token sent as a Bearer header is no ambient credential (a page must hold it): no origin needed.
    const token = cookie.slice("mq_session=".length);
    const byBearer = uniqueName("Bearer");
    const bearer = await fetch(`${victim}/namesrv/topics`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ topic: byBearer, queueNums: 1 }),
    });
    expect(bearer.status).toBe(201);
  });

  it("item 9: the sign-in link does not replace a session of another account without asking", async () => {
    await browser.context.clearCookies();
    const p = await newPage();
    await signIn(p, ROOT);
    const rootCookie = await sessionCookie();
    expect(rootCookie).toMatch(/^root\./);
    const link = `${server.url}/dashboard/login#ak=${APP.accessKey}&sk=${encodeURIComponent(APP.secretKey)}`;

    // Signed in as root, a link for app asks first; staying keeps root's session.
    await p.goto(link);
    await p.locator(`${byTestId("switch-session")}:not([hidden])`).waitFor();
    expect(await p.locator(byTestId("current-account")).textContent()).toBe("root");
    expect(await p.locator(byTestId("offered-account")).textContent()).toBe("app");
    expect(p.url()).toBe(`${server.url}/dashboard/login`); // the key is gone from the address
    expect(await sessionCookie()).toBe(rootCookie);
    await p.click(byTestId("switch-session-keep"));
    await onDashboard(p);
    expect(await sessionCookie()).toBe(rootCookie);

    // Asked again, switching signs in as app.
    await p.goto(link);
    await p.click(byTestId("switch-session-confirm"));
    await onDashboard(p);
    const appCookie = await sessionCookie();
    expect(appCookie).toMatch(/^app\./);

    // A link for the account already signed in just opens the dashboard.
    await p.goto(link);
    await onDashboard(p);
    expect(await sessionCookie()).toBe(appCookie);

    // Without a session the link signs in by itself, as npm start promises.
    await browser.context.clearCookies();
    await p.goto(`${server.url}/dashboard/login#ak=${ROOT.accessKey}&sk=${encodeURIComponent(ROOT.secretKey)}`);
    await onDashboard(p);
    expect(await sessionCookie()).toMatch(/^root\./);
  });

  it("item 9: the sign-in page, the dashboard and /docs carry a CSP with frame-ancestors and cannot be framed", async () => {
    const session = await fetch(`${server.url}/auth/session`, {
      method: "POST",
      headers: await signRequest(ROOT, { method: "POST", url: `${server.url}/auth/session` }),
    });
    const { token } = (await session.json()) as { token: string };
    for (const pagePath of ["/dashboard/login", "/dashboard", "/docs"]) {
      const res = await fetch(server.url + pagePath, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status, pagePath).toBe(200);
      const csp = res.headers.get("content-security-policy") ?? "";
      expect(csp, pagePath).toContain("frame-ancestors 'none'");
      expect(csp, pagePath).toContain("default-src 'none'");
      expect(csp, pagePath).toMatch(/script-src 'nonce-[A-Za-z0-9+/=]{24}'/);
      expect(csp, pagePath).not.toContain("unsafe-inline");
      expect(res.headers.get("x-frame-options"), pagePath).toBe("DENY");
      expect(res.headers.get("x-content-type-options"), pagePath).toBe("nosniff");
      // Each response has its own nonce, and the page's inline tags carry it.
      const nonce = /'nonce-([^']+)'/.exec(csp)?.[1] ?? "";
      const html = await res.text();
      expect(html.match(/<(script|style)\b/g)?.length, pagePath).toBe(
        html.match(new RegExp(`<(script|style)[^>]* nonce="${nonce.replace(/[+/=]/g, "\\$&")}"`, "g"))?.length,
      );
    }
    // In a browser: the sign-in page framed by another origin does not render.
    otherPage = `<!doctype html><html><body><iframe id="f" src="${server.url}/dashboard/login"></iframe></body></html>`;
    const p = await newPage();
    await p.goto(otherUrl);
    await p.waitForLoadState("load");
    const frame = p.frames().find((f) => f !== p.mainFrame());
    expect(frame).toBeDefined();
    expect(await frame!.locator(byTestId("access-key")).count()).toBe(0);
  });

  it("item 13: an unsigned browser visit to /dashboard is sent to the sign-in page; API callers still get a JSON 401", async () => {
    await browser.context.clearCookies();
    const p = await newPage();
    const response = await p.goto(`${server.url}/dashboard`);
    expect(new URL(p.url()).pathname).toBe("/dashboard/login");
    expect(response?.status()).toBe(200);
    expect(await p.locator(byTestId("access-key")).count()).toBe(1);

    const visit = (headers: Record<string, string>) => fetch(`${server.url}/dashboard`, { redirect: "manual", headers });
    const html = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    const redirected = await visit({ accept: html });
    expect([redirected.status, redirected.headers.get("location")]).toEqual([302, "/dashboard/login"]);
    // An expired or forged session cookie is no session either.
    const expired = await visit({ accept: html, cookie: "mq_session=root.1000.AAAA" });
    expect([expired.status, expired.headers.get("location")]).toEqual([302, "/dashboard/login"]);
    for (const accept of ["*/*", "application/json"]) {
      const api = await visit({ accept });
      expect([api.status, ((await api.json()) as { code: string }).code]).toEqual([401, "UNAUTHENTICATED"]);
    }
    // Only the dashboard page redirects; the API answers JSON to a browser too.
    const apiPath = await fetch(`${server.url}/namesrv/topics`, { redirect: "manual", headers: { accept: html } });
    expect(apiPath.status).toBe(401);
    // A signed-in browser gets the dashboard itself.
    const signed = await visit({ accept: html, ...(await signRequest(ROOT, { method: "GET", url: `${server.url}/dashboard` })) });
    expect(signed.status).toBe(200);
  });
});
