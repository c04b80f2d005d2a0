/**
 * Producer groups: every group the server has heard from (a producer polled for transaction
 * checks, a check waited for one, a webhook was set), with what its object knows: polls held
 * open now (about the live producers), the last poll, checks waiting for a producer, and the
 * check-back webhook. A row's "transactions" lists a topic's pending transactions of the group.
 */
import type { DashboardContext, View } from "../context.js";
import { clearError, errorBox, h, showError, table } from "../dom.js";
import { byKey, errorText, fmtAgo, fmtBytes, fmtInt, fmtTime, plural } from "../format.js";
import { forEachLimited, VIEW_CONCURRENCY } from "../pool.js";

const COLUMNS = ["lastSeen", "polls", "lastPoll", "pendingChecks", "webhook"] as const;
type Column = (typeof COLUMNS)[number] | "error";

interface ProducerRow {
  group: string;
  tr: HTMLTableRowElement;
  cells: Record<Column, HTMLTableCellElement>;
}

export class ProducersView implements View {
  readonly name = "producers";
  readonly label = "Producers";
  readonly section: HTMLElement;
  private readonly rows = new Map<string, ProducerRow>();
  private readonly count = h("span", { class: "muted", "data-testid": "producers-count" });
  private readonly error = errorBox("producers-error");
  private readonly body = h("tbody");

  constructor(private readonly ctx: DashboardContext) {
    const headers = ["Producer group", "Listed", "Polling now", "Last poll", "Checks waiting", "Check-back webhook", "", ""];
    this.section = h(
      "section",
      { "data-view": this.name, "data-testid": "view-producers" },
      h(
        "div",
        { class: "bar" },
        h("button", { type: "button", "data-testid": "producers-refresh", onclick: () => void this.refresh() }, "Refresh"),
        this.count,
      ),
      this.error,
      table("producers-table", headers, this.body, ["Polling now", "Checks waiting"]),
      h(
        "p",
        { class: "muted" },
        "Producers send over HTTP without a session, so the server knows a producer group by its transaction check-backs: " +
          "producers polling for them, checks waiting for an answer, or a webhook that answers them.",
      ),
    );
  }

  async refresh(): Promise<void> {
    let groups: { group: string; lastSeenAt: number }[];
    try {
      groups = await this.ctx.admin.listProducerGroups();
      clearError(this.error);
    } catch (e) {
      showError(this.error, e);
      return;
    }
    groups.sort(byKey((g) => g.group));
    const seen = new Set<string>();
    for (const g of groups) {
      seen.add(g.group);
      let row = this.rows.get(g.group);
      if (!row) {
        row = this.makeRow(g.group);
        this.rows.set(g.group, row);
      }
      row.cells.lastSeen.textContent = fmtAgo(g.lastSeenAt);
      row.cells.lastSeen.title = fmtTime(g.lastSeenAt);
      this.body.append(row.tr);
    }
    for (const [group, row] of this.rows) {
      if (seen.has(group)) continue;
      row.tr.remove();
      this.rows.delete(group);
    }
    this.count.textContent = plural(groups.length, "producer group");
    await forEachLimited([...this.rows.values()], VIEW_CONCURRENCY, async (row) => {
      const c = row.cells;
      try {
        const status = await this.ctx.admin.producerGroupStatus(row.group);
        c.polls.textContent = fmtInt(status.parkedPolls);
        c.lastPoll.textContent = fmtAgo(status.lastPollAt);
        c.lastPoll.title = fmtTime(status.lastPollAt);
        c.pendingChecks.textContent = fmtInt(status.pendingChecks);
        c.pendingChecks.title = fmtBytes(status.pendingCheckBytes);
        c.webhook.textContent = status.webhookUrl ?? "—";
        c.error.textContent = "";
        row.tr.dataset.loaded = "true";
      } catch (e) {
        c.error.textContent = errorText(e);
      }
    });
  }

  private makeRow(group: string): ProducerRow {
    const cells = {} as Record<Column, HTMLTableCellElement>;
    for (const col of [...COLUMNS, "error"] as const) {
      const cls = col === "polls" || col === "pendingChecks" ? "num" : col === "webhook" ? "mono" : col === "error" ? "row-error" : null;
      cells[col] = h("td", { "data-col": col, class: cls });
    }
    const tr = h(
      "tr",
      { "data-testid": "producer-row", "data-group": group },
      h("td", { "data-col": "group", class: "mono" }, group),
      ...COLUMNS.map((col) => cells[col]),
      h(
        "td",
        null,
        h(
          "button",
          {
            class: "link",
            type: "button",
            title: "a topic's pending transactions of this group",
            "data-testid": "producer-transactions",
            onclick: () => this.ctx.go.transactions("", group),
          },
          "transactions",
        ),
      ),
      cells.error,
    );
    return { group, tr, cells };
  }
}
