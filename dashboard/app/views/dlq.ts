/** Dead letters: a consumer group's dead-letter queue, and resending chosen messages to their topic. */
import type { MessageExt } from "../../../client/index.js";
import type { DashboardContext, View } from "../context.js";
import { clearError, errorBox, h, noteRow, onSubmit, showError } from "../dom.js";
import { bodyPreview, fmtTime, plural } from "../format.js";

export class DlqView implements View {
  readonly name = "dlq";
  readonly label = "Dead letters";
  readonly section: HTMLElement;
  private readonly group = h("input", {
    "data-testid": "dlq-group",
    list: "group-list",
    placeholder: "consumer group",
    "aria-label": "consumer group",
    required: true,
  });
  private readonly max = h("input", { "data-testid": "dlq-max", type: "number", min: 1, max: 1000, value: 50, class: "narrow" });
  private readonly all = h("input", { type: "checkbox", "data-testid": "dlq-all", "aria-label": "select all" });
  private readonly resendResult = h("span", { class: "ok", "data-testid": "dlq-resend-result" });
  private readonly error = errorBox("dlq-error");
  private readonly summary = h("div", { class: "summary muted", "data-testid": "dlq-summary" });
  private readonly body = h("tbody");
  private picks: HTMLInputElement[] = [];

  constructor(private readonly ctx: DashboardContext) {
    const form = h(
      "form",
      { "data-testid": "dlq-form" },
      this.group,
      h("label", null, "max ", this.max),
      h("button", { type: "submit", class: "primary", "data-testid": "dlq-load" }, "Load"),
      h("button", { type: "button", "data-testid": "dlq-resend", onclick: () => void this.resend() }, "Resend selected"),
      this.resendResult,
    );
    onSubmit(form, () => this.load());
    this.all.addEventListener("change", () => {
      for (const pick of this.picks) pick.checked = this.all.checked;
    });
    const headers = ["offsetMsgId", "msgId", "Original topic", "Tags", "Keys", "Reconsumed", "Stored", "Body"];
    this.section = h(
      "section",
      { "data-view": this.name, "data-testid": "view-dlq" },
      form,
      this.error,
      this.summary,
      h(
        "table",
        { "data-testid": "dlq-table" },
        h("thead", null, h("tr", null, h("th", null, this.all), ...headers.map((t) => h("th", { class: t === "Reconsumed" ? "num" : null }, t)))),
        this.body,
      ),
    );
  }

  private async load(): Promise<void> {
    const group = this.group.value.trim();
    clearError(this.error);
    if (!group) return showError(this.error, "name a consumer group");
    const maxNum = Math.max(1, Number(this.max.value) || 50);
    this.summary.textContent = "loading…";
    let messages: MessageExt[];
    try {
      messages = await this.ctx.admin.listDlq(group, { maxNum });
    } catch (e) {
      this.picks = [];
      this.body.replaceChildren();
      this.summary.textContent = "";
      return showError(this.error, e);
    }
    this.summary.textContent = `${plural(messages.length, "dead-lettered message")} of ${group}`;
    this.all.checked = false;
    this.picks = messages.map((m) => h("input", { type: "checkbox", value: m.offsetMsgId, "aria-label": `select ${m.offsetMsgId}` }));
    const rows = messages.map((m, i) =>
      h(
        "tr",
        { "data-testid": "dlq-row", "data-offset-msg-id": m.offsetMsgId },
        h("td", null, this.picks[i]),
        h("td", { class: "mono" }, m.offsetMsgId),
        h("td", { class: "mono" }, m.msgId),
        h("td", { class: "mono" }, m.properties.RETRY_TOPIC ?? m.topic),
        h("td", null, m.tags),
        h("td", { class: "mono" }, m.keys.join(" ")),
        h("td", { class: "num" }, String(m.reconsumeTimes)),
        h("td", null, fmtTime(m.storeTimestamp)),
        h("td", { "data-col": "body" }, bodyPreview(m.body, 120)),
      ),
    );
    this.body.replaceChildren(...(rows.length ? rows : [noteRow(9, "the dead-letter queue is empty")]));
  }

  private async resend(): Promise<void> {
    const group = this.group.value.trim();
    clearError(this.error);
    const offsetMsgIds = this.picks.filter((p) => p.checked).map((p) => p.value);
    if (!offsetMsgIds.length) return showError(this.error, "select messages to resend");
    try {
      const r = await this.ctx.admin.resendDlq(group, { offsetMsgIds });
      this.resendResult.textContent = `resent ${r.resent}`;
      this.resendResult.dataset.resent = String(r.resent);
    } catch (e) {
      showError(this.error, e);
    }
  }
}
