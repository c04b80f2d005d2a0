/**
 * One consumer group in detail: its lag per queue with a chart over time, its members, and
 * the operator's actions on it: reset its offsets on a topic to a time (mqadmin
 * resetOffsetByTime), and delete it once no member is live (mqadmin deleteSubGroup). A group
 * with a push subscription also shows its delivery state, with pause / resume (push-panel.ts).
 */
import type { GroupInfo, GroupProgress } from "../../../client/index.js";
import type { DashboardContext } from "../context.js";
import { clearError, errorBox, h, noteRow, onSubmit, showError, table } from "../dom.js";
import { errorText, fmtAgo, fmtInt, fmtTime, localTimeMs, plural, toLocalInput } from "../format.js";
import type { LagHistory } from "../lag-history.js";
import { queueLabel } from "../queues.js";
import { LagChart } from "./lag-chart.js";
import { PushPanel } from "./push-panel.js";

export interface GroupSelection {
  group: string;
  /** "" for every topic the group subscribes to. */
  topic: string;
}

export class GroupDetail {
  readonly element: HTMLDivElement;
  selected: GroupSelection | null = null;
  private seq = 0;
  private readonly title = h("h2", { "data-testid": "group-title" });
  private readonly meta = h("div", { class: "muted", "data-testid": "group-meta" });
  private readonly error = errorBox("group-error");
  private readonly totalLag = h("b", { "data-testid": "group-total-lag" });
  private readonly chart = new LagChart();
  private readonly lagBody = h("tbody");
  private readonly membersBody = h("tbody");
  private readonly resetTopic = h("input", {
    list: "topic-list",
    placeholder: "topic",
    "aria-label": "topic to reset",
    required: true,
    "data-testid": "group-reset-topic",
  });
  private readonly resetTime = h("input", { type: "datetime-local", step: 1, required: true, "aria-label": "reset to", "data-testid": "group-reset-time" });
  private readonly opResult = h("span", { class: "ok", "data-testid": "group-op-result" });
  private readonly push: PushPanel;

  constructor(
    private readonly ctx: DashboardContext,
    private readonly history: LagHistory,
    /** Called after the group was deleted. */
    private readonly deleted: (group: string, topicsDeleted: readonly string[]) => void,
  ) {
    const resetForm = h(
      "form",
      { "data-testid": "group-reset-form" },
      h(
        "fieldset",
        null,
        h("legend", null, "reset offset by time"),
        this.resetTopic,
        h("label", null, "to ", this.resetTime),
        h("button", { type: "submit", "data-testid": "group-reset-submit" }, "Reset offset"),
        h("button", { type: "button", class: "danger", "data-testid": "group-delete", onclick: () => void this.remove() }, "Delete group"),
      ),
    );
    onSubmit(resetForm, () => this.resetOffset());
    this.push = new PushPanel(ctx);
    const lagHeaders = ["Topic", "Broker", "Queue", "Broker offset", "Consumer offset", "Lag", "Last store"];
    this.element = h(
      "div",
      { "data-testid": "group-detail", hidden: true },
      this.title,
      this.meta,
      this.error,
      resetForm,
      this.opResult,
      h("h3", null, "Lag"),
      h("div", { class: "summary" }, "Total lag: ", this.totalLag),
      this.chart.element,
      table("lag-table", lagHeaders, this.lagBody, ["Queue", "Broker offset", "Consumer offset", "Lag"]),
      this.push.element,
      h("h3", null, "Members"),
      table("members-table", ["Client id", "Model", "Subscriptions", "Queues", "Last heartbeat"], this.membersBody, ["Queues"]),
    );
  }

  select(selection: GroupSelection): void {
    this.selected = selection;
    const { group, topic } = selection;
    this.element.hidden = false;
    this.title.textContent = group + (topic ? `  ·  topic ${topic}` : "");
    this.element.dataset.group = group;
    this.membersBody.replaceChildren();
    this.lagBody.replaceChildren();
    this.totalLag.textContent = "…";
    this.meta.textContent = "";
    this.opResult.textContent = "";
    clearError(this.error);
    this.resetTopic.value = topic;
    this.resetTime.value = toLocalInput(Date.now());
    this.chart.render(this.history.samples(group, topic));
    void this.refresh();
  }

  hide(): void {
    this.selected = null;
    this.element.hidden = true;
    delete this.element.dataset.group;
  }

  async refresh(): Promise<void> {
    if (!this.selected) return;
    const { group, topic } = this.selected;
    const seq = ++this.seq;
    const admin = this.ctx.admin;
    const [info, progress] = await Promise.allSettled([admin.groupInfo(group), admin.consumerProgress(group, topic || undefined), this.push.refresh(group)]);
    if (seq !== this.seq) return; // a newer selection or refresh owns the panel
    const errors: string[] = [];
    if (info.status === "fulfilled") this.renderMembers(info.value);
    else errors.push(errorText(info.reason));
    if (progress.status === "fulfilled") {
      this.renderProgress(progress.value);
      this.chart.render(this.history.record(group, topic, progress.value.totalLag, Date.now()));
    } else errors.push(errorText(progress.reason));
    if (errors.length) showError(this.error, errors.join("\n"));
    else if (this.error.dataset.op === undefined) clearError(this.error);
  }

  private renderMembers(info: GroupInfo): void {
    this.meta.textContent = `generation ${info.generation} · strategy ${info.allocateStrategy} · ${plural(info.members.length, "member")}`;
    if (!this.resetTopic.value) this.resetTopic.value = info.members[0]?.subscriptions[0]?.topic ?? "";
    const rows = info.members.map((m) => {
      const subs = m.subscriptions.map((s) => `${s.topic} [${s.expressionType === "SQL92" ? "SQL92: " : ""}${s.expression}]`).join(", ");
      const assigned = m.assignment.map((q) => `${q.topic}/${queueLabel(q)}`);
      return h(
        "tr",
        { "data-testid": "member-row", "data-client-id": m.clientId },
        h("td", { class: "mono" }, m.clientId),
        h("td", null, m.messageModel),
        h("td", { class: "mono" }, subs),
        h("td", { class: "num", title: assigned.join("\n") }, String(assigned.length)),
        h("td", { title: fmtTime(m.lastHeartbeatAt) }, fmtAgo(m.lastHeartbeatAt)),
      );
    });
    this.membersBody.replaceChildren(...(rows.length ? rows : [noteRow(5, "no live members")]));
  }

  private renderProgress(progress: GroupProgress): void {
    this.totalLag.textContent = fmtInt(progress.totalLag);
    this.totalLag.dataset.value = String(progress.totalLag);
    const sorted = [...progress.queues].sort((a, b) => {
      const x = a.messageQueue;
      const y = b.messageQueue;
      if (x.topic !== y.topic) return x.topic < y.topic ? -1 : 1;
      if (x.brokerName !== y.brokerName) return x.brokerName < y.brokerName ? -1 : 1;
      return x.queueId - y.queueId;
    });
    const rows = sorted.map((q) => {
      const mq = q.messageQueue;
      return h(
        "tr",
        { "data-testid": "lag-row", "data-queue": `${mq.topic}/${queueLabel(mq)}` },
        h("td", { class: "mono" }, mq.topic),
        h("td", null, mq.brokerName),
        h("td", { class: "num" }, String(mq.queueId)),
        h("td", { class: "num", "data-col": "brokerOffset" }, fmtInt(q.brokerOffset)),
        // A POP group's consumer offset is its cursor; what it received and has not acked shows beside it.
        h(
          "td",
          { class: "num", "data-col": "consumerOffset" },
          (q.consumerOffset < 0 ? "none" : fmtInt(q.consumerOffset)) + (q.inflight > 0 ? ` (${fmtInt(q.inflight)} in flight)` : ""),
        ),
        h("td", { class: "num", "data-col": "lag" }, fmtInt(q.lag)),
        h("td", null, q.lastTimestamp ? fmtAgo(q.lastTimestamp) : "—"),
      );
    });
    this.lagBody.replaceChildren(...(rows.length ? rows : [noteRow(7, "no queues (the group subscribes to nothing; name a topic)")]));
  }

  /** Shows the outcome of an operation; its error stays until the next operation or selection. */
  private opFailed(e: unknown): void {
    this.error.dataset.op = "failed";
    showError(this.error, e);
  }

  private opStarted(): void {
    delete this.error.dataset.op;
    clearError(this.error);
    this.opResult.textContent = "";
  }

  private async resetOffset(): Promise<void> {
    if (!this.selected) return;
    const { group } = this.selected;
    this.opStarted();
    const topic = this.resetTopic.value.trim();
    const at = localTimeMs(this.resetTime.value);
    if (!topic || at === null) return this.opFailed("name a topic and a time");
    const question = `Move the offsets of ${group} on ${topic} to the first message stored at or after ${fmtTime(at)}? Live members reload them.`;
    if (!(await this.ctx.confirm(question, "Reset offset"))) return;
    try {
      const r = await this.ctx.admin.resetOffsetByTime(group, topic, at);
      this.opResult.textContent = `reset ${plural(r.offsets.length, "queue")} of ${topic}`;
      this.opResult.dataset.offsets = JSON.stringify(r.offsets.map((o) => [`${o.messageQueue.topic}/${queueLabel(o.messageQueue)}`, o.offset]));
    } catch (e) {
      this.opFailed(e);
    }
    await this.refresh();
  }

  private async remove(): Promise<void> {
    if (!this.selected) return;
    const { group } = this.selected;
    this.opStarted();
    const question = `Delete consumer group ${group} with its retry and dead-letter topics? Its committed offsets stay.`;
    if (!(await this.ctx.confirm(question, "Delete group"))) return;
    try {
      const r = await this.ctx.admin.deleteSubscriptionGroup(group);
      this.hide();
      this.deleted(group, r.topicsDeleted);
    } catch (e) {
      this.opFailed(e);
    }
  }
}
