/**
 * The web dashboard at GET /dashboard, driven in headless Chromium (Debian's /usr/bin/chromium,
 * through playwright-core) against a real server with data made by the real client.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect } from "vitest";
import { Producer, PullConsumer, type Admin } from "../../client/index.js";
import { ROOT } from "../../scripts/build.js";
import { byTestId, launchChromium, type TestBrowser } from "../browser.js";
import { collectingConsumer } from "../consumer-helpers.js";
import { test, it } from "../fixture.js";
import { http, uniqueName, type TestServer } from "../helpers.js";

/** The dashboard refreshes every second here (5 s by default). */
const REFRESH = "?refresh=1000";
/** How long a UI wait may take: every page wait and poll uses it (expect.poll defaults to 1 s,
 * which a loaded machine missed while the page itself was still waiting). */
const UI_WAIT_MS = 10_000;

let server: TestServer;
let admin: Admin;
let browser: TestBrowser;

// The browser and page are shared by the file's tests, as the server is (from the fixture).
test.beforeAll(async ({ server: fileServer, admin: fileAdmin }) => {
  server = fileServer;
  admin = fileAdmin;
  browser = await launchChromium("dashboard", { viewport: { width: 1400, height: 900 } });
});

afterAll(async () => {
  await browser?.close();
});

async function open(hash: string): Promise<Page> {
  const p = await browser.newPage();
  await p.goto(`${server.url}/dashboard${REFRESH}#${hash}`);
  await p.waitForSelector("body[data-ready=true]");
  return p;
}

afterEach(async () => {
  expect(await browser.closePage(), "uncaught errors in the page").toEqual([]);
});

describe("dashboard", () => {
  it("is served by the Worker as no-store HTML that only talks to its own origin", async () => {
    const res = await fetch(`${server.url}/dashboard`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(res.headers.get("cache-control")).toBe("no-store");
    expect(res.headers.get("content-security-policy")).toContain("connect-src 'self'");
    const html = await res.text();
    expect(html).toContain('<script type="module"');
    expect(html).not.toMatch(/https?:\/\//); // nothing from the network
  });

  it("renders a 64-queue topic's row within a few seconds, then its status and message rate", async () => {
    const topic = uniqueName("Dash64");
    await admin.createTopic(topic, { queueNums: 32 }); // 32 per broker, 64 in all
    const producer = new Producer({ endpoint: server.url, credentials: server.credentials, group: uniqueName("pg") });
    await producer.start();
    await Promise.all(Array.from({ length: 10 }, (_, i) => producer.send({ topic, body: `m${i}` })));

    const started = Date.now();
    const p = await open("topics");
    const row = p.locator(`[data-testid="topic-row"][data-topic="${topic}"]`);
    await row.waitFor({ timeout: 5_000 });
    expect(await row.locator('[data-col="readQueues"]').textContent()).toBe("64");
    expect(await row.locator('[data-col="writeQueues"]').textContent()).toBe("64");
    // Status of all 64 queues in one request (GET /topics/:topic/status).
    await p.locator(`[data-testid="topic-row"][data-topic="${topic}"][data-loaded="true"]`).waitFor({ timeout: 5_000 });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await row.locator('[data-col="messages"]').textContent()).toBe("10");
    expect(await row.locator('[data-col="maxOffset"]').textContent()).toBe("10");

    // Messages sent between refreshes show as a rate.
    await p.locator(`[data-testid="topic-row"][data-topic="${topic}"] [data-col="rate"][data-rate]`).waitFor();
    await Promise.all(Array.from({ length: 40 }, (_, i) => producer.send({ topic, body: `n${i}` })));
    await expect
      .poll(async () => Number(await row.locator('[data-col="rate"]').getAttribute("data-rate")), { timeout: 10_000, interval: 200 })
      .toBeGreaterThan(0);
    await expect.poll(() => row.locator('[data-col="messages"]').textContent(), { timeout: 5_000 }).toBe("50");
    await producer.shutdown();
  });

  it("charts the busy topics' message rates over time on the home view, one line per topic", async () => {
    const topics = [uniqueName("DashRateA"), uniqueName("DashRateB")];
    for (const topic of topics) await admin.createTopic(topic, { queueNums: 2 });
    const producer = new Producer({ endpoint: server.url, credentials: server.credentials, group: uniqueName("pg") });
    await producer.start();
    const p = await open("topics");
    const pointsOf = async (topic: string): Promise<number> => {
      const line = p.locator(`${byTestId("rate-line")}[data-topic="${topic}"]`);
      if ((await line.count()) === 0) return 0;
      return ((await line.getAttribute("points")) ?? "").split(" ").filter(Boolean).length;
    };
    // Messages keep arriving while the page samples (every second here): each topic's line grows.
    let points = [0, 0];
    for (const deadline = Date.now() + 30_000; Date.now() < deadline && !points.every((n) => n >= 3);) {
      await Promise.all(topics.map((topic) => producer.send({ topic, body: "tick" })));
      await p.waitForTimeout(250);
      points = await Promise.all(topics.map(pointsOf));
    }
    expect(
      points.every((n) => n >= 3),
      `points per line: ${points.join(", ")}`,
    ).toBe(true);
    for (const topic of topics) {
      const item = p.locator(`${byTestId("rate-legend-item")}[data-topic="${topic}"]`);
      expect(await item.textContent()).toMatch(new RegExp(`^${topic} \\d+\\.\\d/s$`));
    }
    expect(await p.locator(byTestId("rate-chart-caption")).textContent()).toMatch(/^over \d+ s · max \d+\.\d msgs\/s/);
    await producer.shutdown();
    await mkdir(path.join(ROOT, "test-results"), { recursive: true });
    await p
      .locator(byTestId("rate-chart"))
      .locator("..")
      .screenshot({ path: path.join(ROOT, "test-results", "dashboard-rates.png") });
  });

  describe("message search", () => {
    const key = `order-${Date.now().toString(36)}`;
    let topic: string;
    let sent: { msgId: string; offsetMsgId: string };

    beforeAll(async () => {
      topic = uniqueName("DashSearch");
      await admin.createTopic(topic, { queueNums: 2 });
      const producer = new Producer({ endpoint: server.url, credentials: server.credentials, group: uniqueName("pg") });
      await producer.start();
      await producer.send({ topic, keys: ["other-key"], body: "not this one" });
      sent = await producer.send({ topic, tags: "TagA", keys: [key], body: "hello dashboard: grüße ✓" });
      await producer.shutdown();
    });

    it("finds a sent message by offsetMsgId and shows its UTF-8 body", async () => {
      const p = await open("search");
      await p.fill(byTestId("search-offset-id"), sent.offsetMsgId);
      await p.click(byTestId("search-offset-submit"));
      const row = p.locator(`[data-testid="search-row"][data-offset-msg-id="${sent.offsetMsgId}"]`);
      await row.waitFor();
      expect(await row.locator('[data-col="body"]').textContent()).toBe("hello dashboard: grüße ✓");
      expect(await p.locator(byTestId("message-detail")).textContent()).toContain(key);
    });

    it("finds a sent message by topic and key, with a time range", async () => {
      const p = await open("search");
      await p.fill(byTestId("search-key-topic"), topic);
      await p.fill(byTestId("search-key"), key);
      await p.fill(byTestId("search-key-begin"), localDateTime(Date.now() - 3_600_000));
      await p.fill(byTestId("search-key-end"), localDateTime(Date.now() + 3_600_000));
      await p.click(byTestId("search-key-submit"));
      await p.locator(`[data-testid="search-row"][data-offset-msg-id="${sent.offsetMsgId}"]`).waitFor();
      expect(await p.locator(byTestId("search-row")).count()).toBe(1);
      expect(await p.isHidden(byTestId("search-error"))).toBe(true);
    });

    it("finds a sent message by topic and msgId", async () => {
      const p = await open("search");
      await p.fill(byTestId("search-msgid-topic"), topic);
      await p.fill(byTestId("search-msgid-id"), sent.msgId);
      await p.click(byTestId("search-msgid-submit"));
      await p.locator(`[data-testid="search-row"][data-msg-id="${sent.msgId}"]`).waitFor();
      expect(await p.isHidden(byTestId("search-error"))).toBe(true);
    });

    it("shows an API error inline", async () => {
      const p = await open("search");
      await p.fill(byTestId("search-offset-id"), "not-an-id");
      await p.click(byTestId("search-offset-submit"));
      const error = p.locator(byTestId("search-error"));
      await error.waitFor();
      expect(await error.textContent()).toMatch(/^[A-Z_]+: /);
      expect(await p.locator(byTestId("search-row")).count()).toBe(0);
    });
  });

  it("shows the lag of a stalled group per queue, with a chart over time", async () => {
    const topic = uniqueName("DashLag");
    const group = uniqueName("stalled");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    const mq = { topic, brokerName: "broker-a", queueId: 0 };
    const producer = new Producer({ endpoint: server.url, credentials: server.credentials, group: uniqueName("pg") });
    await producer.start();
    for (let i = 0; i < 5; i++) await producer.send({ topic, body: `a${i}` }, { messageQueue: mq });
    const consumer = new PullConsumer({ endpoint: server.url, credentials: server.credentials, group });
    await consumer.updateConsumeOffset(mq, 2);
    for (let i = 0; i < 3; i++) await producer.send({ topic, body: `b${i}` }, { messageQueue: mq });
    await producer.shutdown();

    const p = await open("groups");
    await p.fill(byTestId("group-name"), group);
    await p.fill(byTestId("group-topic"), topic);
    await p.click(byTestId("group-show"));
    await expect.poll(() => p.locator(byTestId("group-total-lag")).textContent(), { timeout: UI_WAIT_MS }).toBe("6");
    const lagRow = p.locator(`[data-testid="lag-row"][data-queue="${topic}/broker-a:0"]`);
    expect(await lagRow.locator('[data-col="lag"]').textContent()).toBe("6");
    expect(await lagRow.locator('[data-col="consumerOffset"]').textContent()).toBe("2");
    expect(await lagRow.locator('[data-col="brokerOffset"]').textContent()).toBe("8");
    // Samples accumulate while the page is open (one per refresh).
    await expect.poll(async () => Number(await p.locator(byTestId("lag-chart")).getAttribute("data-samples")), { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    const points = (await p.locator(`${byTestId("lag-chart")} polyline`).getAttribute("points")) ?? "";
    expect(points.split(" ").length).toBeGreaterThanOrEqual(2);
  });

  it("lists consumer groups and shows a live group's members", async () => {
    const topic = uniqueName("DashGroups");
    const group = uniqueName("live");
    await admin.createTopic(topic, { queueNums: 2, brokers: ["broker-a"] });
    await collectingConsumer(server, group, topic); // a live member
    const p = await open("groups");
    const row = p.locator(`[data-testid="group-row"][data-group="${group}"]`);
    await row.waitFor();
    await expect.poll(() => row.locator('[data-col="members"]').textContent(), { timeout: UI_WAIT_MS }).toBe("1");
    await row.click();
    await p.locator(`${byTestId("group-detail")}[data-group="${group}"]`).waitFor();
    await p.locator(byTestId("member-row")).first().waitFor();
    expect(await p.locator(byTestId("member-row")).count()).toBe(1);
    // Its topic's two queues (the group also reads its %RETRY% topic).
    expect(await p.locator(`[data-testid="lag-row"][data-queue^="${topic}/"]`).count()).toBe(2);
  });

  it("sends test messages round-robin over the topic's write queues", async () => {
    const topic = uniqueName("DashSend");
    await admin.createTopic(topic, { queueNums: 2 }); // 4 write queues
    const p = await open("send");
    await p.fill(byTestId("send-topic"), topic);
    await p.fill(byTestId("send-tags"), "TagT");
    await p.fill(byTestId("send-keys"), "k1 k2");
    await p.fill(byTestId("send-body"), "from the dashboard");
    for (let i = 1; i <= 4; i++) {
      await p.click(byTestId("send-submit"));
      await expect.poll(() => p.locator(byTestId("send-history-item")).count(), { timeout: UI_WAIT_MS }).toBe(i);
    }
    const items = p.locator(byTestId("send-history-item"));
    const queues = await items.evaluateAll((els) => els.map((el) => el.getAttribute("data-queue")));
    expect(new Set(queues).size).toBe(4);
    const offsetMsgId = (await items.first().getAttribute("data-offset-msg-id")) ?? "";
    const message = await admin.viewMessage(offsetMsgId);
    expect(new TextDecoder().decode(message.body)).toBe("from the dashboard");
    expect(message.tags).toBe("TagT");
    expect(message.keys).toEqual(["k1", "k2"]);
  });

  it("shows a send error inline", async () => {
    const p = await open("send");
    await p.fill(byTestId("send-topic"), uniqueName("NoSuchTopic"));
    await p.fill(byTestId("send-body"), "x");
    await p.click(byTestId("send-submit"));
    await p.locator(byTestId("send-error")).waitFor();
    expect(await p.locator(byTestId("send-error")).textContent()).toContain("TOPIC_NOT_EXIST");
  });

  it("browses a group's dead-letter queue and resends from it", async () => {
    const topic = uniqueName("DashDlq");
    const group = uniqueName("dlqgroup");
    await admin.createTopic(topic, { queueNums: 1, brokers: ["broker-a"] });
    const producer = new Producer({ endpoint: server.url, credentials: server.credentials, group: uniqueName("pg") });
    await producer.start();
    const sent = await producer.send({ topic, keys: ["dead-1"], body: "dead letter" });
    await producer.shutdown();
    const back = await http(`${server.url}/groups/${group}/sendback`, {
      method: "POST",
      body: { messageQueue: sent.messageQueue, queueOffset: sent.queueOffset, delayLevel: -1 },
    });
    expect(back.body.destination).toBe("DLQ");

    const p = await open("dlq");
    await p.fill(byTestId("dlq-group"), group);
    await p.click(byTestId("dlq-load"));
    const row = p.locator(byTestId("dlq-row"));
    await row.first().waitFor();
    expect(await row.count()).toBe(1);
    expect(await row.locator('[data-col="body"]').textContent()).toBe("dead letter");
    await row.locator("input[type=checkbox]").check();
    await p.click(byTestId("dlq-resend"));
    await expect.poll(() => p.locator(byTestId("dlq-resend-result")).textContent(), { timeout: UI_WAIT_MS }).toBe("resent 1");
    const stats = await admin.queueStats(sent.messageQueue);
    expect(stats.maxOffset).toBe(2); // the original and the resent copy
  });

  it("lists a topic's pending transactions from all its queues", async () => {
    const topic = uniqueName("DashTx");
    await admin.createTopic(topic, { queueNums: 4 });
    const ids: string[] = [];
    for (const [broker, queueId] of [
      ["broker-a", 1],
      ["broker-b", 3],
    ] as const) {
      const r = await http(`${server.url}/brokers/${broker}/topics/${topic}/queues/${queueId}/messages`, {
        method: "POST",
        body: { messages: [{ body: "half", bodyEncoding: "utf8" }], transaction: { producerGroup: "dashPg" } },
      });
      expect(r.status).toBe(200);
      ids.push(r.body.transactionId as string);
    }
    const p = await open("transactions");
    await p.fill(byTestId("tx-topic"), topic);
    await p.selectOption(byTestId("tx-state"), "PENDING");
    await p.click(byTestId("tx-load"));
    await p.locator(`${byTestId("tx-summary")}[data-done="true"]`).waitFor();
    const rows = await p.locator(byTestId("tx-row")).evaluateAll((els) => els.map((el) => el.getAttribute("data-transaction-id")));
    expect(rows.sort()).toEqual([...ids].sort());
    expect(await p.locator(byTestId("tx-summary")).textContent()).toContain("8/8 queues answered");
  });

  it("lists the cluster's brokers with roles, heartbeats and drained state, and its NameServers", async () => {
    const p = await open("cluster");
    await p.locator(byTestId("cluster-table")).waitFor();
    const member = (broker: string, id: number) => p.locator(`[data-testid="cluster-row"][data-broker="${broker}"][data-broker-id="${id}"]`);
    const cell = (broker: string, id: number, col: string) => member(broker, id).locator(`[data-col="${col}"]`);

    await member("broker-a", 0).waitFor();
    expect(await cell("broker-a", 0, "role").textContent()).toBe("ASYNC_MASTER");
    expect(await cell("broker-a", 0, "state").textContent()).toBe("alive");
    expect(await cell("broker-a", 0, "perm").textContent()).toBe("rw");
    expect(await cell("broker-a", 0, "lag").textContent()).toBe("-");
    expect(await cell("broker-a", 0, "heartbeat").textContent()).toMatch(/^\d+ s$/);
    expect(await cell("broker-a", 0, "topics").textContent()).toMatch(/^\d+$/);
    await member("broker-a", 1).waitFor();
    expect(await cell("broker-a", 1, "role").textContent()).toBe("SLAVE");
    expect(await cell("broker-a", 1, "lag").textContent()).toMatch(/^(\d[\d,]*|unknown)$/);
    await p.locator(byTestId("nameserver")).first().waitFor();
    const cluster = await admin.clusterInfo();
    const nameServers = await p.locator(byTestId("nameserver")).evaluateAll((els) => els.map((el) => el.textContent));
    expect(nameServers).toEqual(cluster.nameServers);

    await member("broker-b", 0).waitFor();
    expect(await cell("broker-b", 0, "perm").textContent()).toBe("rw");
    await admin.wipeWritePerm("broker-b");
    try {
      // The next refresh (every second here) shows the drain.
      await expect.poll(() => cell("broker-b", 0, "perm").textContent(), { timeout: 10_000 }).toBe("r (drained)");
      expect(await cell("broker-a", 0, "perm").textContent()).toBe("rw");
    } finally {
      await admin.addWritePerm("broker-b");
    }
    await expect.poll(() => cell("broker-b", 0, "perm").textContent(), { timeout: 10_000 }).toBe("rw");
    await mkdir(path.join(ROOT, "test-results"), { recursive: true });
    await p.screenshot({ path: path.join(ROOT, "test-results", "dashboard-cluster.png"), fullPage: true });
  });

  it("saves a screenshot of the topics view", async () => {
    const p = await open("topics");
    await p
      .locator(`${byTestId("topic-row")}:not([hidden])`)
      .first()
      .waitFor();
    await p.waitForTimeout(1_500); // statuses and a rate sample
    await mkdir(path.join(ROOT, "test-results"), { recursive: true });
    await p.screenshot({ path: path.join(ROOT, "test-results", "dashboard.png"), fullPage: true });
  });
});

/** A time as a datetime-local input takes it (local time, seconds precision). */
function localDateTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
