/**
 * The dashboard page's entry (bundled into GET /dashboard/app.js): builds the header, the tabs
 * and every view, and refreshes the visible view on a timer. Every call goes through the
 * project's own client (Admin, Producer) to this origin, signed in by the session cookie.
 */
import { Admin } from "../../client/admin.js";
import { Producer } from "../../client/producer.js";
import { ConfirmDialog } from "./confirm.js";
import type { DashboardContext, Navigate, View } from "./context.js";
import { h } from "./dom.js";
import { fmtTime } from "./format.js";
import { SessionControl } from "./session.js";
import { ClusterView } from "./views/cluster.js";
import { DlqView } from "./views/dlq.js";
import { GroupsView } from "./views/groups.js";
import { ProducersView } from "./views/producers.js";
import { SearchView } from "./views/search.js";
import { SendView } from "./views/send.js";
import { TopicsView } from "./views/topics.js";
import { TransactionsView } from "./views/transactions.js";

/** One call's timeout: views ask for a whole cluster's state, which a busy server answers slowly. */
const REQUEST_TIMEOUT_MS = 30_000;
/** The Send view's producer group (a plain send names none on the wire). */
const PRODUCER_GROUP = "flaremq_dashboard";

const params = new URLSearchParams(location.search);
const refreshMs = Math.max(500, Number(params.get("refresh")) || 5000);
// Unsigned: the session cookie signs every call in (credentials: null never signs).
const client = { endpoint: location.origin, credentials: null, requestTimeoutMs: REQUEST_TIMEOUT_MS };
const admin = new Admin(client);
const producer = new Producer({ ...client, group: PRODUCER_GROUP, sendMsgTimeoutMs: REQUEST_TIMEOUT_MS });
await producer.start();

const dialog = new ConfirmDialog();
const topicList = h("datalist", { id: "topic-list" });
const groupList = h("datalist", { id: "group-list" });

const go: Navigate = {
  send: (topic) => {
    send.prefillTopic(topic);
    showView("send");
  },
  search: (topic) => {
    search.prefillTopic(topic);
    showView("search");
  },
  findByOffsetMsgId: (offsetMsgId) => {
    showView("search");
    search.findByOffsetMsgId(offsetMsgId);
  },
  transactions: (topic, producerGroup) => {
    showView("transactions");
    transactions.open(topic, producerGroup);
  },
};
const ctx: DashboardContext = { admin, producer, refreshMs, topicList, groupList, confirm: (q, action) => dialog.ask(q, action), go };
const search = new SearchView(ctx);
const send = new SendView(ctx);
const transactions = new TransactionsView(ctx);
const views: readonly View[] = [
  new TopicsView(ctx),
  new GroupsView(ctx),
  new ProducersView(ctx),
  new DlqView(ctx),
  search,
  send,
  transactions,
  new ClusterView(ctx),
];

const tabs = views.map((v) =>
  h("button", { type: "button", role: "tab", "data-tab": v.name, "data-testid": `tab-${v.name}`, onclick: () => showView(v.name) }, v.label),
);
const autoRefresh = h("input", { type: "checkbox", id: "auto-refresh", "data-testid": "auto-refresh", checked: true });
const refreshStatus = h("span", { id: "refresh-status", "data-testid": "refresh-status" });
const session = new SessionControl(admin);
document.body.append(
  h(
    "header",
    null,
    h("h1", null, "flaremq"),
    h("nav", { role: "tablist", "aria-label": "views" }, ...tabs),
    h("label", { class: "muted" }, autoRefresh, " auto refresh"),
    refreshStatus,
    session.element,
  ),
  topicList,
  groupList,
  h("main", null, ...views.map((v) => v.section)),
  dialog.element,
);

let active: View = views[0]!;
const refreshing = { running: false, again: false };

function showView(name: string): void {
  active = views.find((v) => v.name === name) ?? views[0]!;
  for (const v of views) v.section.hidden = v !== active;
  for (const tab of tabs) tab.setAttribute("aria-selected", String(tab.dataset.tab === active.name));
  if (location.hash !== `#${active.name}`) history.replaceState(null, "", `#${active.name}`);
  void refreshActive();
}

/** Refreshes the visible view; a call made while one runs is run once after it. */
async function refreshActive(): Promise<void> {
  if (refreshing.running) {
    refreshing.again = true;
    return;
  }
  refreshing.running = true;
  try {
    do {
      refreshing.again = false;
      await active.refresh?.();
    } while (refreshing.again);
    refreshStatus.textContent = `updated ${fmtTime(Date.now()).slice(11)} · every ${refreshMs / 1000} s`;
    refreshStatus.dataset.refreshes = String(Number(refreshStatus.dataset.refreshes ?? 0) + 1);
  } finally {
    refreshing.running = false;
  }
}

function scheduleRefresh(): void {
  setTimeout(() => {
    void (async () => {
      if (autoRefresh.checked && !document.hidden) await refreshActive();
      scheduleRefresh();
    })();
  }, refreshMs);
}

window.addEventListener("hashchange", () => showView(location.hash.slice(1)));
showView(location.hash.slice(1) || "topics");
scheduleRefresh();
void session.load();
document.body.dataset.ready = "true";
