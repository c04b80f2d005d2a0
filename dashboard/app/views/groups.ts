/**
 * Consumer groups: every group that has had members, with members, generation and total lag,
 * refreshed on the page's timer; a row (or the form) opens the group's detail.
 */
import type { DashboardContext, View } from "../context.js";
import { clearError, errorBox, h, onSubmit, setDatalist, showError, table } from "../dom.js";
import { byKey, errorText, fmtAgo, fmtInt, fmtTime, plural } from "../format.js";
import { LagHistory } from "../lag-history.js";
import { forEachLimited, VIEW_CONCURRENCY } from "../pool.js";
import { GroupDetail } from "./group-detail.js";

const COLUMNS = ["lastSeen", "members", "generation", "totalLag", "error"] as const;
type Column = (typeof COLUMNS)[number];

interface GroupRow {
  group: string;
  tr: HTMLTableRowElement;
  cells: Record<Column, HTMLTableCellElement>;
}

export class GroupsView implements View {
  readonly name = "groups";
  readonly label = "Consumer groups";
  readonly section: HTMLElement;
  private readonly rows = new Map<string, GroupRow>();
  private readonly history: LagHistory;
  private readonly detail: GroupDetail;
  private readonly nameInput = h("input", {
    "data-testid": "group-name",
    list: "group-list",
    placeholder: "consumer group",
    "aria-label": "consumer group",
    required: true,
  });
  private readonly topicInput = h("input", { "data-testid": "group-topic", list: "topic-list", placeholder: "topic (optional)", "aria-label": "topic" });
  private readonly count = h("span", { class: "muted", "data-testid": "groups-count" });
  private readonly result = h("span", { class: "ok", "data-testid": "groups-result" });
  private readonly error = errorBox("groups-error");
  private readonly body = h("tbody");

  constructor(private readonly ctx: DashboardContext) {
    // The list and the open detail both read a group's lag in one refresh: one sample.
    this.history = new LagHistory({ mergeWithinMs: ctx.refreshMs / 2 });
    this.detail = new GroupDetail(ctx, this.history, (group, topics) => {
      this.result.textContent = `deleted ${group}${topics.length ? ` with ${topics.join(", ")}` : ""}`;
      void this.refresh();
    });
    const form = h(
      "form",
      { "data-testid": "group-form" },
      this.nameInput,
      this.topicInput,
      h("button", { type: "submit", class: "primary", "data-testid": "group-show" }, "Show"),
      h("button", { type: "button", "data-testid": "groups-refresh", onclick: () => void this.refresh() }, "Refresh"),
      this.count,
      this.result,
    );
    onSubmit(form, () => {
      const group = this.nameInput.value.trim();
      if (group) this.select(group, this.topicInput.value.trim());
    });
    this.section = h(
      "section",
      { "data-view": this.name, "data-testid": "view-groups" },
      form,
      this.error,
      table("groups-table", ["Group", "Last seen", "Members", "Generation", "Total lag", ""], this.body, ["Members", "Generation", "Total lag"]),
      this.detail.element,
    );
  }

  async refresh(): Promise<void> {
    await Promise.all([this.refreshList(), this.detail.refresh()]);
  }

  private select(group: string, topic: string): void {
    this.nameInput.value = group;
    this.topicInput.value = topic;
    this.result.textContent = "";
    for (const row of this.rows.values()) row.tr.classList.toggle("selected", row.group === group);
    this.detail.select({ group, topic });
  }

  private makeRow(group: string): GroupRow {
    const cells = {} as Record<Column, HTMLTableCellElement>;
    for (const col of COLUMNS) cells[col] = h("td", { "data-col": col, class: col === "lastSeen" ? null : col === "error" ? "row-error" : "num" });
    const tr = h(
      "tr",
      { "data-testid": "group-row", "data-group": group, class: "clickable", onclick: () => this.select(group, "") },
      h("td", { "data-col": "group", class: "mono" }, group),
      ...COLUMNS.map((col) => cells[col]),
    );
    return { group, tr, cells };
  }

  private async refreshList(): Promise<void> {
    let groups: { group: string; lastSeenAt: number }[];
    try {
      groups = await this.ctx.admin.listGroups();
      clearError(this.error);
    } catch (e) {
      showError(this.error, e);
      return;
    }
    groups.sort(byKey((g) => g.group));
    setDatalist(
      this.ctx.groupList,
      groups.map((g) => g.group),
    );
    const seen = new Set<string>();
    const selected = this.detail.selected?.group;
    for (const g of groups) {
      seen.add(g.group);
      let row = this.rows.get(g.group);
      if (!row) {
        row = this.makeRow(g.group);
        this.rows.set(g.group, row);
      }
      row.cells.lastSeen.textContent = fmtAgo(g.lastSeenAt);
      row.cells.lastSeen.title = fmtTime(g.lastSeenAt);
      row.tr.classList.toggle("selected", selected === g.group);
      this.body.append(row.tr);
    }
    for (const [group, row] of this.rows) {
      if (seen.has(group)) continue;
      row.tr.remove();
      this.rows.delete(group);
    }
    this.count.textContent = plural(groups.length, "group");
    const admin = this.ctx.admin;
    await forEachLimited([...this.rows.values()], VIEW_CONCURRENCY, async (row) => {
      const [info, progress] = await Promise.allSettled([admin.groupInfo(row.group), admin.consumerProgress(row.group)]);
      const errors: string[] = [];
      if (info.status === "fulfilled") {
        row.cells.members.textContent = String(info.value.members.length);
        row.cells.generation.textContent = String(info.value.generation);
      } else errors.push(errorText(info.reason));
      if (progress.status === "fulfilled") {
        row.cells.totalLag.textContent = fmtInt(progress.value.totalLag);
        this.history.record(row.group, "", progress.value.totalLag, Date.now());
      } else errors.push(errorText(progress.reason));
      row.cells.error.textContent = errors.join("; ");
    });
  }
}
