/**
 * A consumer group's push subscription on the group page: where it delivers, its lag, last
 * delivery, last error and retry backlog per queue, and pause / resume. Hidden for a group
 * without one (the API answers PUSH_SUBSCRIPTION_NOT_FOUND).
 */
import { isMQError, type PushSubscriptionProgress } from "../../../client/index.js";
import type { DashboardContext } from "../context.js";
import { clearError, errorBox, h, noteRow, showError, table } from "../dom.js";
import { fmtAgo, fmtInt, fmtTime } from "../format.js";

export class PushPanel {
  readonly element: HTMLDivElement;
  private group = "";
  private readonly summary = h("div", { class: "muted", "data-testid": "push-summary" });
  private readonly state = h("div", { class: "summary", "data-testid": "push-state" });
  private readonly error = errorBox("push-error");
  private readonly body = h("tbody");
  private readonly toggle = h("button", { type: "button", "data-testid": "push-toggle", onclick: () => void this.togglePaused() }, "Pause");
  private paused = false;

  constructor(private readonly ctx: DashboardContext) {
    this.element = h(
      "div",
      { "data-testid": "push-panel", hidden: true },
      h("h3", null, "Push subscription"),
      this.summary,
      this.state,
      this.toggle,
      this.error,
      table("push-table", ["Broker", "Queue", "Lag", "Retry backlog", "Last delivery", "Last error"], this.body, ["Queue", "Lag", "Retry backlog"]),
    );
  }

  /** Shows `group`'s subscription, or hides the panel when it has none. */
  async refresh(group: string): Promise<void> {
    this.group = group;
    let progress: PushSubscriptionProgress;
    try {
      progress = await this.ctx.admin.getPushSubscription(group);
    } catch (e) {
      if (this.group !== group) return;
      if (isMQError(e) && e.code === "PUSH_SUBSCRIPTION_NOT_FOUND") this.element.hidden = true;
      else showError(this.error, e);
      return;
    }
    if (this.group !== group) return; // another group was selected meanwhile
    this.render(progress);
  }

  private render(p: PushSubscriptionProgress): void {
    const s = p.subscription;
    this.element.hidden = false;
    clearError(this.error);
    this.paused = s.paused;
    this.toggle.textContent = s.paused ? "Resume" : "Pause";
    const target = s.target.type === "webhook" ? `webhook ${s.target.url}` : `service binding ${s.target.binding} (${s.target.call ?? "fetch"})`;
    this.summary.textContent =
      `${s.topic} [${s.expressionType} ${s.expression}] → ${target} · batches of ≤ ${s.maxBatchSize}, ≤ ${s.maxBatchTimeoutMs} ms` +
      `${s.orderly ? " · orderly" : ""} · ${s.maxRetries} retries then %DLQ%${s.group}`;
    this.state.textContent =
      `${s.paused ? "paused · " : ""}lag ${fmtInt(p.lag)} · retry backlog ${fmtInt(p.retryBacklog)} · delivered ${fmtInt(p.delivered)}` +
      ` · dead-lettered ${fmtInt(p.deadLettered)} · last delivery ${p.lastDeliveryAt ? fmtAgo(p.lastDeliveryAt) : "never"}` +
      (p.lastError ? ` · last error ${fmtAgo(p.lastError.at)}: ${p.lastError.message}` : "");
    this.state.dataset.paused = String(s.paused);
    this.state.dataset.lag = String(p.lag);
    const rows = p.queues.map((q) =>
      h(
        "tr",
        { "data-testid": "push-row" },
        h("td", null, q.messageQueue.brokerName),
        h("td", { class: "num" }, String(q.messageQueue.queueId)),
        h("td", { class: "num" }, q.lag === undefined ? "—" : fmtInt(q.lag)),
        h("td", { class: "num" }, q.retryBacklog === undefined ? "—" : fmtInt(q.retryBacklog)),
        h("td", { title: fmtTime(q.lastDeliveryAt ?? null) }, q.lastDeliveryAt ? fmtAgo(q.lastDeliveryAt) : "—"),
        h("td", { title: q.lastError ? fmtTime(q.lastError.at) : "" }, q.lastError?.message ?? "—"),
      ),
    );
    this.body.replaceChildren(...(rows.length ? rows : [noteRow(6, "the topic has no readable queues")]));
  }

  private async togglePaused(): Promise<void> {
    const group = this.group;
    try {
      if (this.paused) await this.ctx.admin.resumePushSubscription(group);
      else await this.ctx.admin.pausePushSubscription(group);
    } catch (e) {
      showError(this.error, e);
      return;
    }
    await this.refresh(group);
  }
}
