/**
 * Topics: every topic with its queues, permission, message count, send rate, last store and
 * storage, refreshed on the page's timer, and a chart of the busiest topics' rates over the time
 * the page has been open; create, update and delete a topic; jump to sending,
 * searching or its transactions. Rows stay in place across refreshes (moved, not rebuilt), and
 * each topic's status arrives on its own (one request per topic, a few at a time).
 */
import type { Admin, TopicConfig } from "../../../client/index.js";
import { isMQError } from "../../../protocol/errors.js";
import type { DashboardContext, View } from "../context.js";
import { clearError, errorBox, h, setDatalist, showError, table } from "../dom.js";
import { byKey, errorText, fmtAgo, fmtBytes, fmtInt, fmtTime, isSystemTopic, permText } from "../format.js";
import { LagHistory } from "../lag-history.js";
import { forEachLimited, VIEW_CONCURRENCY } from "../pool.js";
import { RateChart } from "./rate-chart.js";
import { TopicForm } from "./topic-form.js";

const COLUMNS = ["brokers", "readQueues", "writeQueues", "perm", "messages", "maxOffset", "rate", "lastStore", "storage"] as const;
const NUMERIC: ReadonlySet<string> = new Set(["readQueues", "writeQueues", "messages", "maxOffset", "rate", "storage"]);
type Column = (typeof COLUMNS)[number] | "error";
type TopicStatus = Awaited<ReturnType<Admin["topicStatus"]>>;

interface TopicRow {
  topic: string;
  config: TopicConfig;
  tr: HTMLTableRowElement;
  cells: Record<Column, HTMLTableCellElement>;
  /** The previous status: summed max offset and when it was read (performance.now()), for the rate. */
  prev: { sum: number; at: number } | null;
}

export class TopicsView implements View {
  readonly name = "topics";
  readonly label = "Topics";
  readonly section: HTMLElement;
  private readonly rows = new Map<string, TopicRow>();
  private readonly filter = h("input", { "data-testid": "topics-filter", type: "search", placeholder: "filter topics", "aria-label": "filter topics" });
  private readonly system = h("input", { type: "checkbox", "data-testid": "topics-system" });
  private readonly count = h("span", { class: "muted", "data-testid": "topics-count" });
  private readonly result = h("span", { class: "ok", "data-testid": "topics-result" });
  private readonly error = errorBox("topics-error");
  private readonly body = h("tbody");
  private readonly form: TopicForm;
  /** Each topic's rate at each refresh (LagHistory keeps any sampled number: here msgs/s). */
  private readonly rates: LagHistory;
  private readonly rateChart = new RateChart();

  constructor(private readonly ctx: DashboardContext) {
    // A manual Refresh right after the timer's replaces that sample rather than adding one.
    this.rates = new LagHistory({ mergeWithinMs: ctx.refreshMs / 2 });
    this.form = new TopicForm(ctx, (config) => {
      this.result.textContent = `saved ${config.topic}`;
      void this.refresh();
    });
    this.filter.addEventListener("input", () => this.applyFilter());
    this.system.addEventListener("change", () => {
      this.applyFilter();
      void this.refresh();
    });
    const headers = ["Topic", "Brokers", "Read queues", "Write queues", "Perm", "Messages", "Max offset", "Rate msgs/s", "Last store", "Storage", "", ""];
    this.section = h(
      "section",
      { "data-view": this.name, "data-testid": "view-topics" },
      h(
        "div",
        { class: "bar" },
        this.filter,
        h("label", null, this.system, " retry and DLQ topics"),
        h("button", { type: "button", "data-testid": "topics-refresh", onclick: () => void this.refresh() }, "Refresh"),
        h("button", { type: "button", "data-testid": "topic-new", onclick: () => void this.form.open() }, "New topic"),
        this.count,
        this.result,
      ),
      this.form.element,
      this.error,
      this.rateChart.element,
      table("topics-table", headers, this.body, ["Read queues", "Write queues", "Messages", "Max offset", "Rate msgs/s", "Storage"]),
    );
  }

  async refresh(): Promise<void> {
    let list: TopicConfig[];
    try {
      list = await this.ctx.admin.listTopics();
      clearError(this.error);
    } catch (e) {
      showError(this.error, e);
      return;
    }
    list.sort(byKey((t) => t.topic));
    setDatalist(
      this.ctx.topicList,
      list.map((t) => t.topic),
    );
    const seen = new Set<string>();
    for (const config of list) {
      seen.add(config.topic);
      let row = this.rows.get(config.topic);
      if (!row) {
        row = this.makeRow(config);
        this.rows.set(config.topic, row);
      }
      row.config = config;
      const { cells } = row;
      cells.brokers.textContent = config.queues.map((q) => q.brokerName).join(", ");
      cells.readQueues.textContent = String(config.queues.reduce((n, q) => n + q.readQueueNums, 0));
      cells.writeQueues.textContent = String(config.queues.reduce((n, q) => n + q.writeQueueNums, 0));
      cells.perm.textContent = [...new Set(config.queues.map((q) => permText(q.perm)))].join(" ");
      this.body.append(row.tr); // keeps the sorted order; rows already there are moved, not rebuilt
    }
    for (const [topic, row] of this.rows) {
      if (seen.has(topic)) continue;
      row.tr.remove();
      this.rows.delete(topic);
    }
    this.applyFilter();
    // Rows are on screen now; statuses fill them in as they arrive, one request per topic.
    const visible = list.map((config) => this.rows.get(config.topic)!).filter((row) => !row.tr.hidden);
    await forEachLimited(visible, VIEW_CONCURRENCY, (row) => this.refreshStatus(row));
    this.rateChart.render(visible.map((row) => ({ key: row.topic, samples: this.rates.samples(row.topic, "") })));
  }

  private makeRow(config: TopicConfig): TopicRow {
    const topic = config.topic;
    const cells = {} as Record<Column, HTMLTableCellElement>;
    for (const col of [...COLUMNS, "error"] as const) {
      cells[col] = h("td", { "data-col": col, class: col === "error" ? "row-error" : NUMERIC.has(col) ? "num" : null });
    }
    cells.rate.textContent = "…";
    const link = (label: string, title: string, action: () => void, testId?: string) =>
      h("button", { class: "link", type: "button", title, "data-testid": testId, onclick: action }, label);
    const actions = h(
      "td",
      null,
      link("send", "send a test message", () => this.ctx.go.send(topic)),
      link("search", "search messages by key", () => this.ctx.go.search(topic)),
      link("txns", "pending transactions", () => this.ctx.go.transactions(topic)),
    );
    // Retry and dead-letter topics belong to their group: they go when the group is deleted.
    if (!isSystemTopic(topic)) {
      actions.append(
        link("edit", "change queues, permission or brokers", () => void this.form.open(this.rows.get(topic)?.config ?? config), "topic-edit"),
        link("delete", "delete the topic and its messages", () => void this.remove(topic), "topic-delete"),
      );
    }
    const tr = h(
      "tr",
      { "data-testid": "topic-row", "data-topic": topic },
      h("td", { "data-col": "topic", class: "mono" }, topic),
      ...COLUMNS.map((col) => cells[col]),
      actions,
      cells.error,
    );
    return { topic, config, tr, cells, prev: null };
  }

  private async remove(topic: string): Promise<void> {
    if (!(await this.ctx.confirm(`Delete topic ${topic} and all its messages?`, "Delete topic"))) return;
    clearError(this.error);
    try {
      await this.ctx.admin.deleteTopic(topic);
      this.result.textContent = `deleted ${topic}`;
    } catch (e) {
      showError(this.error, e);
    }
    await this.refresh();
  }

  private visible(topic: string): boolean {
    const filter = this.filter.value.trim().toLowerCase();
    if (!this.system.checked && isSystemTopic(topic)) return false;
    return !filter || topic.toLowerCase().includes(filter);
  }

  private applyFilter(): void {
    let shown = 0;
    for (const row of this.rows.values()) {
      row.tr.hidden = !this.visible(row.topic);
      if (!row.tr.hidden) shown++;
    }
    this.count.textContent = `${shown} of ${this.rows.size} topics`;
  }

  private async refreshStatus(row: TopicRow): Promise<void> {
    let status: TopicStatus;
    try {
      status = await this.ctx.admin.topicStatus(row.topic);
    } catch (e) {
      row.cells.error.textContent = errorText(e);
      row.tr.dataset.statusError = isMQError(e) ? e.code : "ERROR";
      return;
    }
    const now = performance.now();
    let sumMax = 0;
    let sumMin = 0;
    let last = 0;
    let bytes = 0;
    for (const q of status.queues) {
      sumMax += q.maxOffset;
      sumMin += q.minOffset;
      last = Math.max(last, q.lastUpdateTimestamp);
      bytes += q.storageBytes;
    }
    const c = row.cells;
    c.messages.textContent = fmtInt(sumMax - sumMin);
    c.maxOffset.textContent = fmtInt(sumMax);
    c.lastStore.textContent = last ? fmtAgo(last) : "—";
    c.lastStore.title = fmtTime(last);
    c.storage.textContent = fmtBytes(bytes);
    if (row.prev && now > row.prev.at) {
      const rate = Math.max(0, (sumMax - row.prev.sum) / ((now - row.prev.at) / 1000));
      c.rate.textContent = rate.toFixed(1);
      c.rate.dataset.rate = String(rate);
      this.rates.record(row.topic, "", rate, Date.now());
    }
    row.prev = { sum: sumMax, at: now };
    c.error.textContent = "";
    delete row.tr.dataset.statusError;
    row.tr.dataset.loaded = "true";
  }
}
