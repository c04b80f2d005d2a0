/**
 * The dashboard's operator actions in headless Chromium (as dashboard.test.ts), against a real
 * server: create, update and delete a topic; reset a group's offset by time and delete a
 * group; the producer groups view; and, on a server with accounts, signing out.
 */
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect } from "vitest";
import { PullConsumer, TransactionProducer } from "../../client/index.js";
import { ROOT } from "../auth-helpers.js";
import { byTestId, launchChromium, type TestBrowser } from "../browser.js";
import { collectingConsumer } from "../consumer-helpers.js";
import { serverFixture, test as e2e } from "../fixture.js";
import { http, uniqueName, type TestServer } from "../helpers.js";

/** Every page wait and poll (a loaded machine misses expect.poll's 1 s default). */
const UI_WAIT_MS = 10_000;

// The file's server (from the fixture) has no accounts; sign-out needs a second one that has.
const test = e2e.extend("withAccounts", { scope: "file" }, serverFixture({ vars: { FLAREMQ_ACCOUNTS: JSON.stringify([{ ...ROOT, admin: true }]) } }));
const it = test;

let browser: TestBrowser;

beforeAll(async () => {
  browser = await launchChromium("ops", { viewport: { width: 1400, height: 900 } });
});

afterAll(async () => {
  await browser?.close();
});

afterEach(async () => {
  expect(await browser.closePage(), "uncaught errors in the page").toEqual([]);
});

/** A datetime-local input's value for an epoch time (local time, to the second). */
function localDateTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

describe("dashboard operations", () => {
  async function open(server: TestServer, view: string): Promise<Page> {
    const p = await browser.newPage();
    await p.goto(`${server.url}/dashboard?refresh=1000#${view}`);
    await p.waitForSelector("body[data-ready=true]");
    return p;
  }

  /** Answers the confirmation dialog; it must be open and ask about `about`. */
  async function answer(p: Page, about: string, yes: boolean): Promise<void> {
    const dialog = p.locator(`${byTestId("confirm-dialog")}[open]`);
    await dialog.waitFor();
    expect(await dialog.locator(byTestId("confirm-question")).textContent()).toContain(about);
    await dialog.locator(byTestId(yes ? "confirm-yes" : "confirm-no")).click();
    await p.locator(`${byTestId("confirm-dialog")}:not([open])`).waitFor({ state: "attached" });
  }

  it("creates a topic, updates its queues, permission and brokers, and deletes it after asking", async ({ server, admin }) => {
    const topic = uniqueName("DashOps");
    const p = await open(server, "topics");
    const form = p.locator(byTestId("topic-form"));
    await p.click(byTestId("topic-new"));
    await p.locator(`${byTestId("topic-form")}[data-ready=true]`).waitFor();
    expect(await form.getAttribute("data-mode")).toBe("create");
    // Every live broker is offered, and checked for a new topic.
    const offered = await form
      .locator(byTestId("topic-form-broker"))
      .evaluateAll((els) => els.map((el) => [(el as HTMLInputElement).value, (el as HTMLInputElement).checked]));
    expect(offered).toEqual([
      ["broker-a", true],
      ["broker-b", true],
    ]);
    await p.fill(byTestId("topic-form-name"), topic);
    await p.fill(byTestId("topic-form-read"), "2");
    await p.fill(byTestId("topic-form-write"), "3");
    await p.selectOption(byTestId("topic-form-perm"), "4");
    await p.click(byTestId("topic-form-submit"));
    await expect.poll(() => p.locator(byTestId("topics-result")).textContent(), { timeout: UI_WAIT_MS }).toBe(`saved ${topic}`);
    expect(await form.isHidden()).toBe(true);
    const row = p.locator(`[data-testid="topic-row"][data-topic="${topic}"]`);
    await row.waitFor();
    expect(await row.locator('[data-col="readQueues"]').textContent()).toBe("4");
    expect(await row.locator('[data-col="writeQueues"]').textContent()).toBe("6");
    expect(await row.locator('[data-col="perm"]').textContent()).toBe("R-");
    const created = (await admin.listTopics()).find((t) => t.topic === topic);
    expect(created?.queues.map((q) => [q.brokerName, q.readQueueNums, q.writeQueueNums, q.perm])).toEqual([
      ["broker-a", 2, 3, 4],
      ["broker-b", 2, 3, 4],
    ]);

    // Edit: the form opens on the topic's settings; the name cannot change.
    await row.locator(byTestId("topic-edit")).click();
    await p.locator(`${byTestId("topic-form")}[data-ready=true]`).waitFor();
    expect(await form.getAttribute("data-mode")).toBe("update");
    expect(await p.locator(byTestId("topic-form-name")).inputValue()).toBe(topic);
    expect(await p.locator(byTestId("topic-form-name")).getAttribute("readonly")).not.toBeNull();
    expect(await p.locator(byTestId("topic-form-read")).inputValue()).toBe("2");
    expect(await p.locator(byTestId("topic-form-perm")).inputValue()).toBe("4");
    await p.fill(byTestId("topic-form-write"), "1");
    await p.selectOption(byTestId("topic-form-perm"), "6");
    await form.locator(`${byTestId("topic-form-broker")}[data-broker="broker-b"]`).uncheck();
    await p.click(byTestId("topic-form-submit"));
    await expect.poll(() => row.locator('[data-col="brokers"]').textContent(), { timeout: UI_WAIT_MS }).toBe("broker-a");
    expect(await row.locator('[data-col="writeQueues"]').textContent()).toBe("1");
    expect(await row.locator('[data-col="perm"]').textContent()).toBe("RW");
    const updated = (await admin.listTopics()).find((t) => t.topic === topic);
    expect(updated?.queues.map((q) => [q.brokerName, q.readQueueNums, q.writeQueueNums, q.perm])).toEqual([["broker-a", 2, 1, 6]]);

    // Delete asks first; Cancel keeps the topic.
    await row.locator(byTestId("topic-delete")).click();
    await answer(p, topic, false);
    expect((await admin.listTopics()).map((t) => t.topic)).toContain(topic);
    await row.locator(byTestId("topic-delete")).click();
    await answer(p, topic, true);
    await expect.poll(() => p.locator(byTestId("topics-result")).textContent(), { timeout: UI_WAIT_MS }).toBe(`deleted ${topic}`);
    await row.waitFor({ state: "detached" });
    expect((await admin.listTopics()).map((t) => t.topic)).not.toContain(topic);
    expect(await p.locator(byTestId("topics-error")).isHidden()).toBe(true);
  });

  it("shows a topic form error inline", async ({ server }) => {
    const p = await open(server, "topics");
    await p.click(byTestId("topic-new"));
    await p.locator(`${byTestId("topic-form")}[data-ready=true]`).waitFor();
    await p.fill(byTestId("topic-form-name"), "%RETRY%not-yours");
    await p.click(byTestId("topic-form-submit"));
    await p.locator(byTestId("topic-form-error")).waitFor();
    expect(await p.locator(byTestId("topic-form-error")).textContent()).toMatch(/^SYSTEM_TOPIC_FORBIDDEN: /);
    expect(await p.locator(byTestId("topic-form")).isVisible()).toBe(true);
  });

  it("resets a group's offset on a topic to a time", async ({ server, admin, producer }) => {
    const topic = uniqueName("DashReset");
    const group = uniqueName("resetgroup");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    const mq = { topic, brokerName: "broker-a", queueId: 0 };
    const before = Date.now() - 60_000;
    for (let i = 0; i < 5; i++) await producer.send({ topic, body: `r${i}` }, { messageQueue: mq });
    await new PullConsumer({ endpoint: server.url, credentials: server.credentials, group }).updateConsumeOffset(mq, 5);

    const p = await open(server, "groups");
    await p.fill(byTestId("group-name"), group);
    await p.fill(byTestId("group-topic"), topic);
    await p.click(byTestId("group-show"));
    const lagRow = p.locator(`[data-testid="lag-row"][data-queue="${topic}/broker-a:0"]`);
    await expect.poll(() => lagRow.locator('[data-col="consumerOffset"]').textContent(), { timeout: UI_WAIT_MS }).toBe("5");
    expect(await p.locator(byTestId("group-reset-topic")).inputValue()).toBe(topic);
    await p.fill(byTestId("group-reset-time"), localDateTime(before));
    await p.click(byTestId("group-reset-submit"));
    await answer(p, `${group} on ${topic}`, true);
    await expect.poll(() => p.locator(byTestId("group-op-result")).textContent(), { timeout: UI_WAIT_MS }).toBe(`reset 1 queue of ${topic}`);
    expect(JSON.parse((await p.locator(byTestId("group-op-result")).getAttribute("data-offsets")) ?? "")).toEqual([[`${topic}/broker-a:0`, 0]]);
    await expect.poll(() => lagRow.locator('[data-col="consumerOffset"]').textContent(), { timeout: UI_WAIT_MS }).toBe("0");
    expect(await p.locator(byTestId("group-total-lag")).textContent()).toBe("5");
    const progress = await admin.consumerProgress(group, topic);
    expect(progress.queues.map((q) => q.consumerOffset)).toEqual([0]);
  });

  it("shows a group's push subscription with its lag, and pauses and resumes it", async ({ server, admin, producer }) => {
    const topic = uniqueName("DashPush");
    const group = uniqueName("pushgroup");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    // Paused, to an address nothing listens on: the lag stays while the page is looked at.
    await admin.putPushSubscription(group, { topic, target: { type: "webhook", url: "http://127.0.0.1:9/hook" }, paused: true });
    await producer.send({ topic, body: "waiting" });
    const p = await open(server, "groups");
    await p.fill(byTestId("group-name"), group);
    await p.fill(byTestId("group-topic"), topic);
    await p.click(byTestId("group-show"));
    const state = p.locator(byTestId("push-state"));
    await expect.poll(() => state.getAttribute("data-lag"), { timeout: UI_WAIT_MS }).toBe("1");
    expect(await state.getAttribute("data-paused")).toBe("true");
    expect(await p.locator(byTestId("push-summary")).textContent()).toContain(`${topic} [TAG *] → webhook http://127.0.0.1:9/hook`);
    expect(await p.locator(byTestId("push-row")).count()).toBe(1);
    expect(await p.locator(byTestId("push-toggle")).textContent()).toBe("Resume");
    await p.click(byTestId("push-toggle"));
    await expect.poll(() => state.getAttribute("data-paused"), { timeout: UI_WAIT_MS }).toBe("false");
    expect((await admin.getPushSubscription(group)).subscription.paused).toBe(false);
    await p.click(byTestId("push-toggle"));
    await expect.poll(() => state.getAttribute("data-paused"), { timeout: UI_WAIT_MS }).toBe("true");
    expect((await admin.getPushSubscription(group)).subscription.paused).toBe(true);
  });

  it("refuses to delete a group with a live member, then deletes it with its retry topic once the member is gone", async ({ server, admin }) => {
    const topic = uniqueName("DashDelGroup");
    const group = uniqueName("delgroup");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    const { consumer } = await collectingConsumer(server, group, topic); // a live member
    const p = await open(server, "groups");
    const row = p.locator(`[data-testid="group-row"][data-group="${group}"]`);
    await row.waitFor();
    await row.click();
    await p.locator(`${byTestId("group-detail")}[data-group="${group}"]`).waitFor();
    await p.click(byTestId("group-delete"));
    await answer(p, group, true);
    await expect.poll(() => p.locator(byTestId("group-error")).textContent(), { timeout: UI_WAIT_MS }).toMatch(/^GROUP_HAS_MEMBERS: /);
    // The refusal stays on screen through the next refreshes.
    const refreshes = async () => Number(await p.locator(byTestId("refresh-status")).getAttribute("data-refreshes"));
    const seen = await refreshes();
    await expect.poll(refreshes, { timeout: UI_WAIT_MS }).toBeGreaterThanOrEqual(seen + 2);
    expect(await p.locator(byTestId("group-error")).textContent()).toMatch(/^GROUP_HAS_MEMBERS: /);
    expect((await admin.listGroups()).map((g) => g.group)).toContain(group);

    await consumer.shutdown();
    await p.click(byTestId("group-delete"));
    await answer(p, group, true);
    await expect.poll(() => p.locator(byTestId("groups-result")).textContent(), { timeout: UI_WAIT_MS }).toBe(`deleted ${group} with %RETRY%${group}`);
    expect(await p.locator(byTestId("group-detail")).isHidden()).toBe(true);
    await row.waitFor({ state: "detached" });
    expect((await admin.listGroups()).map((g) => g.group)).not.toContain(group);
    expect((await admin.listTopics()).map((t) => t.topic)).not.toContain(`%RETRY%${group}`);
  });

  it("lists producer groups with their polls and webhooks, and a group's pending transactions", async ({ server, admin }) => {
    const topic = uniqueName("DashProd");
    const polling = uniqueName("pollpg");
    const hooked = uniqueName("hookpg");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    await admin.setProducerWebhook(hooked, "https://example.com/flaremq-checks");
    const producer = new TransactionProducer({
      endpoint: server.url,
      credentials: server.credentials,
      group: polling,
      checkPollWaitMs: 1000,
      transactionListener: { executeLocalTransaction: () => "UNKNOW", checkLocalTransaction: () => "UNKNOW" },
    });
    await producer.start();
    try {
      const half = await producer.sendMessageInTransaction({ topic, body: "undecided" });
      // Another group's half message in the same topic, to be filtered out.
      const other = await http(`${server.url}/brokers/broker-a/topics/${topic}/queues/0/messages`, {
        method: "POST",
        body: { messages: [{ body: "other", bodyEncoding: "utf8" }], transaction: { producerGroup: "otherPg" } },
      });
      expect(other.status).toBe(200);

      const p = await open(server, "producers");
      const row = (group: string) => p.locator(`[data-testid="producer-row"][data-group="${group}"]`);
      await row(polling).waitFor();
      await p.locator(`[data-testid="producer-row"][data-group="${polling}"][data-loaded="true"]`).waitFor();
      expect(await row(polling).locator('[data-col="webhook"]').textContent()).toBe("—");
      expect(await row(polling).locator('[data-col="lastPoll"]').textContent()).toMatch(/^\d+ s ago$/);
      // A check-back of the undecided transaction may be on its way to the poller: a count, not a fixed one.
      expect(await row(polling).locator('[data-col="pendingChecks"]').textContent()).toMatch(/^\d+$/);
      await p.locator(`[data-testid="producer-row"][data-group="${hooked}"][data-loaded="true"]`).waitFor();
      expect(await row(hooked).locator('[data-col="webhook"]').textContent()).toBe("https://example.com/flaremq-checks");
      expect(await row(hooked).locator('[data-col="lastPoll"]').textContent()).toBe("—");

      await row(polling).locator(byTestId("producer-transactions")).click();
      await p.locator(`${byTestId("view-transactions")}:not([hidden])`).waitFor();
      expect(await p.locator(byTestId("tx-group")).inputValue()).toBe(polling);
      await p.fill(byTestId("tx-topic"), topic);
      await p.click(byTestId("tx-load"));
      await p.locator(`${byTestId("tx-summary")}[data-done="true"]`).waitFor();
      const ids = await p.locator(byTestId("tx-row")).evaluateAll((els) => els.map((el) => el.getAttribute("data-transaction-id")));
      expect(ids).toEqual([half.transactionId]);
      expect(await p.locator(byTestId("tx-summary")).textContent()).toBe(`1 pending transaction of ${polling} · 1/1 queues answered`);
    } finally {
      await producer.shutdown();
    }
  });
});

describe("dashboard sign-out", () => {
  const sessionCookie = async (server: TestServer) => (await browser.context.cookies(server.url)).find((c) => c.name === "mq_session");

  it("shows the signed-in account and signs out to the sign-in page, forgetting the session", async ({ withAccounts: server }) => {
    await browser.context.clearCookies();
    const p = await browser.newPage();
    await p.goto(`${server.url}/dashboard/login`);
    await p.fill(byTestId("access-key"), ROOT.accessKey);
    await p.fill(byTestId("secret-key"), ROOT.secretKey);
    await p.click(byTestId("sign-in"));
    await p.waitForURL((u) => u.pathname === "/dashboard");
    await p.waitForSelector("body[data-ready=true]");
    await p.locator(`${byTestId("session")}[data-state="signed-in"]`).waitFor();
    expect(await p.locator(byTestId("session-account")).textContent()).toBe("root");
    expect(await sessionCookie(server)).toBeDefined();

    await p.click(byTestId("sign-out"));
    await p.waitForURL((u) => u.pathname === "/dashboard/login");
    expect(await sessionCookie(server)).toBeUndefined();
    // Without the cookie the dashboard sends the browser to sign in again.
    await p.goto(`${server.url}/dashboard`);
    expect(new URL(p.url()).pathname).toBe("/dashboard/login");
  });

  it("hides the account and sign-out on a server without accounts", async ({ server: open }) => {
    const p = await browser.newPage();
    await p.goto(`${open.url}/dashboard`);
    await p.waitForSelector("body[data-ready=true]");
    await p.locator(`${byTestId("session")}[data-state="none"]`).waitFor({ state: "attached" });
    expect(await p.locator(byTestId("session")).isHidden()).toBe(true);
  });
});
